export const CLIENT_NAME = "ferry";
