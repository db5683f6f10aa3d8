/**
 * The runner runs a notebook in the kernel of an earlier notebook of its folder once that kernel
 * has reset itself, and starts a new kernel when it cannot (tests/kernel-reset-jupyter.test.ts
 * covers the reset itself).
 */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { runNotebooks } from "../kernel/runner/run";
import { tempDir } from "./kernel-support";

function notebook(...cells: string[]) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((source, i) => ({
      cell_type: "code",
      id: `c${i}`,
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  };
}

/** The stdout of every cell of an executed notebook, joined. */
function stdout(ipynb: string): string {
  const nb = JSON.parse(readFileSync(ipynb, "utf8")) as {
    cells: { outputs: { output_type: string; text?: string | string[] }[] }[];
  };
  return nb.cells
    .flatMap((c) => c.outputs)
    .filter((o) => o.output_type === "stream")
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")))
    .join("");
}

const PID = 'console.log("pid " + process.pid)';
const NO_LEAK =
  'if ((globalThis as any).leaked !== undefined) throw new Error("state of an earlier notebook");';

describe("runner: kernels reused across notebooks", () => {
  it("runs the notebooks of a folder in one kernel, reset between them, and replaces a kernel that cannot reset", async () => {
    const dir = tempDir("reuse");
    // In name order with one job: a, b share a kernel; c leaves a timer running, so d gets a new one.
    const nbs = {
      a: notebook(PID, NO_LEAK, "(globalThis as any).leaked = 1; let x = 1;"),
      b: notebook(PID, NO_LEAK, "let x = 2; x"),
      c: notebook(PID, NO_LEAK, "setInterval(() => {}, 1000);"),
      d: notebook(PID, NO_LEAK),
    };
    for (const [name, nb] of Object.entries(nbs))
      writeFileSync(join(dir, `${name}.ipynb`), JSON.stringify(nb));
    const r = await runNotebooks({
      cwd: dir,
      notebooksDir: ".",
      outDir: join(dir, "out"),
      jobs: 1,
    });
    expect(r.results.map((x) => [x.notebook, x.status, x.failures])).toEqual(
      ["a", "b", "c", "d"].map((n) => [`${n}.ipynb`, "passed", []]),
    );
    const pid = (n: number) => /pid (\d+)/.exec(stdout(r.results[n].ipynb))?.[1];
    expect(pid(0)).toBeDefined();
    expect([pid(1), pid(2)]).toEqual([pid(0), pid(0)]);
    expect(pid(3)).not.toBe(pid(0));
    // Without reuse, a kernel per notebook.
    const fresh = await runNotebooks({
      cwd: dir,
      notebooks: ["a.ipynb", "b.ipynb"],
      outDir: join(dir, "out2"),
      jobs: 1,
      reuseKernels: false,
    });
    expect(fresh.ok).toBe(true);
    expect(/pid (\d+)/.exec(stdout(fresh.results[0].ipynb))?.[1]).not.toBe(
      /pid (\d+)/.exec(stdout(fresh.results[1].ipynb))?.[1],
    );
  });
});
