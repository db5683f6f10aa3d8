/**
 * The README's example cell runs in the kernel and finds what the README says it finds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "./kernel-support";

describe("README example cell", () => {
  // tslab resolves "execmem-lab" from the notebook's folder: keep it inside the checkout.
  const dir = mkdtempSync(join(ROOT, "tests", ".readme-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("explores S1 and reaches the stale and torn runs it names", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const m = /A cell, in the kernel's words[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
    expect(m, "README has the example cell").not.toBeNull();
    const check =
      'if (JSON.stringify(badOf(r)) !== JSON.stringify(["stale", "torn"])) throw new Error(String(badOf(r)));';
    const cell = (id: string, source: string) => ({
      cell_type: "code",
      id,
      metadata: {},
      source,
      execution_count: null,
      outputs: [],
    });
    const nb = {
      cells: [cell("example", m![1]), cell("check", check)],
      metadata: {
        kernelspec: {
          name: "execmem-lab",
          display_name: "execmem-lab (TypeScript)",
          language: "typescript",
        },
      },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const path = join(dir, "readme.ipynb");
    writeFileSync(path, JSON.stringify(nb));
    const r = await runCli(["run", path, "--out", tempDir("readme-out"), "--no-progress"]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
