export * from "./frame";
export * from "./version";
export * from "./session";
export * from "./events";
export * from "./errors";
export * from "./requests";
export * from "./replies";
export * from "./messages";
