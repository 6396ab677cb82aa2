export const SERVER_NAME = "ferryd";
