/**
 * Questions asked of exploration results (plain functions over lib/model/result.ts): which
 * values a register reached, which outcome classes, the shortest witness of a bad one.
 */
import { table, type SelfDisplaying } from "../display";
import {
  OUTCOME_CLASSES,
  classesOfOutcome,
  isBad,
  outcomeClassesOf,
  type ExplorationResult,
  type OutcomeClass,
  type OutcomeResult,
  type Witness,
} from "../model";

const badFor = (r: ExplorationResult) => (c: OutcomeClass) => isBad(r, c);

/** The values a register took over every outcome of an exploration, sorted. */
export function valuesOf(r: ExplorationResult, reg = "1:r0"): string[] {
  return [...new Set(r.outcomes.map((o) => o.values[reg]).filter((v) => v !== undefined))].sort();
}

/** Outcome classes one register reached (a hang of the scenario counts for every register). */
export function classesOf(r: ExplorationResult, reg = "1:r0"): OutcomeClass[] {
  const found = new Set<OutcomeClass>();
  for (const o of r.outcomes) for (const c of classesOfOutcome(o, reg)) found.add(c);
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
