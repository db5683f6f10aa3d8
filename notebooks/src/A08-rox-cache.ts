// %% [markdown]
// # A8 — A cache of ROX large pages, trap-filled, written by text poking
//
// > "So the idea was that jit_text_alloc() will have a cache of large pages mapped ROX, will
// > allocate memory from those caches and there will be jit_update() that uses text poking for
// > writing to that memory. Upon allocation of a large page to increase the cache, that large
// > page will be \"invalidated\" by filling it with breakpoint instructions (e.g int3 on x86)"
// >
// > — Mike Rapoport, 2023-06-25 (as quoted by Mark Rutland and Song Liu, 06-26)
//
// **Allocators on one seeded workload** (`compareAllocators`, lib/execmem): module loads and
// unloads with Debian module text sizes, BPF program churn, kprobe and ftrace trampolines
// (sizes stated in `SIZE_ASSUMPTIONS`), run through
// `module_alloc` + `set_memory_rox` per allocation, `bpf_prog_pack` for BPF, the 6.15
// `execmem` ROX cache, Mike's JIT ROX cache (`jit_rox_cache`, `jit_update()`), and Andy's
// handle protocol (`jit_handle`). Measured: fragmentation of the executable range, direct-map
// splits, 2 MiB text mappings (iTLB entries), trap-filled idle bytes.
//
// **And `jit_update()` explored per architecture**: CPU0 writes a program into a trap-filled
// chunk of a ROX page with the architecture's text-poking path, publishes it, CPU1 runs it.

// %% tags=["parameters"]
let arch = "x86-64"; // the architecture whose address-space map is drawn
let cpus = 2; // CPUs of the jit_update exploration
let seed = 1; // workload seed
let events = 3000; // allocation + free events

// %% [include] _helpers.ts

// %%
import { compareAllocators, ARCHES, SIZE_ASSUMPTIONS, archFamily, progress, type AllocatorRun } from "execmem-lab";
const arch8 = archFamily(arch).name; // "x86_64" and variant names are accepted too
const bar8 = progress("allocators", ARCHES.length);
const a8: Record<string, AllocatorRun[]> = {};
for (const a of ARCHES) {
  a8[a] = compareAllocators(a, { seed: seed, events: events, maps: a === arch8, sampleEvery: Math.max(1, Math.floor(events / 25)) });
  bar8.tick(1, a);
}
bar8.finish();
const fmtKiB = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
table(
  ARCHES.flatMap((a) =>
    a8[a].map((r) => {
      const s = r.samples[r.samples.length - 1];
      const peakSplits = Math.max(...r.samples.map((x) => x.directMapSplit1G + x.directMapSplit2M));
      return {
        arch: a,
        allocator: r.strategy,
        live: s.liveCount,
        failures: r.failures,
        "free extents": s.ranges.reduce((t, x) => t + x.freeExtents, 0),
        "ext. fragmentation": Math.max(...s.ranges.map((x) => x.externalFragmentation)).toFixed(2),
        "internal waste": fmtKiB(s.internalWaste),
        "idle trap-filled": fmtKiB(s.idleTrapBytes),
        "direct-map splits (1G+2M, peak)": peakSplits,
        "2 MiB text maps": s.text2M,
        "4 KiB text maps": s.text4K,
        "iTLB entries": s.itlbEntries,
      };
    }),
  ),
  `After ${events} events (seed ${seed})`,
);

// %%
table(Object.entries(SIZE_ASSUMPTIONS).map(([k, v]) => ({ user: k, "size model": v })), "Workload assumptions");

// %%
import { fragmentationFromRun, fragmentationFigure } from "execmem-lab";
fragmentationFigure(a8[arch8].map((r) => fragmentationFromRun(r, {})), { title: `${arch8}: the executable range under churn, per allocator` });

// %% [markdown]
// ## `jit_update()` on each architecture
//
// The chunk is trap-filled and already mapped ROX (the cache's large page). CPU0 writes the
// program with the architecture's patching path — x86 `text_poke_copy()` (no IPI), arm64 the
// fixmap write + `flush_icache_range()` (maintenance + `kick_all_cpus_sync()`), riscv64
// `patch_text_nosync()` + `flush_icache_all()` — or with the bare write only, then publishes it.

// %%
import { scenario, explore } from "execmem-lab";
function jitUpdate(a: string, withSync: boolean) {
  const b = scenario(`A8 jit_update ${a}${withSync ? "" : " (bare write)"}`, a)
    .data({ prog: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "trap" })
    .cpu((p) => {
      // each architecture's jit_update() routine (lib/arch), or the bare write
      if (withSync) p.jit_update("f", "new");
      else p.text_write("f", "new", "poke");
      p.smp_store_release("prog", 1);
    });
  for (let i = 1; i < cpus; i++)
    b.cpu((p) => {
      p.smp_cond_load_acquire("prog", 1);
      p.call("r0", "f");
    });
  return b.exists("1:r0!=new").build();
}
const upd = ARCHES.flatMap((a) => [true, false].map((s) => ({ arch: a, sync: s, r: explore(jitUpdate(a, s)) })));
table(
  upd.map((x) => ({ arch: x.arch, "jit_update": x.sync ? "arch patching path" : "bare write", ...ranColumns(x.r) })),
  "jit_update() into a trap-filled ROX chunk, then another CPU runs it",
);

// %% [markdown]
// ## Conclusion (computed)

// %%
const last = (a: string, s: string) => a8[a].find((r) => r.strategy === s)!.samples.slice(-1)[0];
const peak = (a: string, s: string) => Math.max(...a8[a].find((r) => r.strategy === s)!.samples.map((x) => x.directMapSplit1G + x.directMapSplit2M));
const cmp8 = ARCHES.map((a) => ({
  a: a,
  itlb: { module: last(a, "module_alloc").itlbEntries, pack: last(a, "bpf_prog_pack").itlbEntries, jit: last(a, "jit_rox_cache").itlbEntries },
  splits: { module: peak(a, "module_alloc"), pack: peak(a, "bpf_prog_pack"), jit: peak(a, "jit_rox_cache") },
  trap: last(a, "jit_rox_cache").idleTrapBytes,
}));
const updBad = upd.filter((x) => x.sync && badOf(x.r).length);
md(
  `Mike's ROX cache against module_alloc and bpf_prog_pack, after ${events} events: ` +
    cmp8.map((c) => `**${c.a}** iTLB entries ${c.itlb.jit} vs ${c.itlb.module} (module_alloc) / ${c.itlb.pack} (bpf_prog_pack); peak direct-map splits ${c.splits.jit} vs ${c.splits.module} / ${c.splits.pack}; ${fmtKiB(c.trap)} idle trap-filled`).join("; ") +
    `. The cache ${cmp8.every((c) => c.itlb.jit < c.itlb.module && c.splits.jit <= c.splits.module) ? "**does** reduce iTLB pressure and direct-map fragmentation on every architecture" : "does **not** reduce both everywhere"}, at the price of idle trap-filled memory.\n\n` +
    `jit_update() with each architecture's patching path: ${upd.filter((x) => x.sync).map((x) => `${x.arch} ${badOf(x.r).join("/") || "only new"}`).join("; ")}` +
    (updBad.length ? ` — on ${updBad.map((x) => x.arch).join(", ")} the trap fill does not stop another CPU from running the fill or a torn program unless it serialises (A6, A9, A11)` : "") + `.`,
);

// %%
for (const c of cmp8) if (!(c.itlb.jit < c.itlb.module)) throw new Error(`A8: the ROX cache does not reduce iTLB entries on ${c.a}`);
if (!upd.some((x) => !x.sync && badOf(x.r).length)) throw new Error("A8: a bare write into the cache is safe everywhere");
for (const x of upd) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A8",
  claim: "ROX large-page cache, trap-filled, written by jit_update() via text poking",
  finding:
    cmp8.map((c) => `${c.a}: iTLB ${c.itlb.jit} vs ${c.itlb.module}, splits ${c.splits.jit} vs ${c.splits.module}`).join("; ") +
    `; jit_update needs a sync on ${updBad.map((x) => x.arch).join(", ") || "no arch"} — depends on arch`,
});
