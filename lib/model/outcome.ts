/**
 * How a run ended: the outcome classes a call register or a whole scenario reaches, and herd7's
 * observations of a final condition (docs/model.md §Outcomes).
 */

/**
 * What a call register receives, in the machine's encoding order (callResultText): the newest
 * version ran, an older one, a trap, a mix, a fault, an oops, or an arm64 unpredictable fetch.
 */
export const RESULT_CLASSES = [
  "new",
  "stale",
  "trap",
  "torn",
  "fault",
  "unpredictable",
  "oops",
] as const;

/** One of RESULT_CLASSES. */
export type CallResultClass = (typeof RESULT_CLASSES)[number];

/** How a run of a function ended: a call result, or a spurious fault taken before it. */
export type RunClass = CallResultClass | "spurious-fault";

/** How a run, or a whole scenario, ended: a run class, or a CPU that can never finish. */
export type OutcomeClass = RunClass | "hang";

/** Every outcome class, in the order tables and figures list them. */
export const OUTCOME_CLASSES: readonly OutcomeClass[] = [
  "new",
  "stale",
  "trap",
  "torn",
  "fault",
  "oops",
  "spurious-fault",
  "unpredictable",
  "hang",
];

/**
 * Classes in which the intended code did not run: other code, a fault delivered (on kernel text
 * an oops), or a CPU that cannot proceed. A scenario may declare some handled (HANDLEABLE_CLASSES,
 * ScenarioSpec.handled); verdicts then leave them out (docs/model.md §Outcomes).
 */
export const BAD_CLASSES: readonly OutcomeClass[] = [
  "stale",
  "trap",
  "torn",
  "fault",
  "oops",
  "unpredictable",
  "hang",
];

/** Outcome classes a scenario may declare handled: the caller expects the fault and recovers. */
export const HANDLEABLE_CLASSES: readonly OutcomeClass[] = ["fault", "oops"];

/**
 * The outcome classes named by an outcome's values ("1:r0" -> "stale", "spurious-fault+new"),
 * in the order of OUTCOME_CLASSES.
 */
export function outcomeClassesOf(values: Record<string, string>, key = ""): OutcomeClass[] {
  const found = new Set<string>();
  for (const v of Object.values(values)) {
    found.add(v);
    for (const part of v.split(/[+,;\s]+/)) found.add(part);
  }
  // The explorer names hung CPUs under "hang" ("P1,P2").
  if (values.hang || /\bhang\b/.test(key)) found.add("hang");
  return OUTCOME_CLASSES.filter((c) => found.has(c));
}

/** herd7's words for how often the final condition holds over all executions. */
export type Observation = "Never" | "Sometimes" | "Always";

/** Every observation, from never to always. */
export const OBSERVATIONS: readonly Observation[] = ["Never", "Sometimes", "Always"];
