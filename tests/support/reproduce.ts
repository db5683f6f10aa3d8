/**
 * One `execmem-lab run` of all notebooks per test run, shared by every test that needs it
 * (a full run takes tens of seconds: no test runs it twice). The first caller runs it into the
 * folder the global setup made (tests/kernel-global-setup.ts); callers in other workers wait for
 * it and read the same results. Without the global setup (a file run on its own by other
 * means), each process runs it once into a temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { runCli, type CliResult } from "../kernel-support";

export const SHARED_RUN_ENV = "EXECMEM_LAB_TEST_SHARED_RUN";

export interface SharedRun extends CliResult {
  /** The report folder: results.json, index.html, one .html and .ipynb per notebook. */
  out: string;
}

let mine: Promise<SharedRun> | null = null;

async function waitFor(path: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`shared notebook run: ${path} not written in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function run(): Promise<SharedRun> {
  const base = process.env[SHARED_RUN_ENV] ?? mkdtempSync(join(tmpdir(), "execmem-lab-run-"));
  const out = join(base, "out");
  const done = join(base, "result.json");
  let owner = true;
  try {
    mkdirSync(join(base, "lock"));
  } catch {
    owner = false;
  }
  if (owner) {
    const r = await runCli(["run", "--out", out, "--no-progress"]);
    writeFileSync(done, JSON.stringify(r));
  } else {
    await waitFor(done, 600_000);
  }
  return { ...(JSON.parse(readFileSync(done, "utf8")) as CliResult), out };
}

/** The results of `execmem-lab run --out <dir> --no-progress` on every notebook in notebooks/. */
export function sharedNotebookRun(): Promise<SharedRun> {
  return (mine ??= run());
}
