#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark module listed in BENCHES and prints its figures.
 *
 * A benchmark module exports `default async function bench()` returning a list of figures:
 *   { name: string, value: number, unit: string, target?: { max?: number, min?: number },
 *     peer?: { name: string, value: number }, note?: string }
 * Each figure with a target is printed with "ok" or "over" and its target; one with a peer (the
 * same work done by another tool, e.g. herd7) with the ratio peer / ours ("3.1x herd7" = ours
 * takes a third of herd7's time; for rates, ours / peer).
 * Adding a benchmark is one line in BENCHES.
 *
 * Usage: node bench/run.mjs [--json] [NAME...]   (NAME filters modules by file name, e.g. runner)
 */
import os from "node:os";
import { URL } from "node:url";

const BENCHES = [
  "./runner.mjs", // headless notebook runner: overhead per notebook, whole reproduce
  "./plots.mjs", // residency heatmap draw time, 20 figures to PNG in one call
  "./execmem.mjs", // one million alloc/free per allocator, latency sweep
  "./explorer.mjs", // S1–S13, states/s, A11 sweep on worker threads, 4-CPU text_poke_bp
  "./litmus.mjs", // the 52 herd7 AArch64 ifetch litmus tests: agreement count and time
  "./litmus-riscv.mjs", // the 37 herd7 RISC-V ifetch tests, Ziccif-only and Ziccid: agreement, time, states
  "./parse.mjs", // scenario parse time per MB of text
  "./tests.mjs", // the test suite: npm run test:unit and npm test, wall and CPU time
];

export function fmt(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** "ok" or "over" with the target, or "" when the figure has none. */
export function verdict(f) {
  if (!f.target) return "";
  const { max, min } = f.target;
  const ok = (max === undefined || f.value <= max) && (min === undefined || f.value >= min);
  const bound = [min !== undefined ? `>= ${fmt(min)}` : "", max !== undefined ? `<= ${fmt(max)}` : ""]
    .filter(Boolean)
    .join(", ");
  return `${ok ? "ok  " : "over"} (target ${bound} ${f.unit})`;
}

/** How many times better than the peer: for times peer / ours, for rates (unit "/s") ours / peer. */
export function ratio(f) {
  if (!f.peer || !(f.peer.value > 0) || !(f.value > 0)) return "";
  const x = f.unit === "/s" ? f.value / f.peer.value : f.peer.value / f.value;
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x ${f.peer.name} (${fmt(f.peer.value)} ${f.unit})`;
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
        const extra = [verdict(f), ratio(f), f.note].filter(Boolean).join("  ");
        console.log(`${f.name.padEnd(58)} ${fmt(f.value).padStart(9)} ${f.unit.padEnd(3)} ${extra}`);
      }
    }
    if (!json) console.log(`  (${path.replace(/^\.\//, "")} took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (json) console.log(JSON.stringify(all, null, 2));
  else {
    const targeted = all.filter((f) => f.target);
    const over = targeted.filter((f) => verdict(f).startsWith("over"));
    console.log(`\n${targeted.length - over.length} of ${targeted.length} figures with a target ok` + (over.length ? `; over: ${over.map((f) => f.name.trim()).join("; ")}` : ""));
    console.log(`machine: ${machine()}`);
  }
}

/** The machine the figures were measured on (CPU model, cores, memory, Node). */
function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
