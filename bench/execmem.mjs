#!/usr/bin/env node
/**
 * execmem / cost benchmark: one million allocate/free events through each allocator (target
 * < 3 s each), and the latency sweep of every strategy × 1..256 CPUs (target < 5 s).
 * Runnable alone (`node bench/execmem.mjs`) or from bench/run.mjs (default export).
 * Needs `npm run build` first (reads lib/dist).
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

export async function run() {
  const {
    generateWorkload,
    runAllocator,
    ALLOCATOR_STRATEGIES,
  } = require("../lib/dist/execmem/index.js");
  const { latencySweep, STRATEGIES, CPU_COUNTS } = require("../lib/dist/cost/index.js");
  const figures = [];
  const N = 1_000_000;
  let t = performance.now();
  const events = generateWorkload({ seed: 1, events: N });
  figures.push({
    name: `generateWorkload: ${N} events`,
    value: (performance.now() - t) / 1000,
    unit: "s",
  });
  for (const s of ALLOCATOR_STRATEGIES) {
    globalThis.gc?.();
    t = performance.now();
    const r = runAllocator(s, "x86-64", events, { sampleEvery: 0 });
    const secs = (performance.now() - t) / 1000;
    figures.push({
      name: `${s}: ${N} alloc/free events (x86-64)`,
      value: secs,
      unit: "s",
      target: { max: 3 },
      note: `${r.failures} failed, ${r.sim.liveAllocations.length} live at end`,
    });
  }
  t = performance.now();
  const rows = latencySweep({ samples: 200, seed: 1 });
  figures.push({
    name: `latencySweep: ${STRATEGIES.length} strategies × ${CPU_COUNTS.length} CPU counts × 200 samples`,
    value: (performance.now() - t) / 1000,
    unit: "s",
    target: { max: 5 },
    note: `${rows.length} rows`,
  });
  return figures;
}

export default run;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const f of await run()) {
    const tgt = f.target
      ? (f.value <= f.target.max ? "ok" : "OVER TARGET") + ` (target <= ${f.target.max} ${f.unit})`
      : "";
    console.log(
      `${f.name.padEnd(62)} ${f.value.toFixed(2).padStart(8)} ${f.unit} ${tgt}${f.note ? "  " + f.note : ""}`,
    );
  }
}
