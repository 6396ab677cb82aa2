export { createStreamLogger, type LogFormat, type Logger, type LogLevel, silentLogger } from "./log.js";
export { DEFAULTS, type ServerOptions } from "./options.js";
export { type FerryServer, startServer } from "./server.js";
export { STAGING_DIR } from "./storage/path.js";
export type { Storage, StoragePath, Upload, UploadSpec } from "./storage/storage.js";
export { SERVER_NAME, SERVER_VERSION } from "./version.js";
