import { defineConfig } from "vitest/config";

/**
 * Three projects, each runnable alone (`npm run test:unit`, `test:jupyter`, `test:browser`);
 * `npm test` runs them all.
 * - jupyter: tests that start kernel processes (the runner's, or real Jupyter's):
 *   `*-jupyter.test.ts` and tests/jupyter/**;
 * - browser: tests that drive Chromium: `*-browser.test.ts` and tests/browser/**;
 * - unit: everything else (the library, parsers, CLI commands that start no kernel).
 */
const JUPYTER = ["tests/**/*-jupyter.test.ts", "tests/jupyter/**/*.test.ts"];
const BROWSER = ["tests/**/*-browser.test.ts", "tests/browser/**/*.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["tests/kernel-global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/**/*.test.ts"], exclude: [...JUPYTER, ...BROWSER] },
      },
      { extends: true, test: { name: "jupyter", include: JUPYTER } },
      { extends: true, test: { name: "browser", include: BROWSER, exclude: JUPYTER } },
    ],
  },
});
