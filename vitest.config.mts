import { availableParallelism } from "os";
import { resolve } from "path";
import { defineConfig } from "vitest/config";

/**
 * Three projects, each runnable alone (`npm run test:unit`, `test:jupyter`, `test:browser`);
 * `npm test` runs them all.
 * - jupyter: tests that start kernel processes (the runner's, or real Jupyter's):
 *   `*-jupyter.test.ts` and tests/jupyter/**;
 * - browser: tests that drive Chromium: `*-browser.test.ts` and tests/browser/**;
 * - unit: everything else (the library, parsers, CLI commands that start no kernel).
 *
 * unit runs its files in worker threads that keep the modules they loaded from one file to the
 * next (isolate: false): the library is loaded once per worker, not once per file. Its tests
 * leave no global state behind (a test that must change the library's tables works on a copy
 * of its own, see tests/format-parse.test.ts). The kernel's modules import the library as
 * "execmem-lab" (the report and runner its display module alone, "execmem-lab/dist/display"): in
 * unit those names are the library's sources, the one copy the tests import.
 * jupyter and browser run in child processes (the default pool), also reused from one file to
 * the next: their tests start and stop processes of their own and leave nothing in the worker.
 */
const JUPYTER = ["tests/**/*-jupyter.test.ts", "tests/jupyter/**/*.test.ts"];
const BROWSER = ["tests/**/*-browser.test.ts", "tests/browser/**/*.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["tests/kernel-global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // One worker more than cores (Vitest's default leaves one core out: one worker on 2 cores):
    // the jupyter and browser tests spend much of their time waiting on the processes they
    // start. On 2 cores, npm test took 79 and 90 s with 3 workers, 87 and 94 s with 2 (runs
    // taken in turn, the same CPU time).
    maxWorkers: availableParallelism() + 1,
    projects: [
      {
        extends: true,
        resolve: {
          alias: [
            { find: /^execmem-lab$/, replacement: resolve(import.meta.dirname, "lib/index.ts") },
            {
              find: /^execmem-lab\/dist\/display$/,
              replacement: resolve(import.meta.dirname, "lib/display.ts"),
            },
          ],
        },
        test: {
          name: "unit",
          include: ["tests/**/*.test.ts"],
          exclude: [...JUPYTER, ...BROWSER],
          pool: "threads",
          isolate: false,
        },
      },
      { extends: true, test: { name: "jupyter", include: JUPYTER, isolate: false } },
      {
        extends: true,
        test: { name: "browser", include: BROWSER, exclude: JUPYTER, isolate: false },
      },
    ],
  },
});
