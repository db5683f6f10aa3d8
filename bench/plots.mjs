/**
 * The plots' figures: drawing a residency heatmap of 10,000 steps × 512 lines in the browser
 * (target < 2 s), and rendering 20 figures to PNG in one renderFigures call (target <= 5 s; also timed on one page).
 * Uses the built library and renderer (lib/dist, kernel/dist). Standalone: node bench/plots.mjs
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** A one-CPU I-cache witness: each step fills, replaces or evicts one line (seeded). */
function bigWitness(steps, lines) {
  const names = Array.from({ length: lines }, (_, i) => `f+${i}`);
  const versions = ["old", "new", "trap", "fault"];
  // The version order each cell carries, as the machine gives it (the region's versions).
  const order = ["old", "new"];
  const cell = (line, version) => ({ cpu: 0, structure: "icache", line, version, order });
  const cur = names.map((line) => cell(line, "old"));
  const initial = [...cur];
  const out = [];
  let s = 12345;
  for (let i = 1; i <= steps; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const l = s % lines;
    const v = (s >>> 16) % 5;
    const from = cur[l]?.version ?? null;
    const to = v === 4 ? null : versions[v];
    cur[l] = to === null ? null : cell(names[l], to);
    out.push({
      step: i,
      cpu: 0,
      kind: "hardware",
      action: v === 4 ? `evict ${names[l]}` : `fill ${names[l]}`,
      changes: [{ structure: "icache", cpu: 0, line: names[l], from, to, order }],
      effect: `icache[0] ${names[l]}: {${from ?? ""}} -> {${to ?? ""}}`,
      sync: i % 1000 === 0,
      residency: cur.filter((c) => c !== null),
    });
  }
  return { steps: out, initial, lines: names, cpus: 1 };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Twenty figures of every kind, small as in the notebooks. */
function twentyFigures(P) {
  const witness = bigWitness(40, 8);
  const lat = [];
  for (const [strategy, arch, k] of [
    ["text_poke_bp", "x86-64", 900],
    ["aarch64_insn_patch_text", "arm64", 1500],
    ["patch_text", "riscv64", 1100],
  ]) {
    for (let cpus = 1; cpus <= 256; cpus *= 2) {
      lat.push({
        strategy,
        arch,
        cpus,
        samples: Array.from({ length: 50 }, (_, i) => 3000 + k * cpus * (0.8 + (i % 10) / 25)),
      });
    }
  }
  const frag = ["ROX cache", "module_alloc", "bpf_prog_pack"].map((allocator, a) => ({
    allocator,
    range: { start: 0, end: 4 << 20 },
    steps: Array.from({ length: 60 }, (_, t) => ({
      t,
      extents: [
        { start: 0, end: (t + 1) * 32768 * (a + 1), state: "allocated" },
        { start: (t + 1) * 32768 * (a + 1), end: 2 << 20, state: a === 1 ? "free" : "trap" },
      ],
      freeExtents: [4096 * (t + 1), 65536],
      directMapSplits: a === 1 ? t : 0,
      hugeMappings: a === 1 ? 0 : 1,
    })),
  }));
  const cells = ["x86-64", "x86-64+FRED", "arm64", "arm64 IDC=1 DIC=1", "riscv64"].flatMap(
    (arch, ai) =>
      Array.from({ length: 16 }, (_, m) => ({
        arch,
        mitigations: ["1", "2", "3", "4"].filter((_, b) => m & (1 << b)),
        sufficient: (m & 8) !== 0 && ((m & 4) !== 0 || ai < 2),
        outcomes: (m & 8) !== 0 && ((m & 4) !== 0 || ai < 2) ? [] : ["stale"],
      })),
  );
  const figs = [];
  for (let i = 0; i < 4; i++) {
    figs.push(P.residencyHeatmap(witness), P.swimlane(witness));
    figs.push(i % 2 ? P.latencyVsCpus(lat, { logY: true }) : P.latencyCdf(lat, { cpus: 64 }));
    figs.push(i % 2 ? P.fragmentationFigure(frag) : P.latencyBox(lat, { cpus: 16 }));
    figs.push(P.verdictTable(cells, { mitigations: ["1", "2", "3", "4"] }));
  }
  return figs;
}

export async function run() {
  const P = require(join(root, "lib", "dist", "plots"));
  const { FigureRenderer, renderFigures } = require(join(root, "kernel", "dist", "render.js"));
  const out = [];

  let t = performance.now();
  const witness = bigWitness(10_000, 512);
  const fig = P.residencyHeatmap(witness, { cpus: [0], structures: ["icache"] });
  const buildMs = performance.now() - t;
  const r = await FigureRenderer.open();
  const draws = [];
  const totals = [];
  try {
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const d = await r.draw(fig);
      totals.push(performance.now() - t);
      if (d.errors.length) throw new Error(`drawing logged errors: ${d.errors.join("; ")}`);
      draws.push(d.ms);
    }
  } finally {
    await r.close();
  }
  out.push({
    name: "plots: residency 10,000 steps × 512 lines, build figure",
    value: buildMs,
    unit: "ms",
  });
  out.push({
    name: "plots: residency 10,000 × 512, draw in browser (median of 3)",
    value: median(draws),
    unit: "ms",
    target: { max: 2000 },
    note: "Plotly.newPlot to next frame",
  });
  out.push({
    name: "plots: residency 10,000 × 512, draw incl. transfer to page",
    value: median(totals),
    unit: "ms",
  });

  const figs = twentyFigures(P);
  t = performance.now();
  const pngs = await renderFigures(figs, { format: "png" });
  const batchMs = performance.now() - t;
  if (pngs.length !== 20) throw new Error(`renderFigures returned ${pngs.length} images`);
  t = performance.now();
  await renderFigures(figs, { format: "png", pages: 1 });
  const onePageMs = performance.now() - t;
  out.push({
    name: "plots: 20 figures to PNG in one renderFigures call",
    value: batchMs / 1000,
    unit: "s",
    target: { max: 5 },
    note: `browser start included; pages drawing at once: min(4, cores)`,
  });
  out.push({
    name: "plots: the same 20 on one page",
    value: onePageMs / 1000,
    unit: "s",
  });
  return out;
}

export default run;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run().then(
    (figures) => {
      for (const f of figures) {
        const target = f.target
          ? ` (target ${f.target.max !== undefined ? `<= ${f.target.max}` : `>= ${f.target.min}`} ${f.unit})`
          : "";
        console.log(
          `${f.name.padEnd(62)} ${f.value.toFixed(f.value >= 100 ? 0 : 2).padStart(9)} ${f.unit}${target}`,
        );
      }
    },
    (e) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
