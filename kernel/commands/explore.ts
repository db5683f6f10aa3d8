/**
 * `execmem-lab explore FILE... [--json]` — parse scenario files (docs/scenario-format.md), explore
 * every execution, print the outcomes with one shortest witness each, and check the file's
 * `Result:` line. Exit code 1 when an expectation is contradicted, 2 when a file is malformed.
 */
import { type Command } from "commander";
import { explore, FormatError, loadScenario, MAX_SAMPLE_RUNS } from "execmem-lab";
import type { ExplorationResult, ExploreOptions, WitnessStep } from "execmem-lab";
import { intOption, limitOptions, limitsOf, type LimitOptions } from "./options";
import { consoleIo, errorMessage, exitWith, runFiles, type FileCommand, type Io } from "./io";

export interface ExploreCliOptions extends LimitOptions {
  json?: boolean;
  sample?: number;
  seed?: number;
  /** false with --no-reduction: no liveness, symmetry or partial-order reduction. */
  reduction?: boolean;
  /** Include per-step residency in --json output. */
  residency?: boolean;
  /** false with --no-witnesses: no witness traces in the table. */
  witnesses?: boolean;
  /** --progress: states, frontier and time on stderr while exploring. */
  progress?: boolean;
  /** --expansion-budget: ExploreOptions.expansionBudget. */
  expansionBudget?: number;
}

/**
 * Progress of one exploration on stderr: on a terminal one line rewritten in place (5 times a
 * second), otherwise one line every 2 seconds; a last line when it ends.
 */
function progressReporter(
  file: string,
  io: Io,
): Pick<ExploreOptions, "onProgress" | "progressEvery"> & { done(): void } {
  const tty = io.tty ?? !!process.stderr.isTTY;
  const raw = io.errRaw ?? ((t: string) => void process.stderr.write(t));
  let last = -Infinity;
  let shown = false;
  let latest = "";
  return {
    progressEvery: 2048,
    onProgress: (p) => {
      latest = `${file}: ${p.states} states, ${p.frontier} to visit, ${p.finals} final, ${(p.ms / 1000).toFixed(1)} s`;
      const now = performance.now();
      if (now - last < (tty ? 200 : 2000)) return;
      last = now;
      if (tty) {
        raw(`\r\x1b[K${latest}`);
        shown = true;
      } else io.err(latest);
    },
    done: () => {
      if (tty && shown) raw(`\r\x1b[K`);
      if (latest) io.err(`${latest} (done)`);
    },
  };
}

/** The --json record of one file. */
export interface ExploreFileJson {
  file: string;
  error?: { message: string; line: number | null; column: number | null };
  scenario?: string;
  arch?: string;
  condition?: string | null;
  expected?: string | null;
  observation?: string | null;
  matchesExpectation?: boolean | null;
  contradicted?: boolean;
  complete?: boolean;
  stoppedBy?: string | null;
  /** The bound that stopped an incomplete search, in words (observation is then "Undetermined"). */
  limit?: string | null;
  states?: number;
  transitions?: number;
  finalStates?: number;
  ms?: number;
  reduction?: string;
  outcomes?: {
    key: string;
    values: Record<string, string>;
    /** Final states with this outcome (herd7 counts final states). */
    count: number;
    satisfies: boolean | null;
    witness: { steps: Partial<WitnessStep>[]; initial?: unknown; lines?: string[] };
  }[];
}

export function register(program: Command): void {
  const cmd = program
    .command("explore")
    .description(
      "explore every execution of scenario files (litmus format, docs/scenario-format.md) and check their Result: lines",
    )
    .argument("<file...>", "scenario files")
    .option(
      "--json",
      "print JSON: every outcome with its count and one shortest witness, states, completeness, observation",
    );
  limitOptions(cmd, "stop", 2 ** 31 - 1)
    .option(
      "--sample <runs>",
      "run this many seeded random executions instead of exploring all (stops at --max-ms too)",
      intOption("--sample", 1, MAX_SAMPLE_RUNS),
    )
    .option("--seed <n>", "seed of --sample", intOption("--seed", 0), 1)
    .option("--no-reduction", "explore without the liveness, symmetry and partial-order reductions")
    .option(
      "--expansion-budget <n>",
      "states the expansion of one symmetric outcome into its CPU orders may visit (default 20000; past it the search is incomplete)",
      intOption("--expansion-budget", 1),
    )
    .option(
      "--residency",
      "with --json: include what every structure holds after each witness step",
    )
    .option("--no-witnesses", "without --json: do not print witness traces")
    .option("--progress", "show states explored, states to visit and time on stderr")
    .action((files: string[], opts: ExploreCliOptions) => exitWith(runExplore(files, opts)));
}

/** Runs the command; returns the exit code (0, 1 = expectation contradicted, 2 = malformed file). */
export const runExplore: FileCommand<ExploreCliOptions> = (files, opts = {}, io = consoleIo) => {
  const eopts: ExploreOptions = limitsOf(opts);
  if (opts.sample !== undefined) eopts.sample = { runs: opts.sample, seed: opts.seed ?? 1 };
  if (opts.expansionBudget !== undefined) eopts.expansionBudget = opts.expansionBudget;
  if (opts.reduction === false) {
    eopts.liveness = false;
    eopts.symmetry = false;
    eopts.partialOrder = false;
  }
  return runFiles<ExploreFileJson>(files, opts.json, io, (file) => {
    let r: ExplorationResult;
    const bar = opts.progress ? progressReporter(file, io) : undefined;
    try {
      r = explore(loadScenario(file), bar ? { ...eopts, ...bar } : eopts);
      bar?.done();
    } catch (e) {
      const fe = e instanceof FormatError ? e : null;
      const shown = errorMessage(file, e, !!fe);
      io.err(`execmem-lab explore: ${shown}`);
      const at = { line: fe ? fe.line : null, column: fe ? fe.column : null };
      return { code: 2, record: { file, error: { message: shown, ...at } } };
    }
    const contradicted = isContradicted(r);
    return opts.json
      ? { code: contradicted ? 1 : 0, record: toJson(file, r, contradicted, !!opts.residency) }
      : { code: contradicted ? 1 : 0, lines: table(file, r, opts.witnesses !== false) };
  });
};

/**
 * A complete exploration contradicts a Result: line when the observation differs. An incomplete
 * one (a bound, or --sample) only when it found a counterexample: a satisfying execution against
 * Never, or a non-satisfying one against Always.
 */
export function isContradicted(r: ExplorationResult): boolean {
  if (!r.expected || !r.condition) return false;
  if (r.stats.complete) return r.matchesExpectation === false;
  const some = r.outcomes.some((o) => o.satisfies === true);
  const notAll = r.outcomes.some((o) => o.satisfies === false);
  return (r.expected === "Never" && some) || (r.expected === "Always" && notAll);
}

function toJson(
  file: string,
  r: ExplorationResult,
  contradicted: boolean,
  residency: boolean,
): ExploreFileJson {
  return {
    file,
    scenario: r.scenario,
    arch: r.arch,
    condition: r.condition,
    expected: r.expected,
    observation: r.observation ?? (r.condition ? "Undetermined" : null),
    matchesExpectation: r.matchesExpectation,
    contradicted,
    complete: r.stats.complete,
    stoppedBy: r.stats.stoppedBy ?? null,
    limit: r.stats.limit ?? null,
    states: r.stats.states,
    transitions: r.stats.transitions,
    finalStates: r.stats.finalStates,
    ms: Math.round(r.stats.ms * 10) / 10,
    reduction: r.stats.reduction,
    outcomes: r.outcomes.map((o) => ({
      key: o.key,
      values: o.values,
      count: o.count,
      satisfies: o.satisfies,
      witness: residency
        ? { steps: o.witness.steps, initial: o.witness.initial, lines: o.witness.lines }
        : {
            steps: o.witness.steps.map(({ step, cpu, kind, action, effect, sync }) => ({
              step,
              cpu,
              kind,
              action,
              effect,
              sync,
            })),
          },
    })),
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The readable report of one file. */
export function table(file: string, r: ExplorationResult, witnesses = true): string[] {
  const out: string[] = [];
  out.push(`== ${file}: ${r.scenario} (${r.arch})`);
  if (r.condition) out.push(`condition: ${r.condition}`);
  const kw = Math.max(7, ...r.outcomes.map((o) => o.key.length));
  // A sample counts the walks that ended in an outcome (or a CPU permutation of it), not states.
  const counted = r.stats.stoppedBy === "sample" ? "walks" : "states";
  out.push(`  ${pad("outcome", kw)}  ${pad(counted, 6, true)}  condition`);
  for (const o of r.outcomes) {
    const sat = o.satisfies === null ? "" : o.satisfies ? "holds" : "-";
    out.push(`  ${pad(o.key, kw)}  ${pad(String(o.count), 6, true)}  ${sat}`);
  }
  const s = r.stats;
  const how = s.complete ? "complete" : `incomplete (stopped by ${s.limit ?? "a bound"})`;
  out.push(
    `${s.states} states, ${s.transitions} transitions, ${s.finalStates} final; ${how}; ${s.ms.toFixed(1)} ms; reduction: ${s.reduction}`,
  );
  if (r.condition) {
    // No verdict from an incomplete search; a counterexample it found still contradicts.
    const obs = r.observation ?? `Undetermined (stopped by ${s.limit ?? "a bound"})`;
    let check = "";
    if (r.expected) {
      check = isContradicted(r)
        ? `; expected ${r.expected}: CONTRADICTED${s.complete ? "" : " (by an execution found)"}`
        : s.complete && r.matchesExpectation
          ? `; expected ${r.expected}: OK`
          : `; expected ${r.expected}: not checked (exploration incomplete)`;
    }
    out.push(`observation: ${obs}${check}`);
  }
  if (witnesses) {
    for (const o of r.outcomes) {
      const steps = o.witness.steps;
      out.push("");
      out.push(`witness for ${o.key} (${steps.length} step${steps.length === 1 ? "" : "s"}):`);
      const aw = Math.max(6, ...steps.map((x) => x.action.length));
      out.push(`  ${pad("step", 4, true)}  ${pad("cpu", 6)}  ${pad("action", aw)}  effect`);
      for (const x of steps) {
        const who = `P${x.cpu}${x.kind === "hardware" ? " hw" : ""}`;
        out.push(
          `  ${pad(String(x.step), 4, true)}  ${pad(who, 6)}  ${pad(x.action, aw)}  ${x.effect}${x.sync ? "  [sync]" : ""}`,
        );
      }
    }
  }
  return out;
}
