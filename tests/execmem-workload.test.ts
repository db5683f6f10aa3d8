import { describe, expect, it } from "vitest";
import {
  Execmem,
  PAGE_SIZE,
  PMD_SIZE,
  MODULE_SIZES,
  generateWorkload,
  measure,
  freeExtentLog2Histogram,
  compareAllocators,
  runAllocator,
} from "../lib";

/** `events` events of module loads only (seed 1), none of them ever unloaded. */
const modulesOnly = (events: number) =>
  generateWorkload({
    seed: 1,
    events,
    rate: { module: 1, bpf: 0, kprobe: 0, ftrace: 0 },
    live: { module: 1e9 },
  });

describe("seeded workloads", () => {
  it("are reproducible, differ across seeds, and only free live allocations", () => {
    const a = generateWorkload({ seed: 5, events: 3000 });
    expect(generateWorkload({ seed: 5, events: 3000 })).toEqual(a);
    expect(generateWorkload({ seed: 6, events: 3000 })).not.toEqual(a);
    const live = new Set<number>();
    for (const e of a) {
      if (e.op === "alloc") live.add(e.id);
      else {
        expect(live.has(e.id)).toBe(true);
        live.delete(e.id);
      }
    }
    expect(a.length).toBe(3000);
  });

  it("module sizes follow the Debian table", () => {
    const ev = modulesOnly(40000);
    const sizes = ev.flatMap((e) => (e.op === "alloc" ? [e.size] : [])).sort((x, y) => x - y);
    const med = sizes[Math.floor(sizes.length / 2)];
    const p90 = sizes[Math.floor(sizes.length * 0.9)];
    const t = (p: number): number => MODULE_SIZES.quantiles.find((q) => q.p === p)!.text;
    expect(med / t(0.5)).toBeGreaterThan(0.85);
    expect(med / t(0.5)).toBeLessThan(1.15);
    expect(p90 / t(0.9)).toBeGreaterThan(0.85);
    expect(p90 / t(0.9)).toBeLessThan(1.15);
  });
});

describe("fragmentation metrics on hand-checked cases", () => {
  it("free extents, largest, external fragmentation, internal waste, log2 histogram", () => {
    const s = new Execmem("x86-64", { kaslr: false, rox: false });
    const r = s.info.ranges.EXECMEM_MODULE_TEXT!;
    const size = r.end + 1 - r.start;
    s.module_alloc(100);
    const b = s.module_alloc(PAGE_SIZE);
    s.module_alloc(PAGE_SIZE);
    s.module_memfree(b);
    const m = measure(s, 4, 2, 100 + PAGE_SIZE, 0);
    const t = m.ranges[0];
    const tail = size - 6 * PAGE_SIZE; // 3 areas of one page + guard each
    expect(t.freeExtents).toBe(2);
    expect(t.freeBytes).toBe(tail + 2 * PAGE_SIZE);
    expect(t.largestFree).toBe(tail);
    expect(t.externalFragmentation).toBeCloseTo(1 - tail / (tail + 2 * PAGE_SIZE), 12);
    expect(m.internalWaste).toBe(PAGE_SIZE - 100);
    const h = freeExtentLog2Histogram(s);
    expect(h).toContainEqual({ range: "EXECMEM_MODULE_TEXT", log2: 13, count: 1 });
    expect(h.reduce((n, x) => n + x.count, 0)).toBe(2);
  });

  it("ROX cache: idle trap-filled bytes, 2 MiB text mappings and the iTLB reach", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    s.execmem_alloc("EXECMEM_MODULE_TEXT", 5000);
    const m = measure(s, 1, 1, 5000, 0, true);
    expect(m.idleTrapBytes).toBe(PMD_SIZE - 2 * PAGE_SIZE);
    expect(m.text2M).toBe(1);
    expect(m.text4K).toBe(0);
    expect(m.itlbReachBytes).toBe(PMD_SIZE);
    expect(m.internalWaste).toBe(2 * PAGE_SIZE - 5000);
    const states = m
      .map!.filter((e) => e.state !== "free" && e.state !== "reserved")
      .map((e) => [e.state, e.end - e.start]);
    expect(states).toEqual([
      ["allocated", 2 * PAGE_SIZE],
      ["trap", PMD_SIZE - 2 * PAGE_SIZE],
    ]);
  });
});

describe("allocators on the same workload", () => {
  it("are deterministic and show the mechanisms' differences", () => {
    const strip = (rs: ReturnType<typeof compareAllocators>) =>
      rs.map((r) => ({ s: r.strategy, samples: r.samples, f: r.failures }));
    const a = compareAllocators("x86-64", { seed: 3, events: 1500 });
    expect(strip(compareAllocators("x86-64", { seed: 3, events: 1500 }))).toEqual(strip(a));
    const last = Object.fromEntries(a.map((r) => [r.strategy, r.samples.at(-1)!]));
    // per-allocation vmalloc never maps text with 2 MiB pages
    expect(last.module_alloc.text2M).toBe(0);
    expect(last.jit_handle.text2M).toBe(0);
    // the ROX caches keep all text in 2 MiB mappings (CPA_COLLAPSE after restore_rox)
    expect(last.execmem_rox_cache.text4K).toBe(0);
    expect(last.jit_rox_cache.text4K).toBe(0);
    expect(last.execmem_rox_cache.text2M).toBeGreaterThan(0);
    // 64-byte chunks waste less than page rounding
    expect(last.bpf_prog_pack.internalWaste).toBeLessThan(last.module_alloc.internalWaste);
    // the handle protocol without a zap never touches the linear map's protections
    expect(last.jit_handle.directMapSplit2M).toBe(0);
    expect(last.module_alloc.directMapSplit2M).toBeGreaterThan(0);
    for (const r of a) expect(r.samples.length).toBeGreaterThan(10);
  });

  it("an exhausted range counts failures instead of throwing", () => {
    const ev = modulesOnly(400);
    const big = ev.map((e) => (e.op === "alloc" ? { ...e, size: 64 * 1024 * 1024 } : e));
    const run = runAllocator("module_alloc", "arm64", big, { sampleEvery: 0 });
    // 128 MiB window (minus the image) + 2 GiB fallback hold ~32 such modules
    expect(run.failures).toBeGreaterThan(300);
    expect(run.sim.liveAllocations.length).toBe(400 - run.failures);
    const withSamples = runAllocator("module_alloc", "arm64", big.slice(0, 40), {
      sampleEvery: 40,
    });
    const last = withSamples.samples.at(-1)!;
    // 128 MiB window minus the 36 MiB image: at most one 64 MiB module; the rest fall back to the PLT window
    const allocs = big.slice(0, 40).filter((e) => e.op === "alloc").length;
    const primary = allocs - last.failures - last.fallbackAllocations;
    expect(last.fallbackAllocations).toBeGreaterThan(25);
    expect(primary).toBeGreaterThanOrEqual(0);
    expect(primary).toBeLessThanOrEqual(1);
  });
});
