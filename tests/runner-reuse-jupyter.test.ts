/**
 * The runner runs a notebook in the kernel of an earlier notebook of its folder once that kernel
 * has reset itself, and starts a new kernel when it cannot (tests/kernel-reset-jupyter.test.ts
 * covers the reset itself).
 */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./kernel-support";

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
    const out = join(dir, "out");
    const r = await runCli([
      "run",
      "--notebooks",
      dir,
      "--out",
      out,
      "--jobs",
      "1",
      "--no-progress",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const pid = (out: string, name: string) =>
      /pid (\d+)/.exec(stdout(join(out, `${name}.ipynb`)))?.[1];
    expect(pid(out, "a")).toBeDefined();
    expect([pid(out, "b"), pid(out, "c")]).toEqual([pid(out, "a"), pid(out, "a")]);
    expect(pid(out, "d")).toBeDefined();
    expect(pid(out, "d")).not.toBe(pid(out, "a"));
    // Without reuse, a kernel per notebook.
    const out2 = join(dir, "out2");
    const fresh = await runCli([
      "run",
      join(dir, "a.ipynb"),
      join(dir, "b.ipynb"),
      "--out",
      out2,
      "--jobs",
      "1",
      "--no-kernel-reuse",
      "--no-progress",
    ]);
    expect(fresh.status).toBe(0);
    expect(pid(out2, "b")).not.toBe(pid(out2, "a"));
  });
});
