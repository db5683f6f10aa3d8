// Seeded workloads (module load/unload, BPF program churn, kprobe and ftrace trampolines) and
// fragmentation metrics of each allocator on the same workload.
//
// Sizes: module text from MODULE_SIZES (Debian linux-image-6.1.0-50-amd64, see
// data/make-module-sizes.mjs); BPF, kprobe and ftrace sizes are stated assumptions below.
import type { ArchName } from "../arch";
import { execmemArchSetup } from "./setup";
import { MODULE_SIZES } from "./data/module-sizes";
import { Execmem, type JitTextHandle, type MapExtent } from "./execmem";
import { mulberry32, sampleQuantiles } from "../model";
import { PAGE_SIZE, PMD_SIZE, type Va, alignUp } from "../arch/execmem";
import { ExecmemError } from "./types";

export type WorkloadKind = "module" | "bpf" | "kprobe" | "ftrace";

export type WorkloadEvent =
  { op: "alloc"; id: number; kind: WorkloadKind; size: number } | { op: "free"; id: number };

export interface WorkloadOptions {
  seed?: number;
  /** Number of events (allocations + frees). */
  events?: number;
  /** Mean live population per kind the churn hovers around. */
  live?: Partial<Record<WorkloadKind, number>>;
  /** Relative rate of events per kind. */
  rate?: Partial<Record<WorkloadKind, number>>;
}

/** Assumed size models of the non-module users (bytes). */
export const SIZE_ASSUMPTIONS = {
  bpf: "assumption: JITed BPF image + header, log-normal median 1536 B, sigma 1.2, clipped to [64 B, 1 MiB]",
  kprobe:
    "assumption: one instruction-slot page per event (kernel/kprobes.c alloc_insn_page: execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE))",
  ftrace:
    "assumption: x86 ftrace trampoline, uniform 200..600 B (arch/x86/kernel/ftrace.c create_trampoline)",
  module: `measured: core text sizes of ${MODULE_SIZES.count} modules of ${MODULE_SIZES.source}`,
} as const;

const MODULE_TEXT_Q = MODULE_SIZES.quantiles.map((q) => ({ p: q.p, v: Math.max(64, q.text) }));

/** A seeded churn of allocations and frees. */
export function generateWorkload(o: WorkloadOptions = {}): WorkloadEvent[] {
  const rng = mulberry32(o.seed ?? 1);
  const n = o.events ?? 2000;
  const live: Record<WorkloadKind, number> = {
    module: 120,
    bpf: 300,
    kprobe: 20,
    ftrace: 40,
    ...o.live,
  };
  const rate: Record<WorkloadKind, number> = {
    module: 0.15,
    bpf: 0.6,
    kprobe: 0.1,
    ftrace: 0.15,
    ...o.rate,
  };
  const kinds = Object.keys(rate) as WorkloadKind[];
  const total = kinds.reduce((t, k) => t + rate[k], 0);
  const pools: Record<WorkloadKind, number[]> = { module: [], bpf: [], kprobe: [], ftrace: [] };
  const out: WorkloadEvent[] = [];
  let id = 0;
  const size = (k: WorkloadKind): number => {
    if (k === "module") return sampleQuantiles(rng, MODULE_TEXT_Q);
    if (k === "bpf") return Math.min(1 << 20, Math.max(64, Math.round(rng.logNormal(1536, 1.2))));
    if (k === "kprobe") return PAGE_SIZE;
    return rng.int(200, 600);
  };
  while (out.length < n) {
    let u = rng.next() * total;
    let k = kinds[0];
    for (const kk of kinds) {
      if (u < rate[kk]) {
        k = kk;
        break;
      }
      u -= rate[kk];
    }
    const pool = pools[k];
    // allocate while under a randomly jittered target, else free a random live one
    const target = live[k] * (0.5 + rng.next());
    if (pool.length === 0 || pool.length < target) {
      out.push({ op: "alloc", id, kind: k, size: size(k) });
      pool.push(id++);
    } else {
      const i = rng.int(0, pool.length - 1);
      const [victim] = pool.splice(i, 1);
      out.push({ op: "free", id: victim });
    }
  }
  return out;
}

export type AllocatorStrategy =
  "module_alloc" | "bpf_prog_pack" | "execmem_rox_cache" | "jit_rox_cache" | "jit_handle";
export const ALLOCATOR_STRATEGIES: readonly AllocatorStrategy[] = [
  "module_alloc",
  "bpf_prog_pack",
  "execmem_rox_cache",
  "jit_rox_cache",
  "jit_handle",
];

export interface RangeMetrics {
  name: string;
  start: Va;
  end: Va;
  freeBytes: number;
  freeExtents: number;
  largestFree: number;
  /** 1 - largest free extent / free bytes (0 when free space is one extent). */
  externalFragmentation: number;
}

export interface MetricsSample {
  event: number;
  liveCount: number;
  requestedBytes: number;
  /** Bytes handed out beyond the requests (page / chunk rounding). */
  internalWaste: number;
  /** Mapped, trap-filled bytes inside caches and packs not handed out. */
  idleTrapBytes: number;
  ranges: RangeMetrics[];
  directMapSplit1G: number;
  directMapSplit2M: number;
  text2M: number;
  text4K: number;
  /** Bytes covered by the iTLB entries the executable mappings need (2 MiB + 4 KiB leaves). */
  itlbReachBytes: number;
  /** iTLB entries needed to cover all executable mappings. */
  itlbEntries: number;
  failures: number;
  /** Live allocations placed in a fallback range (arm64: the 2 GiB PLT window). */
  fallbackAllocations: number;
  /** With RunOptions.maps: the address-space map of every range (sim.ranges()), in address order. */
  map?: MapExtent[];
}

export interface AllocatorRun {
  strategy: AllocatorStrategy;
  arch: ArchName;
  samples: MetricsSample[];
  failures: number;
  /** Histogram of free-extent sizes (log2 buckets) per range at the end. */
  freeExtentHistogram: { range: string; log2: number; count: number }[];
  sim: Execmem;
}

export interface RunOptions {
  seed?: number;
  sampleEvery?: number;
  /** Also record the address-space map at each sample (bounded to the used part of each range). */
  maps?: boolean;
  physBytes?: number;
}

/** An Execmem configured for a strategy; ROX strategies get the cache on MODULE_TEXT on every arch (what-if off x86). */
export function simFor(strategy: AllocatorStrategy, arch: ArchName, o: RunOptions = {}): Execmem {
  const seed = o.seed ?? 1;
  if (strategy === "execmem_rox_cache") {
    const { info } = execmemArchSetup(arch, { seed, rox: true });
    const t = info.ranges.EXECMEM_MODULE_TEXT!;
    const flags = t.flags.includes("EXECMEM_ROX_CACHE")
      ? t.flags
      : [...t.flags, "EXECMEM_ROX_CACHE" as const];
    info.ranges.EXECMEM_MODULE_TEXT = { ...t, flags, pgprot: "PAGE_KERNEL_ROX" };
    return new Execmem(arch, { seed, info, forceRoxCache: true, physBytes: o.physBytes });
  }
  return new Execmem(arch, { seed, rox: false, physBytes: o.physBytes });
}

interface LiveEntry {
  addr: Va;
  size: number;
  kind: WorkloadKind;
  h: JitTextHandle | undefined;
  via: "pack" | "module" | "cache" | "jit" | "handle";
}

/** Run one allocator strategy over a workload, sampling metrics every sampleEvery events. */
export function runAllocator(
  strategy: AllocatorStrategy,
  arch: ArchName,
  events: readonly WorkloadEvent[],
  o: RunOptions = {},
): AllocatorRun {
  const sim = simFor(strategy, arch, o);
  const every = o.sampleEvery ?? Math.max(1, Math.floor(events.length / 50));
  // live allocations by workload id (ids are small integers: an array beats a Map here)
  const live: (LiveEntry | undefined)[] = [];
  let liveCount = 0;
  const samples: MetricsSample[] = [];
  let failures = 0;
  let requested = 0;
  const content = (id: number): string => `prog:${id}`;

  const alloc = (id: number, kind: WorkloadKind, size: number): void => {
    if (strategy === "jit_handle") {
      const h = sim.jitHandle.jit_text_alloc(size);
      sim.jitHandle.jit_text_write(h, 0, size, content(id));
      sim.jitHandle.jit_text_map(h);
      live[id] = { addr: h.addr, size, kind, h, via: "handle" };
    } else if (strategy === "jit_rox_cache") {
      const a = sim.jitRoxCache.jit_text_alloc(size);
      sim.jitRoxCache.jit_update(a, 0, size, content(id));
      live[id] = { addr: a, size, kind, h: undefined, via: "jit" };
    } else if (strategy === "execmem_rox_cache") {
      const a = sim.execmem_alloc("EXECMEM_MODULE_TEXT", size);
      if (kind === "module") {
        sim.execmem_make_temp_rw(a, size);
        sim.write(a, size, content(id));
        sim.execmem_restore_rox(a, size);
      } else sim.execmem_update_copy(a, size, content(id));
      live[id] = { addr: a, size, kind, h: undefined, via: "cache" };
    } else if (strategy === "bpf_prog_pack" && kind === "bpf") {
      const a = sim.bpf_prog_pack_alloc(size);
      sim.bpf_arch_text_copy(a, size, content(id));
      live[id] = { addr: a, size, kind, h: undefined, via: "pack" };
    } else {
      const a = sim.module_alloc(size);
      sim.write(a, size, content(id));
      sim.set_memory_rox(a, alignUp(size, PAGE_SIZE) / PAGE_SIZE);
      live[id] = { addr: a, size, kind, h: undefined, via: "module" };
    }
    liveCount++;
    requested += size;
  };
  const free = (id: number): void => {
    const e = live[id];
    if (!e) return; // its allocation had failed
    if (e.via === "handle") sim.jitHandle.jit_free(e.h!);
    else if (e.via === "jit") sim.jitRoxCache.jit_free(e.addr);
    else if (e.via === "cache") sim.execmem_free(e.addr);
    else if (e.via === "pack") sim.bpf_prog_pack_free(e.addr);
    else sim.module_memfree(e.addr);
    live[id] = undefined;
    liveCount--;
    requested -= e.size;
  };

  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    if (ev.op === "alloc") {
      try {
        alloc(ev.id, ev.kind, ev.size);
      } catch (err) {
        if (!(err instanceof ExecmemError)) throw err;
        failures++;
      }
    } else free(ev.id);
    if (every > 0 && ((i + 1) % every === 0 || i === events.length - 1))
      samples.push(measure(sim, i + 1, liveCount, requested, failures, o.maps ?? false));
  }
  return {
    strategy,
    arch,
    samples,
    failures,
    freeExtentHistogram: freeExtentLog2Histogram(sim),
    sim,
  };
}

/** Fragmentation metrics of a simulator now. */
export function measure(
  sim: Execmem,
  event: number,
  liveCount: number,
  requestedBytes: number,
  failures: number,
  withMap = false,
): MetricsSample {
  let handedOut = 0;
  let fallbackAllocations = 0;
  for (const a of sim.liveAllocations) {
    handedOut += a.size;
    const first = a.effects[0];
    if (first && first.kind === "vmap_area_alloc" && first.range === "fallback")
      fallbackAllocations++;
  }
  const idleTrapBytes = sim.trapFilledExtents().reduce((t, e) => t + (e.end - e.start), 0);
  const ranges = sim.ranges().map((r) => {
    const s = sim.freeSummary(r.start, r.end);
    return {
      name: r.name,
      start: r.start,
      end: r.end,
      freeBytes: s.total,
      freeExtents: s.count,
      largestFree: s.largest,
      externalFragmentation: s.total === 0 ? 0 : 1 - s.largest / s.total,
    };
  });
  const dm = sim.directMapStats();
  const tm = sim.textMappings();
  const sample: MetricsSample = {
    event,
    liveCount,
    requestedBytes,
    internalWaste: handedOut - requestedBytes,
    idleTrapBytes,
    ranges,
    directMapSplit1G: dm.split1G,
    directMapSplit2M: dm.split2M,
    text2M: tm.pmd2M,
    text4K: tm.pte4K,
    itlbReachBytes: tm.pmd2M * PMD_SIZE + tm.pte4K * PAGE_SIZE,
    itlbEntries: tm.pmd2M + tm.pte4K,
    failures,
    fallbackAllocations,
  };
  if (withMap) sample.map = sim.ranges().flatMap((r) => sim.addressSpaceMap(r.start, r.end));
  return sample;
}

/** log2 histogram of free-extent sizes per range. */
export function freeExtentLog2Histogram(
  sim: Execmem,
): { range: string; log2: number; count: number }[] {
  const out: { range: string; log2: number; count: number }[] = [];
  for (const r of sim.ranges()) {
    const h = new Map<number, number>();
    for (const e of sim.freeExtents(r.start, r.end)) {
      const k = Math.floor(Math.log2(e.end - e.start));
      h.set(k, (h.get(k) ?? 0) + 1);
    }
    for (const [log2, count] of [...h.entries()].sort((a, b) => a[0] - b[0]))
      out.push({ range: r.name, log2, count });
  }
  return out;
}

/** Every allocator strategy on the same seeded workload: the time series a plot draws. */
export function compareAllocators(
  arch: ArchName,
  o: WorkloadOptions & RunOptions & { strategies?: readonly AllocatorStrategy[] } = {},
): AllocatorRun[] {
  const events = generateWorkload(o);
  return (o.strategies ?? ALLOCATOR_STRATEGIES).map((s) => runAllocator(s, arch, events, o));
}
