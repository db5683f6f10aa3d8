/**
 * Fidelity of the riscv64 variants against herd7's RISC-V instruction-fetch models: each
 * `kinds-CONFIG.txt` of a directory lists a verdict (Allow / Forbid) per test under one model
 * configuration, and RISCV_CONFIGS says which riscv64 variant stands for it. A test the reader
 * or the translation cannot take is "unsupported", never an agreement.
 */
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { loadRiscvLitmus } from "./riscv";
import { runRiscvTest } from "./riscv-translate";
import type { LitmusOptions, LitmusResult } from "./run";
import { loadListed, runRows, type AgreeStatus } from "./agree";

/** herd7 model configurations and the riscv64 variant that models each. */
export const RISCV_CONFIGS: readonly { kinds: string; arch: string; about: string }[] = [
  {
    kinds: "Ziccif-only",
    arch: "riscv64",
    about: "Zifencei only: fence.i orders a hart's data accesses before its later fetches",
  },
  {
    kinds: "Ziccid",
    arch: "riscv64+ziccid",
    about: "Ziccid: fetch coherent with data and in program order",
  },
];

export type Kind = "Allow" | "Forbid";

export interface KindsEntry {
  name: string;
  file: string;
  expected: Kind;
  status: AgreeStatus;
  /** The machine's verdict: Allow when the exists-predicate is reachable (null: none). */
  verdict: Kind | null;
  reason?: string;
  result?: LitmusResult;
  seconds: number;
}

export interface KindsReport {
  dir: string;
  kinds: string;
  arch: string;
  entries: KindsEntry[];
  agreed: string[];
  disagreed: string[];
  unsupported: string[];
  seconds: number;
}

/** Reads `kinds-CONFIG.txt`: "NAME  Allow|Forbid" per line. */
export function readKinds(path: string): { name: string; kind: Kind }[] {
  if (!existsSync(path)) throw new Error(`${path}: no such kinds file`);
  const out: { name: string; kind: Kind }[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      const t = line.trim();
      if (t === "" || t.startsWith("#")) return;
      const m = /^(\S+)\s+(Allow|Forbid)\s*$/.exec(t);
      if (!m) throw new Error(`${path}:${i + 1}: expected "NAME Allow|Forbid", got "${t}"`);
      out.push({ name: m[1], kind: m[2] as Kind });
    });
  return out;
}

/** The configurations of RISCV_CONFIGS whose kinds file is in dir. */
export function riscvConfigsIn(dir: string): typeof RISCV_CONFIGS {
  return RISCV_CONFIGS.filter((c) => existsSync(join(dir, `kinds-${c.kinds}.txt`)));
}

export interface KindsOptions extends LitmusOptions {
  only?: string[];
  onEntry?: (e: KindsEntry) => void;
}

/** Runs every test of `dir/kinds-CONFIG.txt` (file NAME.litmus) on `arch`. */
export function agreeKinds(
  dir: string,
  config: { kinds: string; arch: string },
  opts: KindsOptions = {},
): KindsReport {
  const rows = readKinds(join(dir, `kinds-${config.kinds}.txt`)).filter(
    (r) => !opts.only?.length || opts.only.some((o) => r.name.includes(o)),
  );
  const one = (row: { name: string; kind: Kind }): KindsEntry => {
    const t1 = performance.now();
    const file = `${row.name}.litmus`;
    const base = { name: row.name, file, expected: row.kind };
    try {
      const list = `kinds-${config.kinds}.txt`;
      const test = loadListed(join(dir, file), row.name, list, loadRiscvLitmus);
      const result = runRiscvTest(test, { ...opts, arch: config.arch });
      const verdict: Kind | null = !result.complete
        ? null
        : result.positive > 0
          ? "Allow"
          : "Forbid";
      const agreed = verdict === row.kind;
      return {
        ...base,
        status: agreed ? "agreed" : "disagreed",
        verdict,
        ...(agreed
          ? {}
          : {
              reason:
                verdict === null
                  ? `exploration incomplete (${result.machine.states} states): Undetermined`
                  : `herd7 ${row.kind}, machine ${verdict}`,
            }),
        result,
        seconds: (performance.now() - t1) / 1000,
      };
    } catch (err) {
      return {
        ...base,
        status: "unsupported",
        verdict: null,
        reason: err instanceof Error ? err.message : String(err),
        seconds: (performance.now() - t1) / 1000,
      };
    }
  };
  return { dir, kinds: config.kinds, arch: config.arch, ...runRows(rows, one, opts.onEntry) };
}
