/**
 * Fidelity against herd7: run every test of a directory and compare each observation with the
 * directory's expected.tsv (test name, file, herd7 observation, optional intent). A test the
 * reader or the translation cannot take is "unsupported", never an agreement.
 */
import { existsSync, readdirSync, readFileSync } from "fs";
import { join } from "path";
import type { Observation } from "../model";
import { LitmusError } from "./frame";
import { loadLitmus } from "./parse";
import { runLitmusTest, type LitmusOptions, type LitmusResult } from "./run";

export interface ExpectedRow {
  name: string;
  file: string;
  observation: Observation;
  /** Further columns (e.g. the ESOP 2020 table's allow/forbid), as written. */
  notes: string[];
}

export type AgreeStatus = "agreed" | "disagreed" | "unsupported";

export interface AgreeEntry {
  name: string;
  file: string;
  expected: Observation;
  status: AgreeStatus;
  /** The machine's observation (null when unsupported or the exploration was incomplete). */
  observation: Observation | null;
  /** Why a test is unsupported or disagrees (error text with file:line:column, or the observations). */
  reason?: string;
  /** The instruction outside the subset, when that is why. */
  instruction?: string;
  result?: LitmusResult;
  seconds: number;
}

export interface AgreeReport {
  dir: string;
  entries: AgreeEntry[];
  agreed: string[];
  disagreed: string[];
  unsupported: string[];
  /** Wall time of all the runs (parse, translate, explore), in seconds. */
  seconds: number;
}

const OBS: Observation[] = ["Never", "Sometimes", "Always"];

/** Reads `expected.tsv`: name, file, observation[, notes...]; "#" lines are comments. */
export function readExpected(dir: string): ExpectedRow[] {
  const path = join(dir, "expected.tsv");
  if (!existsSync(path)) throw new Error(`${path}: no expected.tsv in ${dir}`);
  const rows: ExpectedRow[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "" || line.startsWith("#")) return;
      const [name, file, obs, ...notes] = line.split("\t").map((x) => x.trim());
      if (!file || !OBS.includes(obs as Observation))
        throw new Error(
          `${path}:${i + 1}: expected "name<TAB>file<TAB>Never|Sometimes|Always", got "${line}"`,
        );
      rows.push({ name, file, observation: obs as Observation, notes });
    });
  return rows;
}

export interface AgreeOptions extends LitmusOptions {
  /** Only the tests whose name or file contains one of these strings. */
  only?: string[];
  /** Called after each test (progress). */
  onEntry?: (e: AgreeEntry) => void;
}

/** Runs every test listed in `dir/expected.tsv` and compares the observations. */
export function agree(dir: string, opts: AgreeOptions = {}): AgreeReport {
  const rows = readExpected(dir).filter(
    (r) => !opts.only?.length || opts.only.some((o) => r.name.includes(o) || r.file.includes(o)),
  );
  return { dir, ...runRows(rows, (row) => agreeOne(dir, row, opts), opts.onEntry) };
}

/** Runs one entry per row in order (`onEntry` after each); the names by status and the time. */
export function runRows<R, E extends { name: string; status: AgreeStatus }>(
  rows: R[],
  one: (row: R) => E,
  onEntry?: (e: E) => void,
): { entries: E[]; agreed: string[]; disagreed: string[]; unsupported: string[]; seconds: number } {
  const t0 = performance.now();
  const entries: E[] = [];
  for (const row of rows) {
    const e = one(row);
    entries.push(e);
    onEntry?.(e);
  }
  const seconds = (performance.now() - t0) / 1000;
  const names = (s: AgreeStatus) => entries.filter((e) => e.status === s).map((e) => e.name);
  return {
    entries,
    agreed: names("agreed"),
    disagreed: names("disagreed"),
    unsupported: names("unsupported"),
    seconds,
  };
}

/** Loads a listed test; a LitmusError when its header names it otherwise than `list` does. */
export function loadListed<T extends { name: string }>(
  path: string,
  name: string,
  list: string,
  load: (path: string) => T,
): T {
  const test = load(path);
  if (test.name !== name)
    throw new LitmusError(
      `the test is named "${test.name}" but ${list} calls it "${name}"`,
      path,
      1,
      1,
    );
  return test;
}

function agreeOne(dir: string, row: ExpectedRow, opts: LitmusOptions): AgreeEntry {
  const t0 = performance.now();
  const base = { name: row.name, file: row.file, expected: row.observation };
  const secs = () => (performance.now() - t0) / 1000;
  let result: LitmusResult;
  try {
    result = runLitmusTest(
      loadListed(join(dir, row.file), row.name, "expected.tsv", loadLitmus),
      opts,
    );
  } catch (e) {
    const le = e instanceof LitmusError ? e : null;
    return {
      ...base,
      status: "unsupported",
      observation: null,
      reason: e instanceof Error ? e.message : String(e),
      ...(le?.instruction ? { instruction: le.instruction } : {}),
      seconds: secs(),
    };
  }
  const obs = result.observation;
  const agreed = obs === row.observation;
  return {
    ...base,
    status: agreed ? "agreed" : "disagreed",
    observation: obs,
    ...(agreed
      ? {}
      : {
          reason:
            obs === null
              ? `Undetermined: exploration stopped by ${result.limit ?? "a bound"} (${result.machine.states} states)`
              : `herd7 ${row.observation}, machine ${obs}`,
        }),
    result,
    seconds: secs(),
  };
}

/** Files of a directory with a .litmus extension, sorted. */
export function litmusFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".litmus"))
    .sort();
}
