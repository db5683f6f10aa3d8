// %% [markdown]
// # A12 — What exactly is a "context-synchronisation event"?
//
// > "Maybe? #4 is sufficiently vague that I can't really interpret it."
// >
// > — Andy Lutomirski, 2023-07-17, on Song's measure 4, "context-synchronization-events"
//
// **A precise definition, as the model implements it.** In the model an event is
// context-synchronising on a CPU when it empties that CPU's fetch pipeline (instructions fetched
// ahead, including a remembered fault). Two tables:
//
// 1. **Declared**: generated from the architecture files (`lib/arch`): the instructions whose
//    effect empties the pipeline, whether exception entry/return do, and the text each rule cites.
// 2. **Measured**: every instruction of each variant, an interrupt, and the kernel's
//    cross-CPU routine, each *probed* by the explorer. The writer has already made the new text
//    visible to instruction fetch (the architecture's cache maintenance from `lib/arch` — none
//    on x86, DC CVAU/DSB/IC IVAU/DSB on arm64, fence.i on riscv64 — then `smp_mb()`), so the only thing left that can go wrong is CPU1's own pipeline (and, on riscv64,
//    its own I-cache). CPU1 acquires the flag, executes the probed event, and jumps. The event
//    is context-synchronising for this purpose iff no interleaving runs anything but the new code.

// %% tags=["parameters"]
let arches = "x86-64,x86-64+fred,arm64,arm64+idc+dic,arm64+exs,riscv64";
let cpus = 2;
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { architectures } from "execmem-lab";
/** Declared: the routine's IPI runs a synchronising handler, or its exception entry/return synchronises. */
function remoteDeclared(n: string, m: string): boolean {
  const a = architectures[n];
  const steps = (a.macros as Record<string, { steps: unknown[] }>)[m]?.steps ?? [];
  return steps.some((st) => {
    const inner = (st as { macro?: string }).macro;
    if (inner !== undefined) return remoteDeclared(n, inner); // a routine it calls
    const ipi = (st as { ipi?: string }).ipi;
    if (ipi === undefined) return false;
    return ipi === "sync_core" || ipi === "fence.i" || a.exceptions.entrySyncs || a.exceptions.returnSyncs;
  });
}
const a12arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const PIPE_EFFECTS = ["serialise", "context-sync", "fence.i"];
/** Declared: the instruction's effect empties the pipeline (x86: a local TLB flush is serialising when the variant says so). */
function insnDeclared(n: string, insn: string): boolean {
  const a = architectures[n];
  const eff = a.instructions[insn].effect;
  return PIPE_EFFECTS.includes(eff) || (eff === "tlb-flush-local" && (a as { tlbFlushSerialises?: boolean }).tlbFlushSerialises === true);
}
table(
  a12arches.map((n) => {
    const a = architectures[n];
    return {
      variant: n,
      "instructions that empty the pipeline": Object.entries(a.instructions).filter(([k]) => insnDeclared(n, k)).map(([k, r]) => `${k} (${r.effect}${PIPE_EFFECTS.includes(r.effect) ? "" : ", serialising"})`).join(", "),
      "exception entry": a.exceptions.entrySyncs ? "yes" : "no",
      "exception return": a.exceptions.returnSyncs ? "yes" : "no",
      "cross-CPU routine (synchronises the others?)": Object.keys(a.macros).filter((m) => ["text_poke_sync", "kick_all_cpus_sync", "flush_icache_all"].includes(m)).map((m) => `${m} (${remoteDeclared(n, m) ? "yes" : "no"})`).join(", "),
      source: a.exceptions.cite,
    };
  }),
  "Declared in lib/arch",
);

// %%
import { publishAndCall, explore, progress, archSequence, sameArch, verdictOf, takesAddress, type Program } from "execmem-lab";
type Probe = { name: string; kind: "insn" | "interrupt" | "remote"; declared: boolean };
function probesOf(n: string): Probe[] {
  const a = architectures[n];
  const remote = ["text_poke_sync", "kick_all_cpus_sync", "flush_icache_all"].filter((m) => m in a.macros);
  return [
    ...Object.keys(a.instructions).map((k) => ({ name: k, kind: "insn" as const, declared: insnDeclared(n, k) })),
    { name: "interrupt (entry + return)", kind: "interrupt" as const, declared: a.exceptions.entrySyncs || a.exceptions.returnSyncs },
    ...remote.map((m) => ({ name: `${m}() from CPU0`, kind: "remote" as const, declared: remoteDeclared(n, m) })),
  ];
}
/** Write the new text and make it visible to the other CPUs' fetch: the architecture's cache maintenance (lib/arch), then smp_mb(). */
function publishVisible(p: Program, n: string) {
  p.text_write("f", "new");
  p.steps(archSequence(n, "cacheMaintenance"), "f");
  p.smp_mb();
}
function probe(n: string, pr: Probe) {
  return publishAndCall(`A12 ${n} ${pr.name}`, n, {
    cpus,
    publish: (p) => {
      publishVisible(p, n);
      if (pr.kind === "remote") p.macro(pr.name.replace("() from CPU0", ""));
    },
    beforeCall: (p) => {
      if (pr.kind === "interrupt") p.interrupt();
      if (pr.kind === "insn") {
        const eff = architectures[n].instructions[pr.name].effect;
        p.insn(pr.name, takesAddress(eff) ? "f" : undefined);
      }
    },
  })
    .exists("1:r0!=new")
    .build();
}
const all12 = a12arches.flatMap((n) => probesOf(n).map((pr) => ({ arch: n, probe: pr })));
const bar12 = progress("A12 probes", all12.length);
const a12runs = all12.map((x) => {
  const r = explore(probe(x.arch, x.probe));
  bar12.tick(1, `${x.arch} ${x.probe.name}`);
  return { ...x, r: r, syncs: verdictOf(r, { mitigations: [], reg: "1:r0" }).sufficient === true };
});
bar12.finish();
table(
  a12arches.map((n) => {
    const rs = a12runs.filter((x) => x.arch === n);
    return {
      variant: n,
      "context-synchronising (measured)": rs.filter((x) => x.syncs).map((x) => x.probe.name).join(", "),
      "not (measured)": rs.filter((x) => !x.syncs).map((x) => x.probe.name).join(", "),
      "measured = declared": rs.every((x) => x.syncs === x.probe.declared) ? "yes" : "NO: " + rs.filter((x) => x.syncs !== x.probe.declared).map((x) => x.probe.name).join(", "),
    };
  }),
  "Measured by the explorer: which events make CPU1 run only the new code",
);

// %%
import { figure } from "execmem-lab";
const probeNames = [...new Set(a12runs.map((x) => (x.probe.kind === "remote" ? "cross-CPU routine from CPU0" : x.probe.name)))];
figure(
  [
    {
      type: "heatmap",
      x: a12arches,
      y: probeNames,
      z: probeNames.map((pn) => a12arches.map((n) => {
        const x = a12runs.find((y) => y.arch === n && (y.probe.kind === "remote" ? "cross-CPU routine from CPU0" : y.probe.name) === pn);
        return x ? (x.syncs ? 1 : 0) : null;
      })),
      zmin: 0,
      zmax: 1,
      colorscale: [[0, "#D55E00"], [0.5, "#D55E00"], [0.5, "#009E73"], [1, "#009E73"]],
      showscale: false,
      xgap: 2,
      ygap: 2,
      hovertemplate: "%{x}<br>%{y}<br>%{z}<extra></extra>",
    },
  ],
  { title: "Context-synchronising (green) or not (vermillion), measured", height: 30 * probeNames.length + 160, yaxis: { automargin: true }, xaxis: { side: "top" } },
);

// %% [markdown]
// The library also publishes this table as data, `contextSyncTable()` (lib/arch/sync-table.ts).
// Compared with the measurement:

// %%
import { contextSyncTable } from "execmem-lab";
const lib12 = contextSyncTable(a12arches.map((n) => architectures[n]));
const libSays = (n: string, probeName: string): boolean | undefined => {
  const ev = probeName.startsWith("interrupt") ? ["exception entry", "exception return"] : [probeName.replace(" from CPU0", "")];
  const rows = lib12.filter((r) => r.arch === n && ev.includes(r.event));
  return rows.length ? rows.some((r) => r.flushesPipeline) : undefined;
};
const libDiff12 = a12runs.filter((x) => (libSays(x.arch, x.probe.name) ?? false) !== x.syncs);
libDiff12.length
  ? table(libDiff12.map((x) => ({ arch: x.arch, event: x.probe.name, measured: x.syncs ? "synchronises" : "does not", "contextSyncTable()": libSays(x.arch, x.probe.name) === undefined ? "not listed" : libSays(x.arch, x.probe.name) ? "synchronises" : "does not" })), "Where contextSyncTable() and the measurement differ")
  : md("`contextSyncTable()` agrees with every measurement.");

// %% [markdown]
// ## Conclusion (computed)

// %%
const defs12 = a12arches.map((n) => ({ n: n, syncs: a12runs.filter((x) => x.arch === n && x.syncs).map((x) => x.probe.name) }));
const mismatch12 = a12runs.filter((x) => x.syncs !== x.probe.declared);
md(
  `Measure 4, made precise — *an event after which a CPU's instruction fetch starts afresh*: ` +
    defs12.map((d) => `**${d.n}**: ${d.syncs.join(", ") || "none"}`).join("; ") +
    `.\n\n${libDiff12.length ? `The library's contextSyncTable() misses or misstates ${libDiff12.map((x) => `${x.arch} ${x.probe.name}`).join(", ")} (reported; the arch files themselves agree with the measurement where marked above). ` : ""}The measured table ${mismatch12.length ? "**differs** from the declared one at " + mismatch12.map((x) => `${x.arch} ${x.probe.name}`).join(", ") : "agrees with the declared one everywhere"}. ` +
    `Andy's complaint is fair: the same words name different sets of events per architecture (and per configuration: FRED, FEAT_ExS — where even ${defs12.some((d) => d.n.includes("exs") && !d.syncs.some((x) => x.startsWith("kick_all_cpus_sync"))) ? "kick_all_cpus_sync() no longer synchronises the other CPUs" : "the IPIs still synchronise"}), ` +
    `and on riscv64 ${defs12.find((d) => sameArch(d.n, "riscv64"))?.syncs.includes("interrupt (entry + return)") ? "an interrupt is one" : "no exception is one — only fence.i, executed by the CPU itself or sent to it by IPI"}.`,
);

// %%
if (mismatch12.length) throw new Error(`A12: measured differs from declared: ${mismatch12.map((x) => x.r.scenario).join(", ")}`);
for (const x of a12runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (!a12runs.some((x) => x.syncs) || !a12runs.some((x) => !x.syncs)) throw new Error("A12: probes do not discriminate");
console.log("assertions hold");

// %% [markdown]
// ## riscv64: what orders the IPI that carries fence.i
//
// On riscv64 the "context synchronisation" another hart gets is a fence.i sent by IPI or SBI
// call, and that IPI is an MMIO write (arch/riscv/mm/cacheflush.c flush_icache_all(): "IPIs on
// RISC-V are triggered by MMIO writes to either CLINT or S-IMSIC, so the fence ensures previous
// data writes happen before the MMIO"). Without `RISCV_FENCE(w, o)` the IPI may reach CPU1
// before CPU0's code store is visible: CPU1's fence.i then refills its I-cache with the old code.
// The local fence.i of flush_icache_all() orders the store too in herd7's model of Zifencei
// (riscv64), but not if FENCE.I only serves the hart's own fetches, as the Zifencei text alone
// allows (the what-if variant riscv64+fencei-local; docs/litmus.md lists where herd7 differs).

// %%
import { loadScenario, display } from "execmem-lab";
const LOCAL12 = "riscv64+fencei-local-ipi-without-fence-w-o.litmus";
const ipiRuns12 = [
  { what: "text_write; sbi_remote_fence_i (no fence w,o)", file: "riscv64-ipi-without-fence-w-o.litmus", arch: "riscv64" },
  { what: "text_write; fence w,o; sbi_remote_fence_i", file: "riscv64-ipi-fence-w-o.litmus", arch: "riscv64" },
  { what: "text_write; flush_icache_all (Linux)", file: "riscv64-flush_icache_all.litmus", arch: "riscv64" },
  { what: "text_write; local fence.i; sbi_remote_fence_i (no fence w,o)", file: LOCAL12, arch: "riscv64" },
  { what: "text_write; local fence.i; sbi_remote_fence_i (no fence w,o)", file: LOCAL12, arch: "riscv64+fencei-local" },
].map((x) => ({ ...x, r: explore({ ...loadScenario(`../tests/scenarios/${x.file}`), arch: x.arch }) }));
table(
  ipiRuns12.map((x) => ({ variant: x.arch, "CPU0 does": x.what, ...ranColumns(x.r) })),
  "riscv64: the IPI is a device write (riscv64+fencei-local: FENCE.I as the Zifencei text alone reads it)",
);
const ipiStale12 = ipiRuns12[0].r.outcomes.find((o) => o.values["1:r0"] === "stale");
if (ipiStale12) display(stepsTable(ipiStale12.witness, "riscv64 without fence w,o: the IPI arrives before the code store drains"));

// %%
if (!valuesOf(ipiRuns12[0].r).includes("stale")) throw new Error("A12: the IPI without fence w,o cannot overtake the store");
if (badOf(ipiRuns12[1].r).length || badOf(ipiRuns12[2].r).length) throw new Error("A12: fence w,o does not order the IPI");
if (badOf(ipiRuns12[3].r).length) throw new Error("A12: herd7's fence.i does not order the IPI on riscv64");
if (!valuesOf(ipiRuns12[4].r).includes("stale")) throw new Error("A12: a hart-local fence.i orders the IPI all the same");
console.log("riscv64 IPI assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A12",
  claim: "measure #4 ('context-synchronization-events') is too vague to interpret",
  finding: `defined per arch by ${a12runs.length} probes: ` + defs12.map((d) => `${d.n}: ${d.syncs.map((s) => s.replace(" (entry + return)", "").replace("() from CPU0", " IPI")).join("/") || "none"}`).join("; ") + ` — depends on arch${mismatch12.length ? "; DIFFERS from lib/arch" : ""}`,
});
