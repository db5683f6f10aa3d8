import { spawn, spawnSync } from "child_process";
import { existsSync, readFileSync, readdirSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT, cpuSeconds, runCli, tempDir, waitUntil } from "./kernel-support";

// Each test runs its own CLI (own folder, own kernel), or reads the one shared run of the fixtures
// in BATCH: most run concurrently, as they mostly wait.

const fx = (name: string) => `tests/fixtures/runner/${name}.ipynb`;

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

interface Manifest {
  notebooks: { notebook: string; status: string; failures: { label: string; message: string }[] }[];
}

/** Run one fixture into a fresh out dir; returns the CLI result and the out dir. */
async function run(name: string, ...extra: string[]) {
  const out = tempDir("runner");
  const r = await runCli(["run", fx(name), "--out", out, "--no-progress", ...extra]);
  return { ...r, out };
}

/**
 * One run of the fixtures that fail in a cell (and one that passes), one after another in one
 * kernel that resets between notebooks (the runner's usual case): made once, checked by the
 * tests below, each for its notebook.
 */
const BATCH = ["throws", "type-error", "mismatch", "checks-pass"];
let batch: Promise<Awaited<ReturnType<typeof runCli>> & { out: string }> | undefined;
function runBatch() {
  return (batch ??= (async () => {
    const out = tempDir("runner");
    const r = await runCli(["run", ...BATCH.map(fx), "--out", out, "--no-progress", "--jobs", "1"]);
    return { ...r, out };
  })());
}

/** `r`, a run in which fixture `name` failed: exit status 1, and stderr names it and `where`. */
function expectFailed<R extends { status: number | null; stderr: string }>(
  r: R,
  name: string,
  where: string,
): R {
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`FAILED ${fx(name)}, ${where}`);
  return r;
}

/** The batch run's result, in which fixture `name` must fail (see expectFailed). */
async function batchFailing(name: string, where: string) {
  return expectFailed(await runBatch(), name, where);
}

/** Run a fixture that must fail (see expectFailed). */
async function runFailing(name: string, where: string, ...extra: string[]) {
  return expectFailed(await run(name, ...extra), name, where);
}

function expectFailedReport(out: string, name: string, message: RegExp) {
  const html = readFileSync(join(out, `${name}.html`), "utf8");
  expect(html).toContain('class="banner failed"');
  expect(html).not.toContain('class="banner passed"');
  expect(html).toMatch(message);
  const m = readJson<Manifest>(join(out, "results.json"));
  const mine = m.notebooks.filter((n) => n.notebook.endsWith(`/${name}.ipynb`));
  expect(mine.map((n) => n.status)).toEqual(["failed"]);
  expect(readFileSync(join(out, "index.html"), "utf8")).toContain("FAILED");
  // No temporary files left behind.
  expect(readdirSync(out).filter((f) => f.includes(".tmp-"))).toEqual([]);
}

describe("runner failure paths", () => {
  // Its first cell (whose compile makes the kernel's first program) took over 4 s under CI's
  // load: the timeout is generous, and the cell that outlasts it blocks the kernel without
  // using the CPU (the kernel cannot be interrupted, as in an endless loop).
  it("a cell running past the per-cell timeout is stopped and fails the run", async () => {
    const t0 = Date.now();
    const r = await runFailing(
      "blocked",
      `cell 2 [id cell-2] ("// blocked for good"): cell timed out after 10 s`,
      "--timeout",
      "10",
    );
    expect(Date.now() - t0).toBeLessThan(60_000);
    expectFailedReport(r.out, "blocked", /cell timed out after 10 s/);
  });

  it.concurrent(
    "a throwing cell fails the run naming notebook, cell and error, and stops the notebook",
    async () => {
      const r = await batchFailing(
        "throws",
        `cell 3 [id cell-3] ("function boom(): never {"): RangeError: boom from the fixture`,
      );
      expectFailedReport(r.out, "throws", /RangeError: boom from the fixture/);
      const nb = readJson<{
        cells: { outputs?: { output_type: string }[]; execution_count?: number | null }[];
      }>(join(r.out, "throws.ipynb"));
      expect(nb.cells[2].outputs?.map((o) => o.output_type)).toEqual(["error"]);
      expect(nb.cells[3].execution_count).toBeNull(); // never ran
      expect(readFileSync(join(r.out, "throws.html"), "utf8")).toContain(
        "not executed: an earlier cell failed",
      );
    },
  );

  it.concurrent("a TypeScript type error fails the run with the diagnostic", async () => {
    const r = await batchFailing(
      "type-error",
      `cell 2 [id cell-2] ("const s: number = \\"not a number\\";"): ` +
        `TypeScriptError: 1:7 - Type 'string' is not assignable to type 'number'.`,
    );
    expectFailedReport(
      r.out,
      "type-error",
      /Type &#39;string&#39; is not assignable to type &#39;number&#39;/,
    );
  });

  it.concurrent(
    "an output mismatch in a check-output cell fails the run, and later cells still run",
    async () => {
      const r = await batchFailing(
        "mismatch",
        `cell 1 [id cell-1] ("console.log(6 * 7);"): output check (check-output) failed: ` +
          `output 1 (stream stdout) differs at line 1: expected "41", got "42"`,
      );
      expectFailedReport(r.out, "mismatch", /expected &#34;41&#34;, got &#34;42&#34;/);
      expect(readFileSync(join(r.out, "mismatch.ipynb"), "utf8")).toContain("after the check");
    },
  );

  it.concurrent(
    "a missing notebook is an input error: exit 2, named, nothing written",
    async () => {
      const r = await run("does-not-exist");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`execmem-lab: ${fx("does-not-exist")}: notebook not found`);
      expect(existsSync(join(r.out, "index.html"))).toBe(false);
    },
  );

  it.concurrent("a notebook that is not JSON is an input error naming the file", async () => {
    const r = await runCli([
      "run",
      "tests/fixtures/runner/../../kernel-support.ts",
      "--out",
      tempDir("runner"),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/tests\/kernel-support\.ts: not valid JSON/);
  });

  it.concurrent(
    "an undeclared parameter is an input error naming the parameters cell's notebook",
    async () => {
      const r = await run("params", "-p", "nope", "1");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        `parameter nope is not declared (let/const nope = ...) in the cell tagged "parameters" of ${fx("params")}`,
      );
    },
  );
});

describe("runner success paths", () => {
  it.concurrent(
    "check-output cells pass when outputs match after sanitising volatile parts",
    async () => {
      const r = await runBatch();
      expect(r.stderr).not.toContain(`FAILED ${fx("checks-pass")}`);
      const m = readJson<Manifest>(join(r.out, "results.json"));
      const status = Object.fromEntries(
        m.notebooks.map((n) => [n.notebook.split("/").pop(), n.status]),
      );
      expect(status).toEqual(
        Object.fromEntries(
          BATCH.map((b) => [`${b}.ipynb`, b === "checks-pass" ? "passed" : "failed"]),
        ),
      );
      expect(r.stdout).toContain("1 of 4 notebooks passed");
    },
  );

  it.concurrent(
    "-p NAME VALUE injects a parameters cell after the cell tagged parameters",
    async () => {
      const r = await run(
        "params",
        "-p",
        "count",
        "5",
        "-p",
        "label",
        "hi there",
        "-p",
        "verbose",
        "true",
      );
      expect(r.status).toBe(0);
      const nb = readJson<{
        cells: {
          source: string[];
          metadata: { tags?: string[] };
          outputs?: { text?: string[] }[];
        }[];
      }>(join(r.out, "params.ipynb"));
      expect(nb.cells[1].metadata.tags).toEqual(["injected-parameters"]);
      expect(nb.cells[1].source.join("")).toContain(
        'let count = 5;\nlet label = "hi there";\nlet verbose = true;',
      );
      expect(nb.cells[2].outputs?.[0].text?.join("")).toBe(
        "count=5 (number) label=hi there verbose=true\n",
      );
    },
  );

  it.concurrent(
    "runs several notebooks in parallel, one kernel process each, and indexes their summaries",
    async () => {
      const out = tempDir("runner");
      const r = await runCli([
        "run",
        fx("summary"),
        fx("params"),
        "--out",
        out,
        "--no-progress",
        "--jobs",
        "2",
      ]);
      expect(r.status).toBe(0);
      const index = readFileSync(join(out, "index.html"), "utf8");
      expect(index).toContain("<td>A0</td><td>a fixture claim</td><td>a fixture finding</td>");
      expect(index).toContain('href="summary.html"');
      expect(readFileSync(join(out, "summary.html"), "utf8")).toContain('href="params.html"');
    },
  );
});

describe("runner interrupted", () => {
  const childrenOf = (pid: number): number[] => {
    const r = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
    return r.stdout
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  };
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** A run of the `timeout` fixture whose kernel is spinning in its endless cell. */
  async function startStuckRun() {
    // With progress on (one line per event on a pipe): "cell 2/2" when the endless cell is sent.
    const child = spawn(
      process.execPath,
      [CLI, "run", fx("timeout"), "--out", tempDir("runner"), "--timeout", "120"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    await waitUntil(() => stderr.includes("cell 2/2"));
    expect(stderr).toContain("cell 2/2");
    const kernels = childrenOf(child.pid ?? 0);
    expect(kernels).toHaveLength(1);
    // The kernel runs the endless cell: it keeps a core busy.
    const cpu0 = cpuSeconds(kernels[0]);
    await waitUntil(() => cpuSeconds(kernels[0]) - cpu0 >= 0.3);
    expect(cpuSeconds(kernels[0]) - cpu0).toBeGreaterThanOrEqual(0.3);
    return { child, kernels, exited, stderr: () => stderr };
  }

  async function gone(pid: number): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      if (!alive(pid)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it.concurrent("Ctrl-C stops the run with status 130 and kills its kernels", async () => {
    const run = await startStuckRun();
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain("interrupted (SIGINT)");
    expect(await gone(run.kernels[0])).toBe(true);
  });

  it.concurrent(
    "a kernel stuck in a synchronous loop exits when the runner is SIGKILLed",
    async () => {
      const run = await startStuckRun();
      run.child.kill("SIGKILL");
      await run.exited;
      expect(await gone(run.kernels[0])).toBe(true);
    },
  );
});
