/**
 * Questions asked of exploration results (plain functions over lib/explorer/result.ts): which
 * values a register reached, which outcome classes, the shortest witness of a bad one.
 */
import { table, type SelfDisplaying } from "../display";
import type { ExplorationResult, OutcomeResult, Witness } from "./result";

/** How a run, or a whole scenario, ended (MODEL.md "Outcome of running a function"). */
export type OutcomeClass =
  | "new"
  | "stale"
  | "trap"
  | "torn"
  | "fault"
  | "oops"
  | "spurious-fault"
  | "unpredictable"
  | "hang";

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
 * an oops), or a CPU that cannot proceed. A scenario may declare "fault" or "oops" handled
 * (ScenarioSpec.handled); badOf() then leaves them out.
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

const badFor = (r: ExplorationResult) => (c: OutcomeClass) =>
  BAD_CLASSES.includes(c) && !(r.handled ?? []).includes(c);

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

/** The values a register took over every outcome of an exploration, sorted. */
export function valuesOf(r: ExplorationResult, reg = "1:r0"): string[] {
  return [...new Set(r.outcomes.map((o) => o.values[reg]).filter((v) => v !== undefined))].sort();
}

/** Outcome classes one register reached (a hang of the scenario counts for every register). */
export function classesOf(r: ExplorationResult, reg = "1:r0"): OutcomeClass[] {
  const found = new Set<OutcomeClass>();
  for (const o of r.outcomes)
    for (const c of outcomeClassesOf({ [reg]: o.values[reg] ?? "" }, o.values.hang ? "hang" : ""))
      found.add(c);
  return OUTCOME_CLASSES.filter((c) => found.has(c));
}

/** The bad classes (code other than the intended version ran) a register reached. */
export function badOf(r: ExplorationResult, reg = "1:r0"): OutcomeClass[] {
  return classesOf(r, reg).filter(badFor(r));
}

/** The outcome with the shortest witness among those whose register satisfies `pred`. */
export function shortestWhere(
  r: ExplorationResult,
  pred: (v: string) => boolean,
  reg = "1:r0",
): OutcomeResult | undefined {
  return r.outcomes
    .filter((o) => o.values[reg] !== undefined && pred(o.values[reg]))
    .sort((a, b) => a.witness.steps.length - b.witness.steps.length)[0];
}

/** The shortest witness of a bad outcome of the register, if any. */
export function badWitness(r: ExplorationResult, reg = "1:r0"): OutcomeResult | undefined {
  return shortestWhere(r, (v) => outcomeClassesOf({ x: v }).some(badFor(r)), reg);
}

/** One row per exploration: what a register ran, states, completeness. */
export function resultRow(r: ExplorationResult, reg = "1:r0"): Record<string, string | number> {
  return {
    scenario: r.scenario,
    arch: r.arch,
    [`${reg} reached`]: valuesOf(r, reg).join(", "),
    "bad reached": badOf(r, reg).join(", ") || "none",
    states: r.stats.states,
    complete: r.stats.complete ? "yes" : `no (${r.stats.stoppedBy})`,
  };
}

/** A witness as a table: step, CPU, program step or hardware, action, effect, synchronising. */
export function stepsTable(w: Witness, caption = "witness"): SelfDisplaying {
  return table(
    w.steps.map((s) => ({
      step: s.step,
      cpu: s.kind === "hardware" ? (s.cpu < 0 ? "hw" : `hw (cpu${s.cpu})`) : `cpu${s.cpu}`,
      action: s.action,
      effect: s.effect,
      sync: s.sync ? "sync" : "",
    })),
    caption,
  );
}
