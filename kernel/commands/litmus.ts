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
import { limitOptions, limitsOf, type LimitOptions } from "./options";
import { consoleIo, errorMessage, exitWith, runFiles, type FileCommand } from "./io";

export interface LitmusCliOptions extends LimitOptions {
  json?: boolean;
  /** Include one shortest witness per final state (with --json: every step and residency). */
  witnesses?: boolean;
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
  const cmd = program
    .command("litmus")
    .description(
      "run herd7 AArch64 or RISCV litmus tests (instruction-fetch subset, docs/litmus.md) on the arm64 or riscv64 machine; herd7-style output",
    )
    .argument("<file...>", "herd7 .litmus files")
    .option("--json", "print the results as JSON (final states, observation, p q, time)")
    .option(
      "--witnesses",
      "one shortest execution per final state (in the text output: the steps; in --json: steps and residency)",
    );
  limitOptions(cmd, "stop exploring")
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
export const runLitmusCli: FileCommand<LitmusCliOptions> = (files, opts = {}, io = consoleIo) => {
  const lopts: LitmusOptions = {
    witnesses: !!opts.witnesses,
    decodeEncodings: !!opts.decodeEncodings,
    ...limitsOf(opts),
  };
  return runFiles<LitmusFileJson>(files, opts.json, io, (file) => {
    let r: LitmusResult;
    try {
      const cacheType = cacheTypeFor(file, opts.cacheType);
      r = runLitmusFile(file, {
        ...lopts,
        ...(opts.arch ? { arch: opts.arch } : {}),
        ...(cacheType ? { cacheType } : {}),
      });
    } catch (e) {
      const le = e instanceof LitmusError ? e : null;
      const shown = errorMessage(file, e, !!le);
      const kind = le?.unsupported ? "unsupported" : "error";
      io.err(`execmem-lab litmus: ${kind}: ${shown}`);
      const error = {
        message: shown,
        line: le ? le.line : null,
        column: le ? le.column : null,
        instruction: le?.instruction ?? null,
        unsupported: !!le?.unsupported,
      };
      return { code: 2, record: { file, error } };
    }
    for (const w of r.warnings)
      io.err(`execmem-lab litmus: warning: ${file}:${w.line}:${w.column}: ${w.message}`);
    if (opts.json) return { code: 0, record: { file, result: r } };
    return { code: 0, lines: [...formatHerd(r), ...(opts.witnesses ? witnessLines(r) : [])] };
  });
};

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
