// %% [markdown]
// # A11 — Song Liu's four measures: which subsets are sufficient?
//
// > "I guess we need: 1) Invalidate unused part of the huge ROX pages; 2) Do not put two jit
// > users (including module text, bpf, etc.) in the same cache line; 3) Explicit cache
// > maintenance; 4) context-synchronization-events. Would these (or a subset of them) be
// > sufficient to protect us from torn read?"
// >
// > — Song Liu, 2023-06-26
//
// **The answer, computed.** `measuresScenario(arch, subset, situation)` (lib/scenario/measures.ts)
// builds one scenario per subset of the measures, architecture variant and situation: a JIT
// writes a two-line function `f` into a ROX page through the poking alias, applies the measures,
// publishes it, and CPU1 calls it.
//
// - **fresh**: the page is new; without measure 1 it holds junk, with it trap instructions;
// - **reuse**: `f`'s space held a previous program that CPU1 ran; measure 1 re-fills it with traps on free;
// - **neighbour**: another JIT user's live code `g` shares `f`'s first cache line (unless
//   measure 2) and is patched at the same time; CPU1 ran `g` before. `f` is new to CPU1, so its
//   only plausible speculative target is `g` — but a fetch reads a whole line, so running `g`
//   brings the bytes of `f` that share its line into CPU1's pipeline.
//
// Measure 3 is each architecture's maintenance (arm64: DC CVAU, DSB ISH, IC IVAU, DSB ISH; riscv64:
// local fence.i; nothing exists on x86); measure 4 is the kernel's way of synchronising every
// CPU (x86: `text_poke_sync()`; arm64: `kick_all_cpus_sync()`; riscv64: `flush_icache_all()`).
// A subset is **sufficient** when, over every interleaving, CPU1's call runs only the new code.

// %% tags=["parameters"]
let arches = "x86-64,x86-64+fred,arm64,arm64+idc+dic,riscv64";
let cpus = 16; // CPU count for the cost of the sufficient subsets
let seed = 1; // unused (exhaustive exploration)
let workers = 2; // explorer worker threads

// %% [include] _helpers.ts

// %%
import { measuresScenario, measureSubsets, SITUATIONS, MEASURE_NAMES, exploreMany, progress, verdictOf, type Measure } from "execmem-lab";

const a11arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a11specs = a11arches.flatMap((a) =>
  measureSubsets().flatMap((subset) => SITUATIONS.map((sit) => ({ arch: a, subset: subset, situation: sit, spec: measuresScenario(a, subset, sit) }))),
);
const bar11 = progress("A11: exploring every subset × variant × situation", a11specs.length);
const t11 = performance.now();
const a11res = await exploreMany(a11specs.map((x) => x.spec), { workers: workers, maxStates: 2_000_000, onProgress: (done) => bar11.update(done) });
bar11.finish(`${a11specs.length} explorations, ${a11res.reduce((t, r) => t + r.stats.states, 0)} states, ${((performance.now() - t11) / 1000).toFixed(1)} s`);
const a11 = a11specs.map((x, i) => {
  const r = a11res[i];
  const cell = verdictOf(r, { arch: x.arch, mitigations: x.subset.map(String), situation: x.situation, reg: "1:r0" });
  return { ...x, r: r, cell: cell, bad: cell.outcomes ?? [], sufficient: cell.sufficient };
});
const label11 = (s: readonly number[]) => (s.length ? `{${s.join(",")}}` : "{}");
table(
  measureSubsets().map((s) => {
    const row: Record<string, unknown> = { subset: label11(s) };
    for (const a of a11arches)
      row[a] = SITUATIONS.map((sit) => {
        const c = a11.find((x) => x.arch === a && x.situation === sit && label11(x.subset) === label11(s))!;
        return c.sufficient === true ? "✓" : c.sufficient === false ? "✗" : "?";
      }).join(" ");
    return row;
  }),
  `Sufficient (✓) or not (✗), per variant, for ${SITUATIONS.join(" / ")}`,
);

// %%
import { verdictTable, type VerdictCell } from "execmem-lab";
const cells11: VerdictCell[] = a11.map((x) => x.cell);
verdictTable(cells11, { mitigations: ["1", "2", "3", "4"], title: "Song's four measures: sufficient subsets (hover an insufficient cell for its witness)" });

// %% [markdown]
// ## What measure 2 changes
//
// The cells where a subset is insufficient and the same subset plus measure 2 (one JIT user per
// cache line) is sufficient, computed from the grid above.

// %%
const m2flips = a11.filter(
  (x) =>
    !x.subset.includes(2) &&
    x.sufficient === false &&
    a11.find((y) => y.arch === x.arch && y.situation === x.situation && label11(y.subset) === label11([...x.subset, 2].sort() as Measure[]))?.sufficient === true,
);
table(
  m2flips.map((x) => ({ arch: x.arch, situation: x.situation, subset: label11(x.subset), "without measure 2": x.bad.join(", "), "with measure 2": "sufficient", witness: badWitness(x.r)!.witness.steps.map((s) => `${s.step}.${s.kind === "hardware" ? "hw" : "cpu" + s.cpu} ${s.action}`).join("; ") })),
  `${m2flips.length} cells where measure 2 turns an insufficient subset into a sufficient one`,
);

// %% [markdown]
// ## A witness for every insufficient subset
//
// The shortest execution in which CPU1 does not run the new code, per insufficient cell (steps
// taken by the hardware on its own are marked `hw`; `★` marks synchronising steps).

// %%
const insufficient = a11.filter((x) => x.sufficient === false);
table(
  insufficient.map((x) => {
    const w = badWitness(x.r)!;
    return {
      arch: x.arch,
      subset: label11(x.subset),
      situation: x.situation,
      outcome: w.key,
      witness: w.witness.steps.map((s) => `${s.step}.${s.kind === "hardware" ? "hw" : "cpu" + s.cpu} ${s.action}${s.sync ? " ★" : ""}`).join("; "),
    };
  }),
  `${insufficient.length} insufficient cells of ${a11.length}`,
);

// %%
import { witnessFigure, display } from "execmem-lab";
// The most instructive ones drawn in full: the strongest insufficient subset on each variant.
for (const a of a11arches) {
  const worst = insufficient.filter((x) => x.arch === a).sort((p, q) => q.subset.length - p.subset.length)[0];
  if (!worst) continue;
  const w = badWitness(worst.r)!;
  display(witnessFigure(w, { versions: ["junk", "old", "new"], title: `${a} ${label11(worst.subset)} ${worst.situation}: ${w.key}` }));
}

// %% [markdown]
// ## The cost of every sufficient subset
//
// `mitigationCost(arch, subset, cpus)` from the latency model (median constants, a 4 KiB
// publication). For arm64+idc+dic the maintenance loops are not needed, so `dcLineNs` and
// `icLineNs` are overridden to 0 there (an assumption of this notebook, shown here).

// %%
import { mitigationCost, archFamily, byArch, type MitigationId } from "execmem-lab";
const overrides11 = (a: string) => (a.includes("idc") && a.includes("dic") ? { dcLineNs: 0, icLineNs: 0 } : {});
const sufficientSets = a11arches.flatMap((a) =>
  measureSubsets()
    .filter((s) => SITUATIONS.every((sit) => a11.find((x) => x.arch === a && x.situation === sit && label11(x.subset) === label11(s))!.sufficient === true))
    .map((s) => {
      const c = mitigationCost(archFamily(a).name, s as MitigationId[], cpus, { overrides: overrides11(a) });
      return { arch: a, subset: s, ns: c.totalNs, waste: c.measures.reduce((t, m) => t + m.bytesWastedPerAllocation, 0), per: c.measures.map((m) => `${m.id}: ${Math.round(m.ns)} ns`).join(", ") };
    }),
);
table(
  sufficientSets.map((x) => ({ arch: x.arch, subset: label11(x.subset), [`latency at ${cpus} CPUs (ns)`]: Math.round(x.ns), "per measure": x.per, "bytes wasted / allocation": x.waste })),
  "Subsets sufficient in all three situations, with their cost",
);

// %%
import { figure, seriesColor } from "execmem-lab";
// The series colours of every figure (lib/plots/colors.ts); a tick per power of ten.
figure(
  a11arches.map((a, i) => {
    const xs = sufficientSets.filter((x) => x.arch === a);
    return { type: "bar", name: a, marker: { color: seriesColor(i) }, x: xs.map((x) => label11(x.subset)), y: xs.map((x) => x.ns / 1000) };
  }),
  { title: `Cost of each sufficient subset at ${cpus} CPUs`, barmode: "group", yaxis: { title: { text: "latency (µs, log scale)" }, type: "log", dtick: 1 }, xaxis: { title: { text: "subset of measures" } } },
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const minimal11 = a11arches.map((a) => {
  const suff = sufficientSets.filter((x) => x.arch === a).map((x) => x.subset);
  const minimal = suff.filter((s) => !suff.some((t) => t.length < s.length && t.every((m) => s.includes(m))));
  const cheapest = sufficientSets.filter((x) => x.arch === a).sort((p, q) => p.ns - q.ns)[0];
  return { arch: a, minimal: minimal, cheapest: cheapest, all: suff.some((s) => s.length === 4) };
});
const alwaysNeeded = ([1, 2, 3, 4] as Measure[]).filter((m) => minimal11.every((x) => x.minimal.length > 0 && x.minimal.every((s) => s.includes(m))));
md(
  `All four measures together are ${minimal11.every((x) => x.all) ? "**sufficient on every variant** in every situation" : "**not** sufficient everywhere: " + minimal11.filter((x) => !x.all).map((x) => x.arch).join(", ")}. ` +
    `Minimal sufficient subsets: ` +
    minimal11.map((x) => `**${x.arch}** ${x.minimal.map(label11).join(" or ") || "none"}`).join("; ") +
    `. Needed on every variant: ${alwaysNeeded.map((m) => `(${m}) ${MEASURE_NAMES[m]}`).join(", ") || "no single measure"}; ` +
    `measures (1) and (2) ${minimal11.every((x) => x.minimal.every((s) => !s.includes(1) && !s.includes(2))) ? "are in no minimal subset (measure 1 changes what a stale run executes — trap instead of junk; measure 2 matters only where measure 4 is missing, below)" : "are needed somewhere"}. ` +
    `Cheapest sufficient subset at ${cpus} CPUs: ` +
    minimal11.map((x) => (x.cheapest ? `${x.arch} ${label11(x.cheapest.subset)} ${(x.cheapest.ns / 1000).toFixed(1)} µs` : `${x.arch} none`)).join("; ") +
    `. ${insufficient.length} of ${a11.length} cells are insufficient, each with the witness above.` +
    `\n\nMeasure 2 decides ${m2flips.length} cells: ${[...new Set(m2flips.map((x) => `${x.arch} ${label11(x.subset)}`))].join(", ") || "none"} (neighbour situation) — ` +
    `without it, running the neighbour fetches ${"`f`"}'s first line before it is written, and only a context synchronisation on CPU1 (measure 4) throws that away.`,
);

// %%
if (a11.some((x) => x.sufficient === null)) throw new Error("A11: some explorations were incomplete");
if (!minimal11.every((x) => x.all)) throw new Error("A11: the full set is not sufficient everywhere");
if (a11.some((x) => x.subset.length === 0 && x.sufficient !== false)) throw new Error("A11: the empty set is sufficient somewhere");
for (const x of insufficient) if (!badWitness(x.r)) throw new Error(`A11: no witness for ${x.r.scenario}`);
if (m2flips.length === 0) throw new Error("A11: measure 2 changes no verdict");
const armMin = byArch(minimal11)["arm64"]?.[0];
if (armMin && !armMin.minimal.every((s) => s.includes(3) && s.includes(4))) throw new Error("A11: arm64 without both 3 and 4 is sufficient");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A11",
  claim: "Song's four measures (or a subset) protect against torn reads",
  finding:
    `${minimal11.every((x) => x.all) ? "all four suffice everywhere" : "not everywhere"}; minimal: ` +
    minimal11.map((x) => `${x.arch} ${x.minimal.map(label11).join("|")}`).join(", ") +
    ` — depends on arch; needed everywhere: ${alwaysNeeded.map((m) => `#${m}`).join(", ") || "none"}`,
});
