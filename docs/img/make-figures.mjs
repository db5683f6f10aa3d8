#!/usr/bin/env node
/**
 * Makes the README's figures from real results (explorer, allocator simulator, cost model) and
 * renders them with headless Chromium, as `execmem-lab render` does. Needs `npm run build`.
 * Usage: node docs/img/make-figures.mjs [--json] [--dry-run]
 *   --json also writes each figure's JSON; --dry-run builds the figures and writes nothing
 *   (tests/docs-figures.test.ts runs it so the script keeps working).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);
// The library's public surface (lib/index.ts, built).
const P = require(join(root, "lib", "dist", "index.js"));
const { explore, parseScenario, compareAllocators, latencySweep } = P;
const { renderFigures } = require(join(root, "kernel", "dist", "render.js"));

function scenario(name) {
  const s = parseScenario(
    readFileSync(join(root, "tests", "scenarios", `${name}.litmus`), "utf8"),
    name,
  );
  return { s, r: explore(s) };
}

const s1 = scenario("S1");
const s11 = scenario("S11");
const stale = s1.r.outcomes.find((o) => o.values["1:r0"] === "stale");
// The EL1 instruction abort CPU1 fetched ahead of set_pte (docs/model.md, S11).
const oops = s11.r.outcomes.find((o) => o.values["1:r0"] === "oops");
if (!stale || !oops) throw new Error("make-figures: S1 has no stale outcome or S11 no oops outcome");

const runs = compareAllocators("x86-64", {
  events: 2000,
  sampleEvery: 40,
  maps: true,
  strategies: ["module_alloc", "bpf_prog_pack", "execmem_rox_cache"],
});

const verdicts = [];
for (const name of ["S1", "S2", "S3", "S7", "S8", "S9", "S10", "S12", "S13"]) {
  const { s, r } = scenario(name);
  const mitigations = {
    S1: [],
    S2: ["serialise"],
    S3: ["text_poke_sync"],
    S7: ["ISB"],
    S8: ["DC/IC", "ISB"],
    S9: ["DC/IC"],
    S10: ["ISB"],
    S12: ["local fence.i"],
    S13: ["remote fence.i"],
  }[name];
  const arch = name === "S10" ? "arm64 IDC=1 DIC=1" : s.arch;
  verdicts.push(P.verdictOf(r, { arch, mitigations, note: `scenario ${name}` }));
}

const figures = {
  "residency-s1-stale": P.witnessFigure(stale, {
    versions: s1.s.regions[0].versions,
    title: "S1 (x86-64): witness of 1:r0=stale",
  }),
  "residency-s11-oops": P.residencyHeatmap(oops.witness, {
    versions: s11.s.regions[0].versions,
    title: "S11 (arm64): residency along the witness of 1:r0=oops",
  }),
  fragmentation: P.fragmentationFigure(
    runs.map((r) => P.fragmentationFromRun(r)),
    {
      title: "x86-64 module area under a module/BPF/kprobe/ftrace churn (2,000 events)",
    },
  ),
  "latency-vs-cpus": P.latencyVsCpusByArch(P.latencyFromSweep(latencySweep({ samples: 100 })), {
    logY: true,
    title: "Text patching latency against CPU count (cost model, median, p10–p90)",
  }),
  verdicts: P.verdictTable(verdicts, {
    title: "Which synchronisation is sufficient (docs/model.md acceptance scenarios)",
  }),
};

const names = Object.keys(figures);
if (process.argv.includes("--dry-run")) {
  for (const n of names) console.log(`${n}: ${figures[n].data.length} traces`);
  process.exit(0);
}
if (process.argv.includes("--json")) {
  for (const n of names) writeFileSync(join(here, `${n}.json`), JSON.stringify(figures[n]));
}
const pngs = await renderFigures(
  names.map((n) => figures[n]),
  { format: "png" },
);
pngs.forEach((png, i) => writeFileSync(join(here, `${names[i]}.png`), png));
console.log(`wrote ${names.map((n) => `docs/img/${n}.png`).join(", ")}`);
