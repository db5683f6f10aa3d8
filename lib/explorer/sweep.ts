/**
 * Many explorations at once on worker threads (one per core by default). Scenarios are plain
 * data, so they cross to the workers as they are; results come back as plain data.
 */
import { Worker } from "node:worker_threads";
import { cpus } from "node:os";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ScenarioSpec } from "../scenario/spec";
import type { ExplorationResult } from "../model";
import { explore, type ExploreOptions } from "./explore";
import { InterruptedError, interruptSignal } from "../model";

export interface SweepOptions extends Omit<ExploreOptions, "onProgress" | "sample"> {
  /** Worker threads (default: the number of cores; 0 runs in this thread). */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops the sweep: the workers are terminated at once, no progress is reported after it, and
   * the promise rejects with an {@link InterruptedError}. Default: inside the execmem-lab kernel,
   * its interrupt signal (an interrupt or restart stops the workers); elsewhere none.
   */
  signal?: AbortSignal;
}

function workerFile(): string {
  const here = join(__dirname, "sweep-worker.js");
  if (existsSync(here)) return here;
  // Running from the TypeScript sources (tests): use the built file.
  return resolve(__dirname, "../dist/explorer/sweep-worker.js");
}

/**
 * {@link explore} each scenario on worker threads (`opts.workers`, default one per core; 0 runs
 * them in this thread) and return the results in the order of `specs`. `onProgress(done, total)`
 * is called as explorations finish. Inside the kernel an interrupt or restart stops the workers
 * at once (see `signal`).
 * @throws {Error} `"<scenario>: <message>"` when a scenario fails to explore.
 * @throws {InterruptedError} when `signal` aborts first.
 */
export async function exploreMany(
  specs: ScenarioSpec[],
  opts: SweepOptions = {},
): Promise<ExplorationResult[]> {
  const { workers = cpus().length, onProgress, signal = interruptSignal(), ...explore_ } = opts;
  const results: ExplorationResult[] = new Array(specs.length);
  if (signal?.aborted) throw new InterruptedError("exploreMany");
  if (workers <= 0 || specs.length <= 1) {
    specs.forEach((s, i) => {
      results[i] = explore(s, explore_);
      onProgress?.(i + 1, specs.length);
    });
    return results;
  }
  let next = 0;
  let done = 0;
  let stopped = false;
  const file = workerFile();
  const pool = Array.from({ length: Math.min(workers, specs.length) }, () => new Worker(file));
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      stopped = true;
      for (const w of pool) void w.terminate();
      reject(new InterruptedError("exploreMany"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  const run = (w: Worker) =>
    new Promise<void>((resolveRun, reject) => {
      const feed = () => {
        if (next >= specs.length) {
          resolveRun();
          return;
        }
        const i = next++;
        w.postMessage({ i, spec: specs[i], opts: explore_ });
      };
      w.on("message", (m: { i: number; result?: ExplorationResult; error?: string }) => {
        if (stopped) return;
        if (m.error !== undefined) {
          reject(new Error(`${specs[m.i].name}: ${m.error}`));
          return;
        }
        results[m.i] = m.result!;
        onProgress?.(++done, specs.length);
        feed();
      });
      w.on("error", reject);
      feed();
    });
  try {
    await Promise.race([Promise.all(pool.map(run)), aborted]);
  } finally {
    stopped = true;
    signal?.removeEventListener("abort", onAbort);
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}
