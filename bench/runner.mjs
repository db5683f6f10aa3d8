/**
 * The headless runner's figures: overhead per notebook (kernel process start + one trivial
 * cell + shutdown, median of several runs; target <= 2 s) and the whole `reproduce` time.
 * Uses the built runner (kernel/dist), like `npm run reproduce` does.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

export default async function bench() {
  const { runNotebook } = require(join(root, "kernel", "dist", "runner", "execute.js"));
  const dir = mkdtempSync(join(tmpdir(), "execmem-lab-bench-"));
  const path = join(dir, "trivial.ipynb");
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: "code", id: "c1", source: "1 + 1", metadata: {}, outputs: [], execution_count: null }],
  };
  writeFileSync(path, JSON.stringify(nb));
  const runs = 5;
  const total = [];
  const start = [];
  try {
    for (let i = 0; i < runs; i++) {
      const r = await runNotebook(path, JSON.parse(JSON.stringify(nb)), { timeoutMs: 60_000 });
      if (r.failures.length) throw new Error(`bench notebook failed: ${JSON.stringify(r.failures)}`);
      total.push(r.durationMs);
      start.push(r.startMs);
    }
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
  rmSync(out, { recursive: true, force: true });
  const summary = (rep.stdout.match(/(\d+) of (\d+) notebooks passed/) ?? []).slice(1);

  return [
    {
      name: "runner overhead per notebook (kernel start + 1 trivial cell)",
      value: median(total) / 1000,
      unit: "s",
      target: { max: 2 },
      note: `median of ${runs}; min ${(Math.min(...total) / 1000).toFixed(2)} s`,
    },
    { name: "  of which kernel start (process + tslab + zmq handshake)", value: median(start) / 1000, unit: "s" },
    {
      name: `reproduce: all notebooks (${summary[1] ?? "?"} notebooks, ${summary[0] ?? "?"} passed)`,
      value: reproduceS,
      unit: "s",
      note: rep.status === 0 ? "" : `exit ${rep.status}: ${rep.stderr.trim().split("\n").slice(-2).join(" | ")}`,
    },
  ];
}
