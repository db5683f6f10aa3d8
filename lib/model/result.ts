/**
 * What an exploration returns: residency, witnesses, outcomes, statistics. Plain data: the
 * plots, the notebooks and the CLI read it; nothing in here refers back to the machine.
 */
import type { Observation } from "./outcome";

/** One structure of a CPU whose content the residency chart draws. */
export type Structure = "pipeline" | "icache" | "dcache" | "tlb";

/** What one structure of one CPU holds for one line (or one page, for the TLB). */
export interface ResidencyCell {
  cpu: number;
  structure: Structure;
  /** Line name such as "f+0" (region f, line 0) or page name for the TLB. */
  line: string;
  /** Version held: a version name ("old", "new", "trap", ...), "fault", or a PTE such as "RX". */
  version: string;
  /**
   * The versions of the line's code region, oldest → newest (the last is the one being
   * published); absent for TLB cells.
   */
  order?: readonly string[];
}

/**
 * A structure a witness step changes, in the machine's names: a CPU's residency structures,
 * memory (data and code), page-table entries, the point of unification, registers.
 */
export type DiffStructure = Structure | "memory" | "pte" | "pou" | "register";

/** One change a witness step made: what `structure` held for `line` before and after. */
export interface WitnessDiff {
  structure: DiffStructure;
  /** The CPU whose structure changed; -1 for memory, page-table entries and the PoU. */
  cpu: number;
  /** A code line ("f+0"), data location, page-table entry, page (TLB) or register name. */
  line: string;
  /** Content before, named as residency cells name it ("old", "old|new", "RX", "1"); null: none. */
  from: string | null;
  /** Content after; null: nothing held. */
  to: string | null;
  /** For code content: the versions of the line's region, oldest → newest. */
  order?: readonly string[];
}

/** One step of a witness trace. */
export interface WitnessStep {
  step: number;
  /** CPU that took the step. */
  cpu: number;
  /** "program" for a step of the CPU's program, "hardware" for a transition taken on its own. */
  kind: "program" | "hardware";
  /** The action in the kernel's words, e.g. "IC IVAU f+0", "speculative fetch f+0", "drain x=1". */
  action: string;
  /** What it changed. */
  changes: WitnessDiff[];
  /** The same in words, e.g. "pipeline[1] f+0: - -> old; tlb[1] f: - -> RX". */
  effect: string;
  /** True for synchronisation events (serialising, ISB, fence.i, IPI, TLB flush, DSB ...). */
  sync: boolean;
  /** Residency after this step. */
  residency: ResidencyCell[];
}

export interface Witness {
  steps: WitnessStep[];
  /** Residency of the initial state (before step 1). */
  initial: ResidencyCell[];
  /** The lines (rows) the residency charts should show, in a stable order. */
  lines: string[];
  cpus: number;
}

export interface OutcomeResult {
  /** Canonical text of the outcome, e.g. "1:r0=stale". */
  key: string;
  /** Observed values: "1:r0" -> "stale", "x" -> "1". */
  values: Record<string, string>;
  /**
   * Number of distinct final machine states with this outcome (a sample: of walks that ended in
   * it, or with symmetry in a permutation of it over the symmetric CPUs).
   */
  count: number;
  /** True when the scenario's final condition holds for this outcome. */
  satisfies: boolean | null;
  /** One shortest witness. */
  witness: Witness;
}

export interface ExplorationStats {
  states: number;
  transitions: number;
  finalStates: number;
  ms: number;
  statesPerSecond: number;
  /** True when every reachable state was visited (no bound hit). */
  complete: boolean;
  /** Why exploration stopped early, when it did. */
  stoppedBy?: "states" | "time" | "memory" | "sample" | "expansion";
  /** The bound that stopped it, in words ("the state limit of 5 states"), when it stopped early. */
  limit?: string;
  reduction: string;
}

export interface ExplorationResult {
  scenario: string;
  arch: string;
  outcomes: OutcomeResult[];
  stats: ExplorationStats;
  /** Final condition text as written ("exists (1:r0=stale)"), or null. */
  condition: string | null;
  /**
   * herd7-style observation of the condition over all executions; null without a condition or
   * when the search was incomplete (a bound or sampling): no verdict from a partial search.
   */
  observation: Observation | null;
  /** The file's stated expectation (Result: line), if any, and whether the run matched it. */
  expected: Observation | null;
  matchesExpectation: boolean | null;
  /** Outcome classes the scenario declares handled (not bad in verdicts), e.g. ["fault"]. */
  handled?: string[];
}
