/**
 * `execmem-lab litmus FILE... [--json] [--arch VARIANT]` — run herd7 AArch64 or RISCV litmus tests
 * (the instruction-fetch subset, docs/litmus.md) on the arm64 or riscv64 machine and print
 * herd7-style results: the final states,
 * Ok/No, Positive/Negative, `Observation NAME Never|Sometimes|Always p q` and the time.
 * Exit code 2 when a file is malformed or outside the subset ("unsupported").
 */
import { type Command } from "commander";
import { cacheTypeOf, formatHerd, LitmusError, runLitmusFile } from "execmem-lab";
import type { LitmusOptions, LitmusResult, Witness } from "execmem-lab";
import { intOption } from "./options";
import { consoleIo, exitWith, type Io } from "./io";

export interface LitmusCliOptions {
  json?: boolean;
  /** Include one shortest witness per final state (with --json: every step and residency). */
  witnesses?: boolean;
  maxStates?: number;
  maxMs?: number;
  /** Read integers stored to code as A64 encodings (default: integers are data, as in herd7). */
  decodeEncodings?: boolean;
  /** riscv64 variant for RISCV tests (default riscv64; riscv64+ziccid...). */
  arch?: string;
  /** CTR_EL0 cache type overriding the tests' CacheType= lines ("IDC DIC", "none", "DIC1-IDC1"). */
  cacheType?: string;
}

/**
 * The cache type a test runs with: --cache-type, else a DICx-IDCy directory on the file's path
 * (herd7's catalogue keeps tests so), else the test's own CacheType= line (undefined).
 */
export function cacheTypeFor(
  file: string,
  flag: string | undefined,
): { idc: boolean; dic: boolean } | undefined {
  if (flag !== undefined) return cacheTypeOf(flag);
  const dir = file
    .split(/[\\/]/)
    .slice(0, -1)
    .reverse()
    .find((d) => /^DIC[01]-IDC[01]$/i.test(d));
  return dir ? cacheTypeOf(dir) : undefined;
}

/** The --json record of one file. */
export interface LitmusFileJson {
  file: string;
  error?: {
    message: string;
    line: number | null;
    column: number | null;
    instruction: string | null;
    unsupported: boolean;
  };
  result?: Omit<LitmusResult, "states"> & {
    states: {
      values: Record<string, string>;
      satisfies: boolean;
      count: number;
      marks?: string[];
      witness?: Witness;
    }[];
  };
}

export function register(program: Command): void {
  program
    .command("litmus")
    .description(
      "run herd7 AArch64 or RISCV litmus tests (instruction-fetch subset, docs/litmus.md) on the arm64 or riscv64 machine; herd7-style output",
    )
    .argument("<file...>", "herd7 .litmus files")
    .option("--json", "print the results as JSON (final states, observation, p q, time)")
    .option(
      "--witnesses",
      "one shortest execution per final state (in the text output: the steps; in --json: steps and residency)",
    )
    .option(
      "--max-states <n>",
      "stop exploring after this many states",
      intOption("--max-states", 1),
    )
    .option(
      "--max-ms <ms>",
      "stop exploring after this many milliseconds",
      intOption("--max-ms", 1),
    )
    .option(
      "--cache-type <type>",
      'CTR_EL0 cache type for every test, overriding CacheType= lines and DICx-IDCy directories: "IDC", "DIC", "IDC DIC", "none", "DIC1-IDC1"',
    )
    .option(
      "--decode-encodings",
      "read integers stored to code (0:X0=0x54000041) as A64 encodings; by default they are data, as in herd7",
    )
    .option(
      "--arch <variant>",
      "riscv64 variant for RISCV tests: riscv64 (default, Zifencei only), riscv64+ziccid, riscv64+svvptc",
    )
    .action((files: string[], opts: LitmusCliOptions) => exitWith(runLitmusCli(files, opts)));
}

/** Runs the command; returns the exit code (0, or 2 when a file is malformed or unsupported). */
export function runLitmusCli(
  files: string[],
  opts: LitmusCliOptions = {},
  io: Io = consoleIo,
): number {
  let code = 0;
  const records: LitmusFileJson[] = [];
  const lopts: LitmusOptions = {
    witnesses: !!opts.witnesses,
    decodeEncodings: !!opts.decodeEncodings,
  };
  if (opts.maxStates !== undefined) lopts.maxStates = opts.maxStates;
  if (opts.maxMs !== undefined) lopts.maxMs = opts.maxMs;
  files.forEach((file, i) => {
    let r: LitmusResult;
    try {
      const cacheType = cacheTypeFor(file, opts.cacheType);
      r = runLitmusFile(file, {
        ...lopts,
        ...(opts.arch ? { arch: opts.arch } : {}),
        ...(cacheType ? { cacheType } : {}),
      });
    } catch (e) {
      code = 2;
      const le = e instanceof LitmusError ? e : null;
      const message = e instanceof Error ? e.message : String(e);
      const shown = le || message.startsWith(file) ? message : `${file}: ${message}`;
      const kind = le?.unsupported ? "unsupported" : "error";
      io.err(`execmem-lab litmus: ${kind}: ${shown}`);
      records.push({
        file,
        error: {
          message: shown,
          line: le ? le.line : null,
          column: le ? le.column : null,
          instruction: le?.instruction ?? null,
          unsupported: !!le?.unsupported,
        },
      });
      return;
    }
    for (const w of r.warnings)
      io.err(`execmem-lab litmus: warning: ${file}:${w.line}:${w.column}: ${w.message}`);
    if (opts.json) records.push({ file, result: r });
    else {
      if (i > 0) io.out("");
      for (const l of formatHerd(r)) io.out(l);
      if (opts.witnesses) for (const l of witnessLines(r)) io.out(l);
    }
  });
  if (opts.json) io.out(JSON.stringify({ files: records }, null, 2));
  return code;
}

/** The witness of each final state, one step a line. */
export function witnessLines(r: LitmusResult): string[] {
  const out: string[] = [];
  for (const s of r.states) {
    if (!s.witness) continue;
    const vals = Object.entries(s.values)
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
    out.push("");
    out.push(`Witness for ${vals} (${s.witness.steps.length} steps):`);
    for (const x of s.witness.steps) {
      const who = x.cpu < 0 ? "hw" : `P${x.cpu}${x.kind === "hardware" ? " hw" : ""}`;
      out.push(
        `  ${String(x.step).padStart(3)}  ${who.padEnd(6)}  ${x.action}${x.effect ? `  -> ${x.effect}` : ""}`,
      );
    }
  }
  return out;
}
