// %% [markdown]
// # A1 — `execmem_text_alloc()` (near) and `jit_text_alloc()` (far)
//
// > "execmem_text_alloc() should be used to allocate memory that must reside close to the
// > kernel image, like loadable kernel modules and generated code that is restricted by
// > relative addressing. […] jit_text_alloc() should be used to allocate memory for generated
// > code when there are no restrictions for the code placement."
// >
// > — Mike Rapoport, 2023-06-16 (patch 02/12); Kent Overstreet, 06-16: "perhaps
// > near_text_alloc() and far_text_alloc()? Would be more explicit."
//
// **What the library computes** (lib/execmem, per-arch layouts after `execmem_arch_setup()`):
// each architecture's executable ranges per `EXECMEM_*` type and whether they lie within the
// reach of the relative call from the kernel image (x86-64 rel32 ±2 GiB, arm64 BL ±128 MiB,
// riscv64 AUIPC+JALR ±2 GiB); then the near range is **filled** with module text (Debian module
// sizes) until allocations fall back or fail, and a realistic mixed workload (modules, BPF,
// kprobes, ftrace) is run at increasing populations.

// %% tags=["parameters"]
let arch = "arm64"; // the architecture drawn in detail
let cpus = 2; // unused (no exploration)
let seed = 1; // KASLR choices and workload seed
let scales = "1,4,16"; // multipliers of the workload's live population

// %% [include] _helpers.ts

// %%
import { Execmem, ARCHES, EXECMEM_TYPES, branchReaches, byArch, fmtVa } from "execmem-lab";
const MiB = 2 ** 20;
const layouts = ARCHES.map((a) => new Execmem(a, { seed: seed, rox: false }));
const reachRange = (s: Execmem, start: number, end: number) => {
  const k = s.layout.kernelImage;
  const insn = s.layout.moduleCall;
  return [start, end].every((x) => branchReaches(s.layout, insn, k.start, x) && branchReaches(s.layout, insn, k.end - 1, x) && branchReaches(s.layout, insn, x, k.start));
};
table(
  layouts.flatMap((s) =>
    EXECMEM_TYPES.filter((t) => s.info.ranges[t]).map((t) => {
      const r = s.info.ranges[t]!;
      return {
        arch: s.arch,
        type: t,
        range: `${fmtVa(r.start)}–${fmtVa(r.end)}`,
        size: `${((r.end - r.start + 1) / MiB).toFixed(0)} MiB`,
        fallback: r.fallback_end ? `${((r.fallback_end - r.fallback_start + 1) / MiB).toFixed(0)} MiB` : "—",
        [`within ${"relative call"} reach of the image`]: reachRange(s, r.start, r.end) ? "yes" : "no",
        "fallback within reach": r.fallback_end ? (reachRange(s, r.fallback_start, r.fallback_end) ? "yes" : "no") : "—",
        pgprot: r.pgprot,
      };
    }),
  ),
  `execmem ranges (seed ${seed}), reach of ${layouts.map((s) => s.layout.moduleCall).join(" / ")}`,
);

// %%
table(
  layouts.flatMap((s) => s.layout.branches.map((b) => ({ arch: s.arch, branch: b.insn, reach: `±${(b.reach / MiB).toFixed(0)} MiB`, note: b.note, "jit_text_alloc aliased to execmem_text_alloc": s.layout.jitNeedsProximity ? "yes (needs proximity)" : "no" }))),
  "Branch reach per architecture (lib/arch)",
);

// %%
import { figure, archFamily } from "execmem-lab";
// Address layout around the kernel image: offsets in MiB from the image start.
const lay = byArch(layouts)[archFamily(arch).name]![0];
const k0 = lay.layout.kernelImage.start;
const bars = [
  { name: "kernel image", s: lay.layout.kernelImage.start, e: lay.layout.kernelImage.end, c: "#000000" },
  ...EXECMEM_TYPES.filter((t) => lay.info.ranges[t]).flatMap((t) => {
    const r = lay.info.ranges[t]!;
    return [{ name: t, s: r.start, e: r.end, c: "#0072B2" }, ...(r.fallback_end ? [{ name: `${t} fallback`, s: r.fallback_start, e: r.fallback_end, c: "#E69F00" }] : [])];
  }),
];
const reach = lay.layout.branches[0].reach;
figure(
  [
    { type: "bar", orientation: "h", y: bars.map((b) => b.name), base: bars.map((b) => (b.s - k0) / MiB), x: bars.map((b) => (b.e - b.s) / MiB), marker: { color: bars.map((b) => b.c) }, name: "ranges", hovertemplate: "%{y}: %{base:.0f} MiB, %{x:.0f} MiB long<extra></extra>" },
  ],
  {
    title: `${arch}: executable ranges relative to the kernel image; shaded: ${lay.layout.branches[0].insn} reach`,
    xaxis: { title: { text: "MiB from the start of the kernel image" } },
    yaxis: { automargin: true },
    shapes: [{ type: "rect", xref: "x", yref: "paper", x0: (lay.layout.kernelImage.end - k0) / MiB - reach / MiB, x1: reach / MiB, y0: 0, y1: 1, fillcolor: "#009E73", opacity: 0.12, line: { width: 0 } }],
    height: 340,
  },
);

// %% [markdown]
// ## Filling the near range
//
// Module text allocations (sizes drawn from the Debian module table) until `execmem_alloc()`
// fails; on arm64 the allocator falls back to the 2 GiB PLT window when the 128 MiB BL window
// is full.

// %%
import { mulberry32, sampleQuantiles, MODULE_SIZES, ExecmemError } from "execmem-lab";
const fills = ARCHES.map((a) => {
  const s = new Execmem(a, { seed: seed, rox: false });
  const rng = mulberry32(seed);
  const q = MODULE_SIZES.quantiles.map((x) => ({ p: x.p, v: Math.max(4096, x.text) }));
  let n = 0, bytes = 0, firstFallback: { n: number; bytes: number } | null = null, nearOut = 0, reason = "";
  const curve: { n: number; mib: number; fb: boolean }[] = [];
  try {
    for (;;) {
      const size = sampleQuantiles(rng, q);
      const addr = s.execmem_alloc("EXECMEM_MODULE_TEXT", size);
      n++;
      bytes += size;
      const fb = s.allocation(addr)?.effects[0]?.kind === "vmap_area_alloc" && (s.allocation(addr)!.effects[0] as { range?: string }).range === "fallback";
      if (fb && !firstFallback) firstFallback = { n: n, bytes: bytes };
      if (!reachRange(s, addr, addr + size - 1)) nearOut++;
      if (n % 200 === 0) curve.push({ n: n, mib: bytes / MiB, fb: fb });
      if (n > 200_000) break;
    }
  } catch (e) {
    if (!(e instanceof ExecmemError)) throw e;
    reason = e.message;
  }
  return { arch: a, n: n, bytes: bytes, firstFallback: firstFallback, nearOut: nearOut, reason: reason, curve: curve };
});
table(
  fills.map((f) => ({
    arch: f.arch,
    "modules placed": f.n,
    "text placed": `${(f.bytes / MiB).toFixed(0)} MiB`,
    "first fallback": f.firstFallback ? `after ${f.firstFallback.n - 1} modules, ${(f.firstFallback.bytes / MiB).toFixed(0)} MiB` : "none",
    "placed out of relative-call reach": f.nearOut,
    "stopped by": f.reason.replace(/\s+/g, " ").slice(0, 90),
  })),
  "Module text until the executable range is full",
);

// %%
figure(
  fills.map((f) => ({ type: "scatter", mode: "lines", name: f.arch, x: f.curve.map((c) => c.n), y: f.curve.map((c) => c.mib) })),
  { title: "Module text placed against number of modules (until failure)", xaxis: { title: { text: "modules" } }, yaxis: { title: { text: "MiB placed" } } },
);

// %%
import { generateWorkload, runAllocator } from "execmem-lab";
const scaleList = scales.split(",").map(Number).filter((x) => x > 0);
const mixed = ARCHES.flatMap((a) =>
  scaleList.map((k) => {
    const ev = generateWorkload({ seed: seed, events: 4000, live: { module: 120 * k, bpf: 300 * k, kprobe: 20 * k, ftrace: 40 * k } });
    const r = runAllocator("module_alloc", a, ev, { seed: seed, sampleEvery: 400 });
    const s = r.samples[r.samples.length - 1];
    return { arch: a, k: k, live: s.liveCount, mib: s.requestedBytes / MiB, failures: r.failures, fallback: Math.max(...r.samples.map((x) => x.fallbackAllocations)) };
  }),
);
table(
  mixed.map((m) => ({ arch: m.arch, "population ×": m.k, "live allocations": m.live, "live text": `${m.mib.toFixed(1)} MiB`, "peak in fallback range": m.fallback, failures: m.failures })),
  "Mixed workload (modules, BPF, kprobes, ftrace) through module_alloc",
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const farTypes = layouts.flatMap((s) => EXECMEM_TYPES.filter((t) => t !== "EXECMEM_MODULE_DATA" && s.info.ranges[t] && !reachRange(s, s.info.ranges[t]!.start, s.info.ranges[t]!.end)).map((t) => `${s.arch} ${t}`));
const fbArch = fills.filter((f) => f.firstFallback);
md(
  `Relative-call reach limits what "near" can hold: ` +
    fills.map((f) => `**${f.arch}** ${(f.bytes / MiB).toFixed(0)} MiB of module text before failing${f.firstFallback ? `, falling back after ${(f.firstFallback.bytes / MiB).toFixed(0)} MiB (beyond ${byArch(layouts)[f.arch]?.[0].layout.moduleCall} reach: ${f.nearOut} modules need PLTs)` : ""}`).join("; ") +
    `. Types the arches already place out of relative-call reach of the image: ${farTypes.join(", ") || "none"} — so ${farTypes.length ? "some callers already live \"far\" today" : "every type is near today"}. ` +
    `Mixed workloads up to ×${Math.max(...scaleList)}: ` +
    ARCHES.map((a) => { const w = mixed.filter((m) => m.arch === a); return `${a} ${w.some((m) => m.fallback > 0 || m.failures > 0) ? `falls back/fails from ×${w.find((m) => m.fallback > 0 || m.failures > 0)!.k}` : "stays near"}`; }).join("; ") +
    `. Mike's split is **${fbArch.length || farTypes.length ? "supported" : "not needed by the model"}**: "near" is a scarce, per-arch resource (${fbArch.map((f) => f.arch).join(", ") || "no arch"} run out of it first), and callers that can use absolute addressing (JIT, kprobes, BPF on ${farTypes.map((t) => t.split(" ")[0]).filter((v, i, a) => a.indexOf(v) === i).join(", ") || "none"}) need not compete for it.`,
);

// %%
const armFill = byArch(fills)["arm64"]?.[0];
if (armFill && !armFill.firstFallback) throw new Error("A1: arm64 never falls back from the BL window");
if (fills.some((f) => f.n === 0)) throw new Error("A1: an arch placed nothing");
const x86Fill = byArch(fills)["x86-64"]?.[0];
if (x86Fill && x86Fill.nearOut > 0) throw new Error("A1: x86 placed module text out of rel32 reach");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A1",
  claim: "module_alloc() is wrong for ftrace/kprobes/BPF; split near (execmem_text_alloc) and far (jit_text_alloc)",
  finding:
    fills.map((f) => `${f.arch}: ${(f.bytes / MiB).toFixed(0)} MiB near${f.firstFallback ? `, fallback after ${(f.firstFallback.bytes / MiB).toFixed(0)} MiB` : ""}`).join("; ") +
    `; far already: ${farTypes.length} type ranges — ${fbArch.length || farTypes.length ? "supported, depends on arch" : "not needed"}`,
});
