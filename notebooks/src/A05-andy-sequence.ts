// %% [markdown]
// # A5 — Andy's step-by-step sequence, run and costed
//
// > "allocate physical pages (jit_text_alloc) / write to them (with MOV, memcpy, whatever), via
// > the direct map or via a temporary mm / do an appropriate *local* barrier […] / optionally zap
// > the direct map via IPI […] / install the final RX PTE (jit_text_map) […] / 1. Do a
// > store-release to tell other CPUs that the text is mapped / 2. Other CPU does a load-acquire
// > to detect that the text is mapped and jumps to the text"
// >
// > — Andy Lutomirski, 2023-06-20, answering Nadav Amit
//
// **Scenario.** Exactly that sequence, as written (no cache maintenance: the sequence was
// written with x86 in mind), with the text written through the direct map or through a
// temporary mm, with and without the direct-map zap (`flush_tlb_kernel_range()` — an IPI on x86
// and riscv64, a broadcast TLBI on arm64). Then the latency model prices each step of the
// sequence (the model's A5 strategies add each architecture's maintenance, see A4).

// %% tags=["parameters"]
let arches = "x86-64,x86-64+fred,arm64,riscv64";
let cpus = 8; // CPU count for the latency model (the explorer runs CPU0 + one jumping CPU)
let seed = 1; // seed of the latency samples

// %% [include] _helpers.ts

// %%
import { scenario, explore, getArch, byArch } from "execmem-lab";

function a5(a: string, via: "direct-map" | "poke", zap: boolean) {
  return scenario(`A5 ${a} via ${via}${zap ? " + zap" : ""}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "trap" })
    .page("f", "none") // jit_text_alloc: pages not mapped at the VA
    .cpu((p) => {
      // write via the direct map, or via the poking alias: the architecture's text_poke() where it
      // has one (x86: through a temporary mm, MOV CR3 around the copy, serialising this CPU)
      if (via === "poke" && "text_poke" in getArch(a).macros) p.text_poke("f", "new");
      else p.text_write("f", "new", via);
      p.smp_mb(); // an appropriate local barrier
      if (zap) p.flush_tlb_kernel_range(); // optionally zap the direct map via IPI
      p.set_pte("f", "RX"); // install the final RX PTE (jit_text_map)
      p.smp_store_release("flag", 1); // 1. store-release
    })
    .cpu((p) => {
      p.smp_cond_load_acquire("flag", 1); // 2. load-acquire ...
      p.call("r0", "f"); // ... and jump
    })
    .exists("1:r0!=new")
    .build();
}
const a5arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a5runs = a5arches.flatMap((a) =>
  (["direct-map", "poke"] as const).flatMap((via) =>
    [false, true].map((zap) => ({ arch: a, via: via, zap: zap, r: explore(a5(a, via, zap), { maxStates: 2_000_000 }) })),
  ),
);
table(
  a5runs.map((x) => ({
    arch: x.arch,
    "write via": x.via === "poke" ? "temporary mm / fixmap" : "direct map",
    "zap direct map": x.zap ? "yes" : "no",
    ...ranColumns(x.r),
    complete: x.r.stats.complete,
  })),
  "Andy's sequence as written",
);

// %%
import { outcomeBars } from "execmem-lab";
outcomeBars(a5runs.filter((x) => x.via === "direct-map" && !x.zap).map((x) => x.r), { title: "A5 as written (direct map, no zap)" });

// %%
import { witnessFigure, display } from "execmem-lab";
const a5bad = a5runs.find((x) => badOf(x.r).length && !x.zap);
const a5w = a5bad ? badWitness(a5bad.r) : undefined;
if (a5w) {
  display(stepsTable(a5w.witness, `${a5bad!.r.scenario}: witness of ${a5w.key}`));
  display(witnessFigure(a5w, { versions: ["old", "new"] }));
} else console.log("the sequence as written is sufficient on every architecture run");

// %% [markdown]
// ## The cost of each step
//
// From the latency model (`lib/cost`, constants named and cited — printed below; override any of
// them with `costModel(arch, { name: value })`). Median constants, `cpus` CPUs.

// %%
import { costModel, latencySweep, latencyFromSweep, latencyVsCpusByArch, DEFAULT_CONSTANTS, archFamily } from "execmem-lab";
// the cost model is per architecture: each variant's architecture
const costArches = [...new Set(a5arches.map((a) => archFamily(a).name))];
table(
  costArches.flatMap((a) => {
    const m = costModel(a);
    const plain = m.breakdown("A5 sequence", cpus);
    const zap = m.breakdown("A5 sequence (zap direct map)", cpus);
    return zap.map((z) => ({
      arch: a,
      step: z.step,
      formula: z.formula,
      "ns (no zap)": plain.find((p) => p.step === z.step) ? Math.round(plain.find((p) => p.step === z.step)!.ns) : "—",
      "ns (zap)": Math.round(z.ns),
    }));
  }),
  `A5 step costs at ${cpus} CPUs (median constants)`,
);

// %%
const a5sweep = latencySweep({ arches: costArches, strategies: ["A5 sequence", "A5 sequence (zap direct map)"], samples: 200, seed: seed });
latencyVsCpusByArch(latencyFromSweep(a5sweep), { title: "A5 sequence: latency against CPU count, with and without the zap" });

// %%
table(
  costArches.flatMap((a) =>
    Object.entries(DEFAULT_CONSTANTS[a])
      .filter(([k]) => ["allocPagesNs", "copyNsPerLine", "pteWriteNs", "ipiSendNs", "ipiDeliveryNs", "idleWakeNs", "idleFraction", "tlbFlushRemoteNs", "dcLineNs", "icLineNs", "dsbNs", "fenceINs", "sbiRemoteFenceIBaseNs"].includes(k))
      .map(([k, c]) => ({ arch: a, constant: k, value: c.value, unit: c.unit, source: c.source })),
  ),
  "Constants used",
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const zapCost = costArches.map((a) => {
  const m = costModel(a);
  return { arch: a, plain: m.latency("A5 sequence", cpus), zap: m.latency("A5 sequence (zap direct map)", cpus) };
});
const a5verdict = a5arches.map((a) => ({
  arch: a,
  asWritten: badOf(a5runs.find((x) => x.arch === a && x.via === "direct-map" && !x.zap)!.r),
  anyOk: a5runs.filter((x) => x.arch === a && badOf(x.r).length === 0).map((x) => `${x.via}${x.zap ? "+zap" : ""}`),
}));
const x86a5 = byArch(a5verdict)["x86-64"]?.[0];
md(
  `Andy's sequence as written (direct map, no zap): ` +
    a5verdict.map((v) => `**${v.arch}** ${v.asWritten.length ? "reaches " + v.asWritten.join("/") : "only new code"}`).join("; ") +
    `. Variants without a bad outcome: ` +
    a5verdict.map((v) => `${v.arch}: ${v.anyOk.join(", ") || "none"}`).join("; ") +
    `.\n\nCost at ${cpus} CPUs: ` +
    zapCost.map((z) => `${z.arch} ${(z.plain / 1000).toFixed(1)} µs, with the zap ${(z.zap / 1000).toFixed(1)} µs (×${(z.zap / z.plain).toFixed(1)})`).join("; ") +
    `. The zap is the expensive step wherever it is an IPI; "a smart enough allocator and temporary_mm" avoids it.` +
    (x86a5 && x86a5.asWritten.includes("oops")
      ? `\n\nOn x86-64 the sequence never runs stale, trap or torn code, but CPU1 may have fetched ahead while the page was not present: that not-present fault is delivered after the flag, and \`arch/x86/mm/fault.c\` (\`spurious_kernel_fault()\` accepts only permission faults) turns it into an oops on kernel text. The sequence needs a serialisation of the other CPUs after the PTE (A4), or a fault handler that retries not-present kernel faults.`
      : ""),
);

// %%
for (const x of a5runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
// On x86 no stale, trap or torn code runs; what remains is the not-present fault CPU1 may have
// fetched before the PTE was written, an oops on kernel text (arch/x86/mm/fault.c).
if (x86a5 && x86a5.asWritten.some((c) => c !== "oops")) throw new Error(`A5: the sequence runs wrong code on x86-64: ${x86a5.asWritten}`);
for (const z of zapCost) if (!(z.zap > z.plain)) throw new Error(`A5: the zap costs nothing on ${z.arch}`);
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A5",
  claim: "write, local barrier, [zap], RX PTE, release/acquire: enough with no cross-CPU sync",
  finding:
    `${a5verdict.every((v) => !v.asWritten.length) ? "supported" : a5verdict.some((v) => !v.asWritten.length) ? "depends on arch" : "refuted"}: ` +
    a5verdict.map((v) => `${v.arch} ${v.asWritten.join("/") || "ok"}`).join(", ") +
    `; zap costs ×${zapCost.map((z) => (z.zap / z.plain).toFixed(1)).join("/")} at ${cpus} CPUs`,
});
