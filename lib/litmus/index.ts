export * from "./parse";
export * from "./insn";
export * from "./translate";
export * from "./run";
export * from "./agree";
