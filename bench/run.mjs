#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark module listed in BENCHES and prints its figures.
 *
 * A benchmark module exports `default async function bench()` returning a list of figures:
 *   { name: string, value: number, unit: string, target?: { max?: number, min?: number }, note?: string }
 * Adding a benchmark is one line in BENCHES.
 *
 * Usage: node bench/run.mjs [--json] [NAME...]   (NAME filters modules by file name, e.g. runner)
 */
import { URL } from "node:url";

const BENCHES = [
  "./runner.mjs", // headless notebook runner: overhead per notebook, whole reproduce
  "./plots.mjs", // residency heatmap draw time, 20 figures to PNG in one call
  "./execmem.mjs", // one million alloc/free per allocator, latency sweep
  "./explorer.mjs", // S1–S13, states/s, A11 sweep on worker threads, 4-CPU text_poke_bp
  "./litmus.mjs", // the 52 herd7 AArch64 ifetch litmus tests: agreement count and time
];

function fmt(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function verdict(f) {
  if (!f.target) return "";
  const { max, min } = f.target;
  const ok = (max === undefined || f.value <= max) && (min === undefined || f.value >= min);
  const bound = [min !== undefined ? `>= ${min}` : "", max !== undefined ? `<= ${max}` : ""].filter(Boolean).join(", ");
  return `${ok ? "ok" : "OVER TARGET"} (target ${bound} ${f.unit})`;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const filters = args.filter((a) => !a.startsWith("--"));
  const selected = BENCHES.filter((m) => filters.length === 0 || filters.some((f) => m.includes(f)));
  if (selected.length === 0) {
    console.error(`bench: no benchmark matches ${filters.join(", ")}; known: ${BENCHES.join(", ")}`);
    process.exit(2);
  }
  const all = [];
  for (const path of selected) {
    const mod = await import(new URL(path, import.meta.url).href);
    if (typeof mod.default !== "function") {
      throw new Error(`bench/${path}: must export a default async function returning figures`);
    }
    const t0 = Date.now();
    const figures = await mod.default();
    for (const f of figures) {
      if (typeof f.name !== "string" || typeof f.value !== "number" || typeof f.unit !== "string") {
        throw new Error(`bench/${path}: figure ${JSON.stringify(f)} needs name, value (number) and unit`);
      }
      all.push({ module: path.replace(/^\.\//, ""), ...f });
      if (!json) {
        const v = verdict(f);
        console.log(`${f.name.padEnd(58)} ${fmt(f.value).padStart(9)} ${f.unit.padEnd(3)} ${v}${f.note ? `  ${f.note}` : ""}`);
      }
    }
    if (!json) console.log(`  (${path.replace(/^\.\//, "")} took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (json) console.log(JSON.stringify(all, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
