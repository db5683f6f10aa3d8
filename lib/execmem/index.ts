export * from "./types";
export * from "./effects";
export * from "./setup";
export { MODULE_SIZES } from "./data/module-sizes";
export * from "./vmap";
export * from "./physmem";
export * from "./execmem";
export * from "./workload";
export * from "./scenario";
