/**
 * Many explorations at once on worker threads (one per core by default). Scenarios are plain
 * data, so they cross to the workers as they are; results come back as plain data.
 */
import { Worker } from "node:worker_threads";
import { cpus } from "node:os";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ScenarioSpec } from "../scenario/spec";
import type { ExplorationResult } from "./result";
import { explore, type ExploreOptions } from "./explore";

export interface SweepOptions extends Omit<ExploreOptions, "onProgress" | "sample"> {
  /** Worker threads (default: the number of cores; 0 runs in this thread). */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

function workerFile(): string {
  const here = join(__dirname, "sweep-worker.js");
  if (existsSync(here)) return here;
  // Running from the TypeScript sources (tests): use the built file.
  return resolve(__dirname, "../dist/explorer/sweep-worker.js");
}

export async function exploreMany(
  specs: ScenarioSpec[],
  opts: SweepOptions = {},
): Promise<ExplorationResult[]> {
  const { workers = cpus().length, onProgress, ...explore_ } = opts;
  const results: ExplorationResult[] = new Array(specs.length);
  if (workers <= 0 || specs.length <= 1) {
    specs.forEach((s, i) => {
      results[i] = explore(s, explore_);
      onProgress?.(i + 1, specs.length);
    });
    return results;
  }
  let next = 0;
  let done = 0;
  const file = workerFile();
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
  const pool = Array.from({ length: Math.min(workers, specs.length) }, () => new Worker(file));
  try {
    await Promise.all(pool.map(run));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}
