// %% [markdown]
// # A13 — An architecture-independent `text_poke()`
//
// > "We're still in need of an arch independent text_poke() api."
// >
// > — Kent Overstreet, 2023-06-19
//
// **One interface, three implementations** (`generic_text_poke(f, version)`, expanded per
// architecture in `lib/arch`): x86 `text_poke_bp()` (int3 on the site → `text_poke_sync()` →
// the rest → sync → the first byte → sync, with the int3 handler emulating the new instruction
// meanwhile); arm64 `aarch64_insn_patch_text()` (stop_machine: the last CPU to arrive patches,
// the others spin, then ISB); riscv64 `patch_text()` (stop_machine, then fence.i everywhere).
//
// 1. **Correctness, explored**: CPU0 patches a live site while CPU1 runs it concurrently
//    (`r1`), then publishes a flag; after seeing the flag CPU1 runs it again (`r0`). The interface
//    contract: `r1` is the old or the new instruction — never a trap, a tear or an unpredictable
//    mix — and `r0` is the new one. For contrast, a bare write through the poking alias.
// 2. **Latency against CPU count** (1 to 256) of each implementation (and its no-sync/batched
//    siblings) from the latency model, seeded samples.

// %% tags=["parameters"]
let arches = "x86-64,arm64,riscv64";
let cpus = 256; // the largest CPU count of the latency sweep
let seed = 1; // seed of the latency samples
let samples = 200;

// %% [include] _helpers.ts

// %%
import { scenario, explore } from "execmem-lab";
function a13(a: string, generic: boolean) {
  return scenario(`A13 ${a} ${generic ? "generic_text_poke" : "bare poke write"}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 1, versions: ["old", "new"], initial: "old", ...(a.startsWith("arm64") ? { insn: { old: "NOP", new: "B" } } : {}) })
    .cpu((p) => {
      if (generic) p.generic_text_poke("f", "new");
      else p.text_write("f", "new", "poke");
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => {
      p.call("r1", "f"); // runs the site while it is being patched
      p.smp_cond_load_acquire("flag", 1);
      p.call("r0", "f"); // after text_poke() returned
    })
    .exists("1:r0!=new")
    .build();
}
const a13arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a13runs = a13arches.flatMap((a) => [true, false].map((g) => ({ arch: a, generic: g, r: explore(a13(a, g), { maxStates: 2_000_000 }) })));
const contract = (r: (typeof a13runs)[number]["r"]) =>
  valuesOf(r, "1:r1").every((v) => v === "new" || v === "stale") && valuesOf(r, "1:r0").every((v) => v === "new") && r.stats.complete;
table(
  a13runs.map((x) => ({
    arch: x.arch,
    patching: x.generic ? "generic_text_poke" : "bare write via poking alias",
    "during (r1)": valuesOf(x.r, "1:r1").join(", "),
    "after return (r0)": valuesOf(x.r, "1:r0").join(", "),
    "contract holds": contract(x.r) ? "yes" : "no",
    states: x.r.stats.states,
  })),
  "The interface contract, explored (stale = the old instruction)",
);

// %%
import { witnessFigure, display } from "execmem-lab";
const a13x86 = a13runs.find((x) => x.arch === "x86-64" && x.generic);
const a13w = a13x86 ? a13x86.r.outcomes.sort((p, q) => q.witness.steps.length - p.witness.steps.length)[0] : undefined;
if (a13w) {
  display(stepsTable(a13w.witness, `x86-64 text_poke_bp: longest of the shortest witnesses (${a13w.key})`));
  display(witnessFigure(a13w, { versions: ["old", "new"] }));
}

// %% [markdown]
// ## Latency against CPU count

// %%
import { latencySweep, latencyFromSweep, latencyVsCpusByArch, latencyVsCpus, costModel, CPU_COUNTS, type ArchName } from "execmem-lab";
const costArch13 = (a: string): ArchName => (a.startsWith("x86") ? "x86_64" : a.startsWith("arm64") ? "arm64" : "riscv64");
const arch13 = [...new Set(a13arches.map(costArch13))];
const patchStrategies = ["text_poke_bp", "text_poke_bp_batch", "text_poke", "aarch64_insn_patch_text", "aarch64_insn_patch_text_nosync+flush_icache_range", "patch_text", "patch_text_nosync+flush_icache_all(sbi)", "patch_text_nosync+flush_icache_all(ipi)"];
const cpuCounts = CPU_COUNTS.filter((n) => n <= cpus);
const sweep13 = latencySweep({ arches: arch13, strategies: patchStrategies, cpus: cpuCounts, samples: samples, seed: seed });
latencyVsCpusByArch(latencyFromSweep(sweep13), { title: "text patching latency against CPU count (median, p10–p90)" });

// %%
const GENERIC: Record<ArchName, string> = { x86_64: "text_poke_bp", arm64: "aarch64_insn_patch_text", riscv64: "patch_text" };
latencyVsCpus(latencyFromSweep(sweep13.filter((r) => GENERIC[r.arch] === r.strategy)), { title: "generic_text_poke per architecture" });

// %%
const at = (a: ArchName, s: string, n: number) => sweep13.find((r) => r.arch === a && r.strategy === s && r.cpus === n)?.quantiles.p50;
table(
  arch13.flatMap((a) =>
    costModel(a)
      .strategies()
      .filter((s) => patchStrategies.includes(s.name))
      .map((s) => {
        const row: Record<string, unknown> = { arch: a, strategy: s.name, "generic?": GENERIC[a] === s.name ? "◀" : "" };
        for (const n of [1, 16, cpus]) if (cpuCounts.includes(n)) row[`${n} CPUs (µs, median)`] = ((at(a, s.name, n) ?? NaN) / 1000).toFixed(1);
        return row;
      }),
  ),
  `Latency from the model (${samples} samples per point, seed ${seed})`,
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const okArches = a13arches.filter((a) => contract(a13runs.find((x) => x.arch === a && x.generic)!.r));
const bareFails = a13arches.filter((a) => !contract(a13runs.find((x) => x.arch === a && !x.generic)!.r));
const lo = cpuCounts[0];
const hi = cpuCounts[cpuCounts.length - 1];
const scaling = arch13.map((a) => ({ a: a, lo: at(a, GENERIC[a], lo)!, hi: at(a, GENERIC[a], hi)! }));
md(
  `One \`text_poke()\` interface ${okArches.length === a13arches.length ? "**is implementable on every architecture run**" : `holds only on ${okArches.join(", ") || "none"}`}: ` +
    `while CPU1 runs the site it sees the old or the new instruction, and after the call returns only the new one` +
    `${bareFails.length ? `; a bare write through the poking alias breaks the contract on ${bareFails.join(", ")}` : ""}. ` +
    `Kent's point is **${okArches.length === a13arches.length ? "supported" : "not supported"}** — but the implementations cost very differently: ` +
    scaling.map((s) => `${s.a} ${GENERIC[s.a]} ${(s.lo / 1000).toFixed(1)} µs at ${lo} CPU → ${(s.hi / 1000).toFixed(1)} µs at ${hi} (×${(s.hi / s.lo).toFixed(0)})`).join("; ") +
    `. A common API has to let callers batch (text_poke_bp_batch) or defer synchronisation, or it inherits the slowest path.`,
);

// %%
for (const x of a13runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (okArches.length !== a13arches.length) throw new Error(`A13: generic_text_poke breaks the contract on ${a13arches.filter((a) => !okArches.includes(a))}`);
if (bareFails.length === 0) throw new Error("A13: a bare write already satisfies the contract everywhere");
for (const s of scaling) if (!(s.hi >= s.lo)) throw new Error(`A13: ${s.a} gets faster with more CPUs`);
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A13",
  claim: "an arch-independent text_poke() API is needed",
  finding:
    `${okArches.length === a13arches.length ? "supported" : "partly"}: one interface holds on ${okArches.join(", ")}; latency at ${hi} CPUs ` +
    scaling.map((s) => `${s.a} ${(s.hi / 1000).toFixed(0)} µs`).join(", ") + " — cost depends on arch",
});
