export const version = "0.1.0";
export * from "./model";
export * from "./display";
export * from "./execmem";
export * from "./arch";
export * from "./scenario/spec";
export * from "./scenario/builder";
export * from "./scenario/condition";
export { compile } from "./machine/layout";
export { Machine, callResultText, diffText } from "./machine/machine";
export { explore, witness, type ExploreOptions } from "./explorer/explore";
export {
  bfs,
  randomWalks,
  sampleWalks,
  MAX_SAMPLE_RUNS,
  StateStore,
  type SampleBounds,
  type Bounds,
  type Progress,
  type TransitionSystem,
} from "./explorer/engine";
export * from "./plots";
export * from "./scenario/format";
export * from "./cost";
export * from "./scenario/measures";
export { exploreMany, type SweepOptions } from "./explorer/sweep";
export * from "./litmus";
export * from "./explorer/query";
/** The outcome classes verdicts count bad unless told otherwise: BAD_CLASSES under its older name. */
export { BAD_CLASSES as DEFAULT_BAD } from "./model";
