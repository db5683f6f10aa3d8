/**
 * The verdict rule: a set of mitigations is sufficient when no bad outcome is reachable and the
 * search was complete, insufficient when one is (docs/model.md §Outcomes).
 */
import { BAD_CLASSES, OUTCOME_CLASSES, outcomeClassesOf, type OutcomeClass } from "./outcome";
import type { ExplorationResult, OutcomeResult, Witness } from "./result";

/** One cell of a verdict table. */
export interface VerdictCell {
  /** Column: the architecture variant ("x86-64", "x86-64+FRED", "arm64 IDC=1 DIC=1", ...). */
  arch: string;
  /** Row: the mitigations applied (any names; the empty set is "none"). */
  mitigations: readonly string[];
  /** Facet: the situation ("fresh allocation", "reuse of freed space", ...). */
  situation?: string;
  /** Whether the mitigations rule out every bad outcome; null when not known. */
  sufficient: boolean | null;
  /** Bad outcome classes reached (when insufficient). */
  outcomes?: readonly string[];
  /** A witness of a bad outcome. */
  witness?: Witness;
  /** Where the witness is shown; the cell's mark links to it (plotly.js keeps http(s) links only). */
  href?: string;
  /** Extra hover text, e.g. the cost of the subset. */
  note?: string;
}

/** A verdict: sufficient, insufficient, or unknown (incomplete search). */
export type VerdictClass = "sufficient" | "insufficient" | "unknown";

/**
 * Whether outcome class `c` counts as bad in `result`: one of `bad` (BAD_CLASSES unless told
 * otherwise) that the scenario does not declare handled (ScenarioSpec.handled).
 */
export function isBad(
  result: Pick<ExplorationResult, "handled">,
  c: string,
  bad: readonly string[] = BAD_CLASSES,
): boolean {
  return bad.includes(c) && !(result.handled ?? []).includes(c);
}

/**
 * The outcome classes of one outcome: named by any of its values, or with `reg` by that
 * register's value alone (a hang of the scenario counts for every register).
 */
export function classesOfOutcome(o: OutcomeResult, reg?: string): OutcomeClass[] {
  if (reg === undefined) return outcomeClassesOf(o.values, o.key);
  return outcomeClassesOf({ [reg]: o.values[reg] ?? "" }, o.values.hang ? "hang" : "");
}

/** Bad outcome classes of one outcome (of register `reg` alone when given). */
export function badClasses(
  o: OutcomeResult,
  bad: readonly string[] = BAD_CLASSES,
  reg?: string,
): OutcomeClass[] {
  return classesOfOutcome(o, reg).filter((c) => bad.includes(c));
}

/**
 * A verdict cell computed from an exploration: insufficient when a bad outcome is reachable
 * (with the shortest such witness), sufficient when none is and the exploration was complete,
 * unknown otherwise. With `cell.reg`, only that register's outcome classes count (as badOf()).
 */
export function verdictOf(
  result: ExplorationResult,
  cell: {
    arch?: string;
    mitigations: readonly string[];
    situation?: string;
    href?: string;
    note?: string;
    /** Count the classes of this register only ("1:r0"); default: every value of an outcome. */
    reg?: string;
  },
  bad: readonly string[] = BAD_CLASSES,
): VerdictCell {
  const counted = bad.filter((c) => isBad(result, c, bad));
  const bads = result.outcomes
    .map((o) => ({ o, classes: badClasses(o, counted, cell.reg) }))
    .filter((x) => x.classes.length > 0)
    .sort((a, b) => a.o.witness.steps.length - b.o.witness.steps.length);
  const reached = new Set<string>(bads.flatMap((x) => x.classes));
  const outcomes = OUTCOME_CLASSES.filter((c) => reached.has(c));
  return {
    arch: cell.arch ?? result.arch,
    mitigations: cell.mitigations,
    situation: cell.situation,
    sufficient: bads.length > 0 ? false : result.stats.complete ? true : null,
    outcomes,
    witness: bads[0]?.o.witness,
    href: cell.href,
    note: cell.note,
  };
}

/** A verdict cell's class: sufficient, insufficient, or unknown (incomplete search). */
export function verdictClass(c: VerdictCell): VerdictClass {
  return c.sufficient === null ? "unknown" : c.sufficient ? "sufficient" : "insufficient";
}
