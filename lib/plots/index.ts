export * from "./figure";
export * from "./colors";
export * from "./compose";
export * from "./residency";
export * from "./fragmentation";
export * from "./latency";
export * from "./verdict";
export * from "./outcomes";
