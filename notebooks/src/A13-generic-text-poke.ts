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
//    mix — and `r0` is the new one. For contrast, a bare write through the poking alias, and on
//    x86 a bare `text_poke()` followed by `text_poke_sync()`. The x86 site is a 5-byte CALL inside
//    one cache line (`subline`: its first byte and its tail are separate stores of one line,
//    and a fetch reads the whole line at once); the arm64/riscv64 site is one 4-byte
//    instruction.
// 2. **Latency against CPU count** (1 to 256) of each implementation (and its no-sync/batched
//    siblings) from the latency model, seeded samples.

// %% tags=["parameters"]
let arches = "x86-64,arm64,riscv64";
let cpus = 256; // the largest CPU count of the latency sweep
let seed = 1; // seed of the latency samples
let samples = 200;

// %% [include] _helpers.ts

// %%
import { scenario, explore, archFamily, byArch, getArch } from "execmem-lab";
type Patching = "generic_text_poke" | "bare write via poking alias" | "text_poke + text_poke_sync";
function a13(a: string, how: Patching) {
  // the site each kernel patches (lib/arch): x86 a 5-byte CALL, first byte + tail in one line
  const { insn, ...site } = archFamily(a).patchSite;
  return scenario(`A13 ${a} ${how}`, a)
    .data({ flag: 0 })
    .code("f", { ...site, versions: ["old", "new"], initial: "old", ...(insn ? { insn: { ...insn } } : {}) })
    .cpu((p) => {
      if (how === "generic_text_poke") p.generic_text_poke("f", "new");
      else if (how === "text_poke + text_poke_sync") p.text_poke("f", "new").text_poke_sync();
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
const hows = (a: string): Patching[] => ["generic_text_poke", "bare write via poking alias", ...("text_poke" in getArch(a).macros ? (["text_poke + text_poke_sync"] as const) : [])];
const a13runs = a13arches.flatMap((a) => hows(a).map((h) => ({ arch: a, how: h, generic: h === "generic_text_poke", r: explore(a13(a, h), { maxStates: 2_000_000 }) })));
const contract = (r: (typeof a13runs)[number]["r"]) =>
  valuesOf(r, "1:r1").every((v) => v === "new" || v === "stale") && valuesOf(r, "1:r0").every((v) => v === "new") && r.stats.complete;
table(
  a13runs.map((x) => ({
    arch: x.arch,
    patching: x.how,
    "during (r1)": valuesOf(x.r, "1:r1").join(", "),
    "after return (r0)": valuesOf(x.r, "1:r0").join(", "),
    "contract holds": contract(x.r) ? "yes" : "no",
    states: x.r.stats.states,
  })),
  "The interface contract, explored (stale = the old instruction)",
);

// %%
import { witnessFigure, display } from "execmem-lab";
const a13x86 = byArch(a13runs)["x86-64"]?.find((x) => x.generic);
const a13w = a13x86 ? a13x86.r.outcomes.sort((p, q) => q.witness.steps.length - p.witness.steps.length)[0] : undefined;
if (a13w) {
  display(stepsTable(a13w.witness, `x86-64 text_poke_bp: longest of the shortest witnesses (${a13w.key})`));
  display(witnessFigure(a13w, { versions: ["old", "new"] }));
}

// %% [markdown]
// ## text_poke_bp() patches one instruction
//
// The int3 protocol relies on IPIs being taken at instruction boundaries: when
// `text_poke_sync()` returns, no CPU is between the site's first byte and its tail. If the
// patched range is two instructions, an IPI (or interrupt) may arrive between them (docs/model.md
// §Interrupts and IPIs; the region is declared `interruptible()`), and CPU1 resumes into the new tail.

// %%
import { loadScenario } from "execmem-lab";
const bpOne = explore(loadScenario("../tests/scenarios/x86-64-text_poke_bp.litmus"));
const bpTwo = explore(loadScenario("../tests/scenarios/x86-64-text_poke_bp-interruptible.litmus"));
table(
  [
    { "patched range": "one instruction (IPIs at its boundaries)", "CPU1 ran": [...new Set([...valuesOf(bpOne, "1:r0"), ...valuesOf(bpOne, "1:r1")])].sort().join(", "), states: bpOne.stats.states },
    { "patched range": "two instructions (IPI between them)", "CPU1 ran": valuesOf(bpTwo, "1:r0").join(", "), states: bpTwo.stats.states },
  ],
  "text_poke_bp() on one instruction and on two",
);

// %%
const bpTornW = shortest(bpTwo, (v) => v === "torn");
bpTornW ? stepsTable(bpTornW.witness, "text_poke_bp() over two instructions: the sync IPI taken between them") : "no torn run";

// %% [markdown]
// ## Latency against CPU count

// %%
import { latencySweep, latencyFromSweep, latencyVsCpusByArch, latencyVsCpus, costModel, CPU_COUNTS, type ArchName, type MacroName } from "execmem-lab";
// the cost model is per architecture: each variant's architecture
const arch13 = [...new Set(a13arches.map((a) => archFamily(a).name))];
const patchStrategies = ["text_poke_bp", "text_poke_bp_batch", "text_poke", "aarch64_insn_patch_text", "aarch64_insn_patch_text_nosync+flush_icache_range", "patch_text", "patch_text_nosync+flush_icache_all(sbi)", "patch_text_nosync+flush_icache_all(ipi)"];
const cpuCounts = CPU_COUNTS.filter((n) => n <= cpus);
const sweep13 = latencySweep({ arches: arch13, strategies: patchStrategies, cpus: cpuCounts, samples: samples, seed: seed });
latencyVsCpusByArch(latencyFromSweep(sweep13), { title: "text patching latency against CPU count (median, p10–p90)" });

// %%
// generic_text_poke() of each architecture is one of its routines (lib/arch)
const genericOf = (a: ArchName): string => {
  const step = getArch(a).macros.generic_text_poke?.steps[0];
  return step && "macro" in step ? step.macro : "generic_text_poke";
};
const GENERIC = Object.fromEntries(arch13.map((a) => [a, genericOf(a)])) as Record<ArchName, string>;
const stopsMachine = (a: ArchName) => getArch(a).macros[GENERIC[a] as MacroName]?.steps.some((s) => "stop_machine" in s) ?? false;
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
// ## How much of the ranking is the idle-wake assumption
//
// x86's `idleWakeNs` is calibrated against a measurement; arm64's and riscv64's are not
// measured. Each carries a plausible range from device-tree idle states (printed below). Every
// strategy is evaluated at `cpus` CPUs with the constant at the low end, the default and the
// high end of its range: the band is how far the conclusion can move.

// %%
import { DEFAULT_CONSTANTS, figure } from "execmem-lab";
const hiBand = cpuCounts[cpuCounts.length - 1];
const idleEnds = (a: ArchName) => {
  const c = DEFAULT_CONSTANTS[a].idleWakeNs;
  return { low: c.range?.[0] ?? c.value, mid: c.value, high: c.range?.[1] ?? c.value, source: c.range ? c.rangeSource ?? "" : `fixed: ${c.source}` };
};
table(
  arch13.map((a) => ({ arch: a, "idleWakeNs low (µs)": idleEnds(a).low / 1000, "default (µs)": idleEnds(a).mid / 1000, "high (µs)": idleEnds(a).high / 1000, source: idleEnds(a).source })),
  "idleWakeNs: default and plausible range",
);
const band13 = arch13.flatMap((a) =>
  costModel(a)
    .strategies()
    .filter((s) => patchStrategies.includes(s.name))
    .map((s) => {
      const e = idleEnds(a);
      const lat = (v: number) => costModel(a, { idleWakeNs: v }).latency(s.name, hiBand);
      return { arch: a, strategy: s.name, low: lat(e.low), mid: lat(e.mid), high: lat(e.high) };
    }),
);
const rankBy = (k: "low" | "mid" | "high") => [...band13].sort((p, q) => p[k] - q[k]).map((x) => `${x.arch} ${x.strategy}`);
table(
  band13.map((x) => ({
    arch: x.arch,
    strategy: x.strategy,
    [`${hiBand} CPUs, idle wake low (µs)`]: (x.low / 1000).toFixed(1),
    "default (µs)": (x.mid / 1000).toFixed(1),
    "high (µs)": (x.high / 1000).toFixed(1),
    "rank low / default / high": `${rankBy("low").indexOf(`${x.arch} ${x.strategy}`) + 1} / ${rankBy("mid").indexOf(`${x.arch} ${x.strategy}`) + 1} / ${rankBy("high").indexOf(`${x.arch} ${x.strategy}`) + 1}`,
  })),
  `Latency at ${hiBand} CPUs over the idle-wake range (median constants otherwise)`,
);

// %%
figure(
  [
    {
      type: "bar",
      name: "default idleWakeNs",
      x: band13.map((x) => `${x.arch} ${x.strategy}`),
      y: band13.map((x) => x.mid / 1000),
      error_y: { type: "data", symmetric: false, array: band13.map((x) => (x.high - x.mid) / 1000), arrayminus: band13.map((x) => (x.mid - x.low) / 1000) },
    },
  ],
  { title: `Latency at ${hiBand} CPUs: default, and the band over the idle-wake range`, yaxis: { title: { text: "µs" }, type: "log" }, margin: { b: 220 } },
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const okArches = a13arches.filter((a) => contract(a13runs.find((x) => x.arch === a && x.generic)!.r));
const bareFails = a13arches.filter((a) => !contract(a13runs.find((x) => x.arch === a && x.how === "bare write via poking alias")!.r));
const x86poke = byArch(a13runs)["x86-64"]?.find((x) => x.how === "text_poke + text_poke_sync");
const x86bp = byArch(a13runs)["x86-64"]?.find((x) => x.generic);
const pokeTorn = x86poke ? valuesOf(x86poke.r, "1:r1").includes("torn") : false;
const lo = cpuCounts[0];
const hi = cpuCounts[cpuCounts.length - 1];
const scaling = arch13.map((a) => ({ a: a, lo: at(a, GENERIC[a], lo)!, hi: at(a, GENERIC[a], hi)! }));
md(
  `One \`text_poke()\` interface ${okArches.length === a13arches.length ? "**is implementable on every architecture run**" : `holds only on ${okArches.join(", ") || "none"}`}: ` +
    `while CPU1 runs the site it sees the old or the new instruction, and after the call returns only the new one` +
    `${bareFails.length ? `; a bare write through the poking alias breaks the contract on ${bareFails.join(", ")}` : ""}. ` +
    (x86poke && x86bp
      ? `On x86-64 a bare \`text_poke()\` of the 5-byte CALL, even followed by \`text_poke_sync()\`, lets CPU1 run ${valuesOf(x86poke.r, "1:r1").join("/")} while it is patched${pokeTorn ? " — **torn**: the first byte and the tail are separate stores and a fetch between them sees a mix" : ""}; \`text_poke_bp()\` gives ${valuesOf(x86bp.r, "1:r1").join("/")} (its int3 is trapped and emulated as the new instruction). `
      : "") +
    `Kent's point is **${okArches.length === a13arches.length ? "supported" : "not supported"}** — but the implementations cost very differently: ` +
    scaling.map((s) => `${s.a} ${GENERIC[s.a]} ${(s.lo / 1000).toFixed(1)} µs at ${lo} CPU → ${(s.hi / 1000).toFixed(1)} µs at ${hi} (×${(s.hi / s.lo).toFixed(0)})`).join("; ") +
    `. A common API has to let callers batch (text_poke_bp_batch) or defer synchronisation, or it inherits the slowest path.` +
    `\n\nOver the plausible idle-wake range the ranking at ${hi} CPUs ${rankBy("low").join() === rankBy("high").join() ? "**does not change**" : "**changes**"}: fastest ${rankBy("low")[0]} at the low end, ${rankBy("high")[0]} at the high end; slowest ${rankBy("low")[rankBy("low").length - 1]} / ${rankBy("high")[rankBy("high").length - 1]}. ` +
    `The stop_machine() implementations (${arch13.filter(stopsMachine).map((a) => GENERIC[a]).join(", ")}) do not depend on it; the IPI-based ones move by ` +
    band13.filter((x) => x.high > x.low).map((x) => `${x.arch} ${x.strategy} ×${(x.high / x.low).toFixed(0)}`).join(", ") + ".",
);

// %%
for (const x of a13runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (okArches.length !== a13arches.length) throw new Error(`A13: generic_text_poke breaks the contract on ${a13arches.filter((a) => !okArches.includes(a))}`);
if (bareFails.length === 0) throw new Error("A13: a bare write already satisfies the contract everywhere");
if (x86poke && !pokeTorn) throw new Error("A13: a bare text_poke of the 5-byte CALL never tears");
if (!valuesOf(bpTwo, "1:r0").includes("torn")) throw new Error("A13: text_poke_bp over two instructions never tears");
if ([...valuesOf(bpOne, "1:r0"), ...valuesOf(bpOne, "1:r1")].includes("torn")) throw new Error("A13: text_poke_bp over one instruction tore");
if (x86bp && valuesOf(x86bp.r, "1:r1").some((v) => v === "torn" || v === "trap")) throw new Error("A13: text_poke_bp tore or trapped");
for (const s of scaling) if (!(s.hi >= s.lo)) throw new Error(`A13: ${s.a} gets faster with more CPUs`);
for (const x of band13) if (!(x.low <= x.mid && x.mid <= x.high)) throw new Error(`A13: ${x.strategy} latency not monotone in idleWakeNs`);
if (arch13.some((a) => idleEnds(a).high > idleEnds(a).low) && !band13.some((x) => idleEnds(x.arch).high > idleEnds(x.arch).low && x.high > x.low)) throw new Error("A13: the idle-wake range moves no latency where idleWakeNs is not measured");
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
