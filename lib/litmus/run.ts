/**
 * Running a herd7 litmus test on the machine (translate.ts + explore()) and reporting the result
 * the way herd7 does: the final states over the names the condition reads, `Ok`/`No`, the
 * witnesses count, `Observation NAME Never|Sometimes|Always p q` and the time.
 */
import { explore, type ExploreOptions } from "../explorer/explore";
import type { ExplorationResult, Observation, Witness } from "../model";
import { evalCondition, parseCondition } from "../scenario/condition";
import { loadLitmus, parseLitmus, type LitmusTest } from "./parse";
import { translate, type TranslateOptions } from "./translate";
import type { Translation } from "./translation";

export interface LitmusState {
  /** Observed values, herd7 style: "1:X0" -> "2", "1:X1" -> 'instr:"B .+12"', "x" -> "1". */
  values: Record<string, string>;
  /** True when the condition's predicate holds (the part after exists/~exists/forall). */
  satisfies: boolean;
  /** Machine final states with these values. */
  count: number;
  /** One shortest execution reaching these values (when witnesses are requested). */
  witness?: Witness;
  /** Per-CPU marks the machine reports besides registers (fault, unpredictable). */
  marks?: string[];
}

export interface LitmusResult {
  file: string;
  name: string;
  arch: string;
  /** herd7's kind: Allowed (exists), Forbidden (~exists), Required (forall). */
  kind: "Allowed" | "Forbidden" | "Required";
  condition: string;
  /** Distinct final states projected on the names the condition reads. */
  states: LitmusState[];
  /** herd7 "Ok"/"No": the test's claim validated; null when the exploration was incomplete. */
  ok: boolean | null;
  /** "Ok", "No", or "Undetermined" when a bound stopped the exploration (no verdict then). */
  verdict: "Ok" | "No" | "Undetermined";
  /** Number of final states satisfying / not satisfying the predicate. */
  positive: number;
  negative: number;
  /** Whether the predicate is reachable; null when the exploration was incomplete. */
  observation: Observation | null;
  complete: boolean;
  /** The bound that stopped an incomplete exploration, in words. */
  limit?: string;
  /** Wall time of translation + exploration, in seconds. */
  time: number;
  /** Things herd7 accepts that are likely mistakes, each with the condition's position. */
  warnings: { message: string; line: number; column: number }[];
  machine: { states: number; transitions: number; finalStates: number; reduction: string };
}

export interface LitmusOptions extends ExploreOptions, TranslateOptions {
  /** Keep one shortest witness per final state (default false: faster). */
  witnesses?: boolean;
}

/** Parses, translates and runs a litmus test given as text. */
export function runLitmusText(
  text: string,
  file = "<litmus>",
  opts: LitmusOptions = {},
): LitmusResult {
  return runLitmusTest(parseLitmus(text, file), opts);
}

/** Reads, translates and runs a litmus file. */
export function runLitmus(path: string, opts: LitmusOptions = {}): LitmusResult {
  return runLitmusTest(loadLitmus(path), opts);
}

/**
 * Translate and explore a parsed litmus test; the result in herd7's terms (states, the
 * condition's Ok/No, positive and negative witness counts) and the time taken in seconds.
 * @throws {LitmusError} as {@link translate} does.
 */
export function runLitmusTest(test: LitmusTest, opts: LitmusOptions = {}): LitmusResult {
  const t0 = performance.now();
  const tr = translate(test, { decodeEncodings: opts.decodeEncodings, cacheType: opts.cacheType });
  const r = explore(tr.spec, { ...opts, witnesses: !!opts.witnesses, progress: opts.progress });
  return herdResult(test, tr, r, (performance.now() - t0) / 1000);
}

/** Projects the explorer's outcomes onto the condition's names, herd7 style. */
export function herdResult(
  test: Pick<LitmusTest, "file" | "name"> & { condition: { text: string } },
  tr: Translation,
  r: ExplorationResult,
  seconds: number,
): LitmusResult {
  const cond = parseCondition(tr.condition);
  const show = (v: string) => (v in tr.instructions ? `instr:"${tr.instructions[v]}"` : v);
  const byKey = new Map<string, LitmusState>();
  for (const o of r.outcomes) {
    const values: Record<string, string> = {};
    for (const n of tr.observed) values[n] = o.values[n] ?? "?";
    const satisfies = evalCondition(cond.expr, o.values);
    const marks = Object.keys(o.values).filter(
      (k) => /^\d+:(fault|unpredictable)$/.test(k) || k === "hang",
    );
    const key =
      tr.observed.map((n) => `${n}=${values[n]}`).join("; ") +
      (marks.length ? ` [${marks.join(",")}]` : "");
    const shown: Record<string, string> = {};
    for (const n of tr.observed) shown[herdName(n)] = show(values[n]);
    const prev = byKey.get(key);
    if (prev) prev.count += o.count;
    else
      byKey.set(key, {
        values: shown,
        satisfies,
        count: o.count,
        ...(o.witness.steps.length ? { witness: o.witness } : {}),
        ...(marks.length ? { marks } : {}),
      });
  }
  const states = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s);
  const positive = states.filter((s) => s.satisfies).length;
  const negative = states.length - positive;
  const q = cond.quantifier;
  const claim = q === "exists" ? positive > 0 : q === "~exists" ? positive === 0 : negative === 0;
  // No verdict from a partial search: states not visited could change either count.
  const complete = r.stats.complete;
  const ok = complete ? claim : null;
  return {
    file: test.file,
    name: test.name,
    arch: tr.arch,
    kind: q === "exists" ? "Allowed" : q === "~exists" ? "Forbidden" : "Required",
    condition: test.condition.text.replace(/\s+/g, " "),
    states,
    ok,
    verdict: ok === null ? "Undetermined" : ok ? "Ok" : "No",
    positive,
    negative,
    observation: complete ? r.observation : null,
    complete,
    ...(complete ? {} : { limit: r.stats.limit ?? "a bound" }),
    time: seconds,
    warnings: (tr.warnings ?? []).map((message) => {
      const at = test.condition as { line?: number; column?: number };
      return { message, line: at.line ?? 1, column: at.column ?? 1 };
    }),
    machine: {
      states: r.stats.states,
      transitions: r.stats.transitions,
      finalStates: r.stats.finalStates,
      reduction: r.stats.reduction,
    },
  };
}

/** herd7's name of an observed value: "0:F_l1" (translate.ts faultReg) -> "fault(P0:l1)". */
function herdName(n: string): string {
  const m = /^(\d+):F(?:_(.+))?$/.exec(n);
  return m ? `fault(P${m[1]}${m[2] ? `:${m[2]}` : ""})` : n;
}

/** herd7's text for one result. */
export function formatHerd(r: LitmusResult): string[] {
  const out: string[] = [];
  out.push(`Test ${r.name} ${r.kind}`);
  out.push(`States ${r.states.length}`);
  for (const s of r.states) {
    const vals = Object.entries(s.values)
      .map(([k, v]) => (k.startsWith("fault(") ? `${v === "1" ? "" : "~"}${k};` : `${k}=${v};`))
      .join(" ");
    out.push(`${vals}${s.marks ? ` (${s.marks.join(", ")})` : ""}`);
  }
  const stopped = r.complete ? "" : ` (stopped by ${r.limit})`;
  out.push(r.verdict + stopped);
  out.push("Witnesses");
  out.push(
    `Positive: ${r.positive} Negative: ${r.negative}` +
      (r.complete ? "" : " (over the states explored)"),
  );
  out.push(`Condition ${r.condition}`);
  out.push(
    r.observation
      ? `Observation ${r.name} ${r.observation} ${r.positive} ${r.negative}`
      : `Observation ${r.name} Undetermined${stopped}`,
  );
  out.push(`Time ${r.name} ${r.time.toFixed(2)}`);
  return out;
}
