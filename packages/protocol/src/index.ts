export * from "./errors.js";
export { drained, encodeFrame, writeDataFrame, writeFrame } from "./frame/encoder.js";
export { FrameParser, type ParseEvent, type ParserOptions } from "./frame/parser.js";
export { type Frame, FrameReader } from "./frame/reader.js";
export { OffThreadDigest } from "./hash/off-thread-digest.js";
export * from "./hash.js";
export * from "./limits.js";
export * from "./messages.js";
export * as validate from "./validate.js";
