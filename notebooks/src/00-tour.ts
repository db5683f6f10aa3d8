// %% [markdown]
// # A tour of execmem-lab
//
// The 2023 LKML thread *"mm: introduce execmem_text_alloc() and jit_text_alloc()"* argued, from
// memory of the architecture manuals, about when freshly written kernel text may be executed by
// another CPU. execmem-lab lets you **run** those arguments: an operational model of x86-64,
// arm64 and riscv64 (CPUs with store buffers, fetch pipelines, I-/D-caches, TLBs, page tables and
// memory with several aliases), and an explorer that tries *every* interleaving of the program
// steps and of what the hardware may do on its own (speculative fetch, line fills, evictions,
// store-buffer drains, TLB fills).
//
// This notebook shows what a newcomer needs to write a scenario: the machine and its
// architecture variants, a first scenario explored, and one witness read step by step with its
// residency chart. The argument notebooks (`A01` … `A13`) follow the same pattern; `90-fidelity`
// says how far to trust the model.

// %% tags=["parameters"]
// Parameters (rerun for another machine: npx execmem-lab run notebooks/00-tour.ipynb -p arch arm64)
let arch = "x86-64";
let cpus = 2;
let seed = 1;

// %% [include] _helpers.ts

// %% [markdown]
// ## The machine and its architectures
//
// An architecture variant is data (`lib/arch`): a few booleans (is the store buffer FIFO, must
// data be cleaned to the point of unification before fetch sees it, is the I-cache coherent, are
// exception entry and return synchronising, …), a table of instructions with the primitive effect
// each has and the manual section it models, and the kernel routines (`sync_core`,
// `text_poke_sync`, `flush_icache_range`, `flush_icache_all`, …) as sequences of instructions and
// IPIs. The table below is generated from those files.

// %%
import { architectures } from "execmem-lab";

table(
  Object.values(architectures).map((a) => ({
    variant: a.name,
    "store buffer": a.tso ? "FIFO (TSO)" : "relaxed",
    "D->I without clean (IDC)": a.idc ? "yes" : "no",
    "I-cache coherent (DIC)": a.dic ? "yes" : "no",
    "exception entry/return synchronise": `${a.exceptions.entrySyncs ? "yes" : "no"}/${a.exceptions.returnSyncs ? "yes" : "no"}`,
    "trap fill": a.trapInsn,
    instructions: Object.keys(a.instructions).length,
    routines: Object.keys(a.macros).join(" "),
  })),
  "Architecture variants (lib/arch)",
);

// %% [markdown]
// ## A first scenario, in the kernel's words
//
// The builder reads like kernel code. Here CPU0 writes new code into a function `f` (two cache
// lines) through the **direct map** while `f` is already mapped executable, then publishes a
// flag with a store-release; CPU1 waits for the flag with an acquire and calls `f`, **without
// serialising** (this is acceptance scenario S1, docs/model.md §Acceptance scenarios). With `cpus` > 2, every further CPU does what CPU1 does.
//
// `r0` receives what CPU1 actually ran: `new` (every line the intended version), `stale` (an
// older version), `trap`, `torn` (lines from different versions), `fault`, `oops` (a fault the
// kernel's fault.c does not retry although the page table now allows the fetch),
// `spurious-fault+…`, `unpredictable`.

// %%
import { scenario, explore, publishAndCall } from "execmem-lab";

// CPU0 writes f and publishes it with smp_store_release(flag, 1); every other CPU waits with
// smp_cond_load_acquire(flag, 1) and calls f (publishAndCall builds this pattern).
function firstScenario(a: string) {
  return publishAndCall(`S1-like on ${a}`, a, {
    cpus,
    publish: (p) => p.text_write("f", "new"), // through the direct map
  }).exists("1:r0=stale");
}
const s1 = firstScenario(arch).build();
const r1 = explore(s1, { progress: true });
table(
  r1.outcomes.map((o) => ({ outcome: o.key, "final states": o.count, "witness steps": o.witness.steps.length })),
  `${r1.scenario}: ${r1.stats.states} states, ${r1.stats.transitions} transitions, complete: ${r1.stats.complete}, ${r1.stats.ms.toFixed(0)} ms`,
);

// %% [markdown]
// The same scenario can be written as a litmus-style text file (docs/scenario-format.md); the
// acceptance scenarios of `tests/scenarios/` are such files. Both produce the same plain-data
// `ScenarioSpec`:

// %%
import { loadScenario } from "execmem-lab";
const s1file = loadScenario("../tests/scenarios/S1.litmus");
const rFile = explore(s1file);
table(
  [rFile, explore(firstScenario("x86-64").build())].map((r) => resultRow(r)),
  "tests/scenarios/S1.litmus and the builder's version, on x86-64",
);

// %% [markdown]
// ## Reading a witness
//
// For each outcome the explorer keeps one **shortest witness**: the steps that lead to it, each
// taken by a CPU's program or by the hardware on its own (`hw`), with what it changed and the
// *residency* after it (what each CPU's fetch pipeline, I-cache, D-cache and TLB hold for each
// line). Here is the shortest execution in which CPU1 runs the old code (stale):

// %%
const bad1 = shortest(r1, (v) => v === "stale") ?? badWitness(r1);
bad1 ? stepsTable(bad1.witness, `witness of ${bad1.key} on ${r1.arch}`) : "no bad outcome on " + r1.arch;

// %% [markdown]
// Read it from the top: the hardware lets CPU1 fetch `f` **speculatively** before CPU0's write
// (`f` is mapped executable and is a plausible branch target), so CPU1's pipeline holds old
// instructions; CPU0's write and flag become visible; CPU1 sees the flag and jumps — and nothing
// emptied its pipeline, so it executes what it had fetched. The residency chart shows the same
// run: one row per line, one column per step, per CPU and structure; dotted lines mark
// synchronising steps (none here).

// %%
import { witnessFigure } from "execmem-lab";
bad1 ? witnessFigure(bad1, { versions: ["old", "new"] }) : "nothing to draw";

// %% [markdown]
// ## Your own scenario: one change at a time
//
// The usual fix on x86 is for the executing CPU to serialise after it observes the flag
// (`sync_core()` / CPUID, S2), or for the writer to send `text_poke_sync()` (an IPI that
// serialises every CPU, S3). Change one line and explore again — the explorer, not this notebook,
// decides whether the stale run disappears:

// %%
const variants = {
  "no serialisation": firstScenario("x86-64"),
  "CPU1 runs CPUID after the flag": scenario("S2-like", "x86-64")
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .cpu((p) => { p.text_write("f", "new"); p.smp_store_release("flag", 1); })
    .cpu((p) => { p.smp_cond_load_acquire("flag", 1); p.cpuid(); p.call("r0", "f"); })
    .exists("1:r0=stale"),
  "CPU0 sends text_poke_sync() first": scenario("S3-like", "x86-64")
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .cpu((p) => { p.text_write("f", "new"); p.text_poke_sync(); p.smp_store_release("flag", 1); })
    .cpu((p) => { p.smp_cond_load_acquire("flag", 1); p.call("r0", "f"); })
    .exists("1:r0=stale"),
};
const tourRuns = Object.entries(variants).map(([name, b]) => ({ name: name, r: explore(b.build()) }));
table(tourRuns.map((x) => ({ variant: x.name, ...resultRow(x.r) })), "x86-64: three variants");

// %%
import { outcomeBars } from "execmem-lab";
outcomeBars(tourRuns.map((x) => x.r), { title: "Final states per outcome class, x86-64" });

// %% [markdown]
// Other tools of the library, used by the argument notebooks: `exploreMany` (explorations on
// worker threads), `measuresScenario` (Song's four measures as scenarios), `costModel` /
// `latencySweep` / `mitigationCost` (latency model with named, cited constants), `compareAllocators`
// (module_alloc, bpf_prog_pack, ROX caches, the handle protocol on a seeded workload), and the
// figures of `lib/plots`.

// %%
const tourStale = tourRuns.map((x) => ({ name: x.name, bad: badOf(x.r) }));
// The tour's claims, as computed: S1 reaches stale code, both fixes remove every bad outcome.
if (!tourStale[0].bad.includes("stale")) throw new Error(`expected stale code without serialisation, got ${tourStale[0].bad}`);
for (const t of tourStale.slice(1)) if (t.bad.length) throw new Error(`${t.name}: still reaches ${t.bad.join(", ")}`);
if (!tourRuns.every((x) => x.r.stats.complete)) throw new Error("an exploration was incomplete");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "tour",
  claim: "a mapped-executable function rewritten without serialisation can run stale (S1)",
  finding: `${r1.arch}: CPU1 ran ${valuesOf(r1).join("/")}; with CPUID or text_poke_sync: ${tourRuns.slice(1).map((x) => valuesOf(x.r).join("/")).join(" and ")} (${tourStale.slice(1).every((t) => t.bad.length === 0) ? "supported" : "refuted"})`,
});
