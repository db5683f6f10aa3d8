export const version = "0.1.0";
export * from "./execmem";
export * from "./plots";
export * from "./scenario/format";
export * from "./display";
