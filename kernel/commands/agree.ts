/**
 * `execmem-lab agree DIR [--json]` — run every litmus test listed in DIR/expected.tsv on the
 * arm64 machine and compare with herd7's observation: agreed / disagreed / unsupported, with
 * names, and the time for the whole directory. Exit code 1 on any disagreement or unsupported
 * test, 2 when the directory or its expected.tsv cannot be read.
 */
import type { Command } from "commander";
import { existsSync } from "fs";
import { join } from "path";
import { agree, agreeKinds, riscvConfigsIn } from "execmem-lab";
import type { AgreeEntry, AgreeReport, KindsEntry, KindsReport } from "execmem-lab";
import { consoleIo, exitWith, type Io } from "./io";
import { cacheTypeFor } from "./litmus";

export interface AgreeCliOptions {
  json?: boolean;
  /** Only tests whose name or file contains one of these. */
  only?: string[];
  /** Print one line per test as it finishes. */
  verbose?: boolean;
  /**
   * CTR_EL0 cache type for every test ("IDC DIC", "none", "DIC1-IDC1"); default: a DICx-IDCy
   * directory name, else each test's CacheType= line.
   */
  cacheType?: string;
  /** One line per corpus ("NAME: a/n agree, ...") instead of one per test. */
  summary?: boolean;
}

export function register(program: Command): void {
  program
    .command("agree")
    .description(
      "run every herd7 litmus test of each directory and compare with herd7: expected.tsv (AArch64 observations, arm64 machine) or kinds-CONFIG.txt (RISC-V Allow/Forbid per model configuration, one riscv64 variant each)",
    )
    .argument(
      "<dir...>",
      'directories with .litmus files and expected.tsv (herd7 observations), or RISC-V ones with kinds-Ziccif-only.txt / kinds-Ziccid.txt; each optionally named: "AArch64 ESOP=../shared/litmus/aarch64-ifetch"',
    )
    .option("--summary", "one line per corpus (or RISC-V configuration) instead of one per test")
    .option("--json", "print the report as JSON")
    .option("--only <names...>", "only the tests whose name or file contains one of these")
    .option("-v, --verbose", "one line per test as it finishes")
    .option(
      "--cache-type <type>",
      'CTR_EL0 cache type for every test, overriding CacheType= lines: "IDC", "DIC", "IDC DIC", "none", "DIC1-IDC1" (default: from a DICx-IDCy directory name)',
    )
    .action((corpora: string[], opts: AgreeCliOptions) => exitWith(runAgreeCorpora(corpora, opts)));
}

/** One line per test: its status, herd7's verdict and the machine's (or why it is unsupported). */
function entryLine(e: AgreeEntry | KindsEntry): string {
  if (e.status === "unsupported") return `unsupported  ${e.name}: ${e.reason}`;
  const machine = "observation" in e ? e.observation : e.verdict;
  const p = e.result ? ` ${e.result.positive} ${e.result.negative}` : "";
  return `${e.status.padEnd(11)}  ${e.name}: herd7 ${e.expected}, machine ${machine ?? "Undetermined"}${p} (${(e.seconds * 1000).toFixed(0)} ms)`;
}

/** "agreed a/n, disagreed d, unsupported u; n tests in s s". */
function counts(r: AgreeReport | KindsReport): string {
  const n = r.entries.length;
  return `agreed ${r.agreed.length}/${n}, disagreed ${r.disagreed.length}, unsupported ${r.unsupported.length}; ${n} tests in ${r.seconds.toFixed(2)} s`;
}

/** The names that did not agree, a line per status (indented under a corpus line). */
function others(r: AgreeReport | KindsReport, indent: string): string[] {
  const out: string[] = [];
  if (r.disagreed.length) out.push(`${indent}disagreed: ${r.disagreed.join(", ")}`);
  if (r.unsupported.length) out.push(`${indent}unsupported: ${r.unsupported.join(", ")}`);
  return out;
}

/** The text report: a line per test, then the counts with names and the total time. */
export function agreeSummary(r: AgreeReport): string[] {
  return [counts(r), ...others(r, "")];
}

/**
 * The JSON of one corpus (an AArch64 directory or one RISC-V configuration): the counts, and
 * with `tests` a record per test. One shape for both; `observation` (AArch64, herd7's
 * Never/Sometimes/Always) or `verdict` (RISC-V, Allow/Forbid) is the machine's answer.
 */
function reportJson(r: AgreeReport | KindsReport, name: string | null, tests: boolean) {
  return {
    ...(name !== null ? { name } : {}),
    dir: r.dir,
    ...("kinds" in r ? { kinds: r.kinds, arch: r.arch } : {}),
    agreed: r.agreed,
    disagreed: r.disagreed,
    unsupported: r.unsupported,
    total: r.entries.length,
    seconds: r.seconds,
    ...(tests
      ? {
          tests: (r.entries as (AgreeEntry | KindsEntry)[]).map((e) => ({
            name: e.name,
            file: e.file,
            status: e.status,
            expected: e.expected,
            ...("observation" in e ? { observation: e.observation } : { verdict: e.verdict }),
            positive: e.result?.positive ?? null,
            negative: e.result?.negative ?? null,
            reason: e.reason ?? null,
            instruction: ("instruction" in e ? e.instruction : undefined) ?? null,
            seconds: e.seconds,
          })),
        }
      : {}),
  };
}

/** The cache type of a corpus: --cache-type, else a DICx-IDCy directory on its path, else none. */
function corpusCacheType(dir: string, opts: AgreeCliOptions) {
  return cacheTypeFor(join(dir, "*.litmus"), opts.cacheType);
}

/** One line for a corpus, then its disagreements and unsupported tests by name. */
export function corpusLines(name: string, r: AgreeReport): string[] {
  return [`${name}: ${counts(r)}`, ...others(r, "  ")];
}

function isKindsDir(dir: string): boolean {
  return !existsSync(join(dir, "expected.tsv")) && riscvConfigsIn(dir).length > 0;
}

/**
 * The command: each corpus is "NAME=DIR" or DIR, an AArch64 directory (expected.tsv) or a RISC-V
 * one (kinds files). One unnamed directory without --summary prints as before (its tests, then
 * the counts); otherwise each corpus prints its tests (unless --summary) and its line(s). Exit
 * code 2 when a directory cannot be read, else 1 on any disagreement or unsupported test.
 */
export function runAgreeCorpora(
  corpora: string[],
  opts: AgreeCliOptions = {},
  io: Io = consoleIo,
): number {
  if (corpora.length === 1 && !opts.summary && !corpora[0].includes("="))
    return isKindsDir(corpora[0])
      ? runKindsCli(corpora[0], opts, io)
      : runAgreeCli(corpora[0], opts, io);
  let code = 0;
  const json: unknown[] = [];
  for (const c of corpora) {
    const eq = c.indexOf("=");
    const [name, dir] = eq > 0 ? [c.slice(0, eq).trim(), c.slice(eq + 1)] : [c, c];
    if (isKindsDir(dir)) {
      if (opts.json) {
        for (const k of riscvConfigsIn(dir)) {
          const r = agreeKinds(dir, k, { only: opts.only });
          if (r.disagreed.length || r.unsupported.length) code = Math.max(code, 1);
          json.push(reportJson(r, name, false));
        }
      } else code = Math.max(code, runKindsCli(dir, opts, io));
      continue;
    }
    let r: AgreeReport;
    try {
      const ct = corpusCacheType(dir, opts);
      r = agree(dir, { ...(ct ? { cacheType: ct } : {}), only: opts.only });
    } catch (e) {
      io.err(`execmem-lab agree: ${name}: ${e instanceof Error ? e.message : String(e)}`);
      code = 2;
      continue;
    }
    if (r.disagreed.length || r.unsupported.length) code = Math.max(code, 1);
    if (opts.json) {
      json.push(reportJson(r, name, false));
      continue;
    }
    if (!opts.summary) for (const e of r.entries) io.out(entryLine(e));
    for (const l of corpusLines(name, r)) io.out(l);
  }
  if (opts.json) io.out(JSON.stringify({ corpora: json }, null, 2));
  return code;
}

/** Runs the command; returns the exit code. */
export function runAgreeCli(dir: string, opts: AgreeCliOptions = {}, io: Io = consoleIo): number {
  let r: AgreeReport;
  try {
    const ct = corpusCacheType(dir, opts);
    r = agree(dir, {
      ...(ct ? { cacheType: ct } : {}),
      only: opts.only,
      onEntry: opts.verbose && !opts.json ? (e) => io.out(entryLine(e)) : undefined,
    });
  } catch (e) {
    io.err(`execmem-lab agree: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (opts.json) {
    io.out(JSON.stringify(reportJson(r, null, true), null, 2));
  } else {
    if (!opts.verbose) for (const e of r.entries) io.out(entryLine(e));
    for (const l of agreeSummary(r)) io.out(l);
  }
  return r.disagreed.length || r.unsupported.length ? 1 : 0;
}

/** One line per RISC-V configuration: the counts, then the names of the others. */
export function kindsSummary(r: KindsReport): string[] {
  return [`RISC-V ${r.kinds} (${r.arch}): ${counts(r)}`, ...others(r, "  ")];
}

/** Runs every RISC-V configuration of a directory; returns the exit code. */
export function runKindsCli(dir: string, opts: AgreeCliOptions = {}, io: Io = consoleIo): number {
  const reports: KindsReport[] = [];
  try {
    for (const c of riscvConfigsIn(dir))
      reports.push(
        agreeKinds(dir, c, {
          only: opts.only,
          onEntry: opts.verbose && !opts.json ? (e) => io.out(entryLine(e)) : undefined,
        }),
      );
  } catch (e) {
    io.err(`execmem-lab agree: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (reports.length === 0) {
    io.err(`execmem-lab agree: ${dir}: no expected.tsv and no kinds file of a known configuration`);
    return 2;
  }
  if (opts.json) {
    io.out(
      JSON.stringify(
        reports.map((r) => reportJson(r, null, true)),
        null,
        2,
      ),
    );
  } else for (const r of reports) for (const l of kindsSummary(r)) io.out(l);
  return reports.some((r) => r.disagreed.length || r.unsupported.length) ? 1 : 0;
}
