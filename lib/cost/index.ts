export * from "./constants";
export * from "./strategies";
export * from "./model";
export * from "./mitigations";
