/**
 * The headless runner's figures: a kernel's cold start to its first executed cell (process +
 * TypeScript + zmq handshake + one trivial cell; median of several), the same for a notebook
 * whose kernel the runner started ahead, the same for a kernel reset after a notebook (the
 * runner's usual case; the cold kernels' start-up phases in the note), and the
 * whole `reproduce` with its slowest notebooks. Uses the built runner (kernel/dist), like
 * `npm run reproduce` does.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const trivial = (id) => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: "code", id, source: 'import { architectures } from "execmem-lab";\nObject.keys(architectures).length', metadata: {}, outputs: [], execution_count: null }],
});

/**
 * The median of each start-up phase the cold kernels traced, as "phase ms/CPU ms" since their
 * process started, and their garbage collection time.
 */
function phaseNote(file) {
  let lines = [];
  try {
    lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  } catch {
    return "";
  }
  const firsts = lines.filter((l) => l.marks.some(([m]) => m === "reply"));
  if (!firsts.length) return "";
  const names = ["main", "bound", "converter", "execute", "compiled", "reply"];
  const at = (l, name) => l.marks.find(([m]) => m === name);
  const parts = names.map((name) => {
    const got = firsts.map((l) => at(l, name)).filter(Boolean);
    return got.length ? `${name} ${median(got.map((m) => m[1]))}/${median(got.map((m) => m[2]))}` : "";
  });
  const gc = median(firsts.map((l) => l.gc.reduce((a, g) => a + g[1], 0)));
  return `phases, median ms since the process started / CPU ms: ${parts.filter(Boolean).join(", ")}; GC ${gc.toFixed(0)} ms`;
}

export default async function bench() {
  const { runNotebook } = require(join(root, "kernel", "dist", "runner", "execute.js"));
  // Inside the checkout, so that "execmem-lab" resolves as from notebooks/.
  const dir = mkdtempSync(join(root, "bench", ".runner-"));
  const runs = 5;
  const total = [];
  const cold = [];
  const pooled = [];
  const coldNoSnapshot = [];
  const reused = [];
  const { kernelSnapshot } = require(join(root, "kernel", "dist", "snapshot.js"));
  const snapshot = kernelSnapshot();
  let phases = "";
  try {
    const path = join(dir, "cold.ipynb");
    writeFileSync(path, JSON.stringify(trivial("c1")));
    // Each kernel writes its start-up phases (kernel/trace.ts: a few timestamps, no other work).
    const trace = join(dir, "trace.jsonl");
    process.env.EXECMEM_LAB_KERNEL_TRACE = trace;
    try {
      for (let i = 0; i < runs; i++) {
        const r = await runNotebook(path, trivial("c1"), { timeoutMs: 60_000 });
        if (r.failures.length) throw new Error(`bench notebook failed: ${JSON.stringify(r.failures)}`);
        total.push(r.durationMs);
        const first = r.cells.find((c) => c.durationMs !== undefined);
        cold.push(r.startMs + (first?.durationMs ?? NaN));
      }
    } finally {
      delete process.env.EXECMEM_LAB_KERNEL_TRACE;
    }
    phases = phaseNote(trace);
    // The same without the kernel's startup snapshot (kernel/snapshot.ts), for comparison.
    process.env.EXECMEM_LAB_KERNEL_SNAPSHOT = "0";
    try {
      for (let i = 0; i < 3; i++) {
        const r = await runNotebook(path, trivial("c1"), { timeoutMs: 60_000 });
        if (r.failures.length) throw new Error(`bench notebook failed: ${JSON.stringify(r.failures)}`);
        const first = r.cells.find((c) => c.durationMs !== undefined);
        coldNoSnapshot.push(r.startMs + (first?.durationMs ?? NaN));
      }
    } finally {
      delete process.env.EXECMEM_LAB_KERNEL_SNAPSHOT;
    }
    // A kernel started ahead, as the runner does with --no-kernel-reuse for every notebook after
    // the first ones of a run: the notebook starts once the kernel is up and has had the time of
    // an earlier notebook (a second here: a kernel warms its converter once idle for 0.5 s).
    const { KernelClient } = require(join(root, "kernel", "dist", "runner", "client.js"));
    for (let i = 0; i < runs; i++) {
      const kernel = KernelClient.start({ cwd: dir });
      await kernel;
      await new Promise((r) => setTimeout(r, 1000));
      const r = await runNotebook(path, trivial("c1"), { timeoutMs: 60_000, kernel });
      if (r.failures.length) throw new Error(`bench notebook failed: ${JSON.stringify(r.failures)}`);
      const first = r.cells.find((c) => c.durationMs !== undefined);
      pooled.push(r.startMs + (first?.durationMs ?? NaN));
    }
    // A kernel that ran a notebook, reset for the next one (the runner's case for every notebook
    // after the first of each job): reset + first cell.
    let kept = (await runNotebook(path, trivial("c1"), { timeoutMs: 60_000, keepKernel: true })).kernel;
    for (let i = 0; i < runs; i++) {
      const kernel = kept.reset().then((why) => {
        if (why !== null) throw new Error(`bench kernel did not reset: ${why}`);
        return kept;
      });
      const r = await runNotebook(path, trivial("c1"), { timeoutMs: 60_000, kernel, keepKernel: true });
      if (r.failures.length || !r.kernel) throw new Error(`bench notebook failed: ${JSON.stringify(r.failures)}`);
      kept = r.kernel;
      const first = r.cells.find((c) => c.durationMs !== undefined);
      reused.push(r.startMs + (first?.durationMs ?? NaN));
    }
    await kept.shutdown(500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const out = mkdtempSync(join(tmpdir(), "execmem-lab-bench-out-"));
  const t0 = Date.now();
  const rep = spawnSync(process.execPath, [join(root, "kernel", "dist", "cli.js"), "run", "--out", out, "--no-progress"], {
    cwd: root,
    encoding: "utf8",
  });
  const reproduceS = (Date.now() - t0) / 1000;
  let slowest = "";
  try {
    const m = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    slowest = [...m.notebooks]
      .sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0))
      .slice(0, 3)
      .map((n) => `${n.notebook.replace(/^notebooks\//, "")} ${((n.durationMs ?? 0) / 1000).toFixed(1)} s`)
      .join(", ");
  } catch {
    // no manifest: the note below says why
  }
  rmSync(out, { recursive: true, force: true });
  const summary = (rep.stdout.match(/(\d+) of (\d+) notebooks passed/) ?? []).slice(1);

  return [
    {
      name: "runner overhead per notebook (cold kernel + 1 cell + shutdown)",
      value: median(total) / 1000,
      unit: "s",
      target: { max: 2 },
      note: `median of ${runs}; min ${(Math.min(...total) / 1000).toFixed(2)} s`,
    },
    {
      name: "kernel start to first executed cell, cold kernel",
      value: median(cold) / 1000,
      unit: "s",
      target: { max: 0.5 },
      note: `a kernel started on demand (a run of one notebook); ${snapshot ? "from its startup snapshot" : "NO startup snapshot (npm run build makes it)"}; ${phases}`,
    },
    {
      name: "kernel start to first executed cell, cold kernel, no snapshot",
      value: median(coldNoSnapshot) / 1000,
      unit: "s",
      note: `median of ${coldNoSnapshot.length}; EXECMEM_LAB_KERNEL_SNAPSHOT=0`,
    },
    {
      name: "kernel start to first executed cell, kernel started ahead",
      value: median(pooled) / 1000,
      unit: "s",
      target: { max: 0.5 },
      note: `median of ${pooled.length}; the runner's case with --no-kernel-reuse`,
    },
    {
      name: "kernel reset after a notebook to first executed cell",
      value: median(reused) / 1000,
      unit: "s",
      target: { max: 0.5 },
      note: `median of ${reused.length}; the runner's case for the next notebook of a folder`,
    },
    {
      name: `reproduce: all notebooks (${summary[1] ?? "?"} notebooks, ${summary[0] ?? "?"} passed)`,
      value: reproduceS,
      unit: "s",
      target: { max: 20 },
      note: rep.status === 0 ? `slowest: ${slowest}` : `exit ${rep.status}: ${rep.stderr.trim().split("\n").slice(-2).join(" | ")}`,
    },
  ];
}
