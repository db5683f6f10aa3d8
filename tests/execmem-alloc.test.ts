import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Execmem,
  ExecmemError,
  PAGE_SIZE,
  PMD_SIZE,
  SZ_1M,
  type ExecmemEffect,
  type ExecmemInfo,
  execmemArchSetup,
  simFor,
  DirectMap,
} from "../lib";

const kinds = (fx: readonly ExecmemEffect[]): string[] => fx.map((e) => e.kind);
const noRox = (): Execmem => new Execmem("x86-64", { kaslr: false, rox: false });

describe("vmalloc-like execmem_alloc (mm/execmem.c, mm/vmalloc.c)", () => {
  it("first fit in address order, with a guard page after every area", () => {
    const s = noRox();
    const base = s.info.ranges.EXECMEM_MODULE_TEXT!.start;
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", 2 * PAGE_SIZE);
    const b = s.execmem_alloc("EXECMEM_KPROBES", 1);
    const c = s.execmem_alloc("EXECMEM_BPF", PAGE_SIZE);
    expect([a - base, b - base, c - base]).toEqual([0, 3 * PAGE_SIZE, 5 * PAGE_SIZE]);
    s.execmem_free(b);
    // the hole left by b (1 page + guard) is the lowest fit for one page...
    expect(s.execmem_alloc("EXECMEM_KPROBES", PAGE_SIZE)).toBe(b);
    s.execmem_free(b);
    // ...but not for two pages (needs 3 with the guard): goes after c
    expect(s.execmem_alloc("EXECMEM_KPROBES", 2 * PAGE_SIZE)).toBe(c + 2 * PAGE_SIZE);
    const fx = s.allocation(a)!.effects;
    expect(fx[0]).toMatchObject({
      kind: "vmap_area_alloc",
      va: a,
      size: 3 * PAGE_SIZE,
      guard: PAGE_SIZE,
      range: "primary",
    });
    expect(fx[2]).toMatchObject({ kind: "map", pageSize: PAGE_SIZE, prot: "PAGE_KERNEL" });
  });

  it("honours the range alignment", () => {
    const { info } = execmemArchSetup("x86-64", { kaslr: false, rox: false });
    const t = { ...info.ranges.EXECMEM_MODULE_TEXT!, alignment: 64 * 1024 };
    const s = new Execmem("x86-64", {
      kaslr: false,
      rox: false,
      info: { ranges: { ...info.ranges, EXECMEM_MODULE_TEXT: t } },
    });
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", 100);
    const b = s.execmem_alloc("EXECMEM_MODULE_TEXT", 100);
    expect((b - a) % (64 * 1024)).toBe(0);
    expect(b - a).toBe(64 * 1024);
  });

  it("retries in the fallback range (arm64 128 MiB window -> 2 GiB PLT window)", () => {
    const s = new Execmem("arm64", { kaslr: false });
    const r = s.info.ranges.EXECMEM_MODULE_TEXT!;
    const free = s.freeSummary(r.start, r.end + 1).total; // 128 MiB minus the kernel image
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", free - PAGE_SIZE);
    expect(s.lastEffects[0]).toMatchObject({ kind: "vmap_area_alloc", range: "primary" });
    const b = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(s.lastEffects[0]).toMatchObject({ kind: "vmap_area_alloc", range: "fallback" });
    expect(b).toBeGreaterThanOrEqual(r.fallback_start);
    expect(b < r.start || b > r.end).toBe(true);
    expect(a).toBe(r.start);
  });

  it("module_alloc + set_memory_rox splits the direct map on x86 (1G->2M, 2M->4K), not on arm64 (rodata=full)", () => {
    const s = noRox();
    const a = s.module_alloc(3 * PAGE_SIZE);
    s.write(a, 3 * PAGE_SIZE, "mod:1");
    s.set_memory_rox(a, 3);
    expect(s.protAt(a)).toBe("PAGE_KERNEL_ROX");
    expect(s.directMapStats()).toMatchObject({ split1G: 1, split2M: 1, pagesNonDefault: 3 });
    const fx = s.allocation(a)!.effects;
    expect(kinds(fx)).toEqual([
      "vmap_area_alloc",
      "alloc_pages",
      "map",
      "write",
      "set_memory",
      "direct_map_split",
      "direct_map_split",
      "direct_map_change",
      "flush_tlb_kernel_range",
    ]);
    expect(() => s.write(a, 4, "x")).toThrow(/not writable/);
    s.module_memfree(a);
    // vm_reset_perms: invalid, one flush, default
    expect(kinds(s.lastEffects).slice(0, 3)).toEqual([
      "direct_map_change",
      "flush_tlb_kernel_range",
      "direct_map_change",
    ]);
    expect(s.directMapStats().pagesNonDefault).toBe(0);
    const m = new Execmem("arm64", { kaslr: false });
    const b = m.module_alloc(3 * PAGE_SIZE);
    m.set_memory_rox(b, 3);
    expect(m.directMapStats()).toMatchObject({ split1G: 0, split2M: 0, pagesNonDefault: 3 });
  });
});

describe("ROX cache (mm/execmem.c 6.15)", () => {
  it("grows by a trap-filled 2 MiB ROX huge area, first fit, text_poke_set on free, merge and release", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", 10000);
    expect(a % PMD_SIZE).toBe(0);
    expect(kinds(s.lastEffects)).toEqual([
      "vmap_area_alloc",
      "alloc_pages",
      "map",
      "trap_fill",
      "set_memory",
      "direct_map_split",
      "direct_map_change",
      "flush_tlb_kernel_range",
    ]);
    expect(s.lastEffects[2]).toMatchObject({
      pageSize: PMD_SIZE,
      prot: "PAGE_KERNEL",
      size: PMD_SIZE,
    });
    expect(s.lastEffects[3]).toMatchObject({ kind: "trap_fill", size: PMD_SIZE, insn: "int3" });
    // a whole 2 MiB page turned RO in the linear map: only the 1 GiB page is split
    expect(s.directMapStats()).toMatchObject({ split1G: 1, split2M: 0 });
    expect(s.textMappings()).toEqual({ pmd2M: 1, pte4K: 0 });
    const b = s.execmem_alloc("EXECMEM_MODULE_TEXT", 1);
    expect(b).toBe(a + 3 * PAGE_SIZE); // no guard inside the cache
    expect(kinds(s.lastEffects)).toEqual([]); // served from the cache
    const c = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(c).toBe(b + PAGE_SIZE);
    s.execmem_free(b);
    // execmem_cache_free() (6.15): execmem_fill_trapping_insns(writable = false) = x86
    // text_poke_set() with INT3 through the poking mm; no permission change, the PMD stays whole
    expect(kinds(s.lastEffects)).toEqual(["text_poke", "trap_fill"]);
    expect(s.lastEffects[0]).toMatchObject({ fn: "text_poke_set", va: b, size: PAGE_SIZE });
    expect(s.lastEffects[1]).toMatchObject({ via: "temporary_mm", insn: "int3" });
    expect(s.protAt(b)).toBe("PAGE_KERNEL_ROX");
    expect(s.mappingSizeAt(b)).toBe(PMD_SIZE);
    expect(s.directMapStats()).toMatchObject({ split1G: 1, split2M: 0 });
    expect(s.textMappings()).toEqual({ pmd2M: 1, pte4K: 0 });
    // first fit: the freed page is reused
    expect(s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE)).toBe(b);
    s.execmem_free(b);
    s.execmem_free(a);
    // free areas merged: [a, c) and [c+4K, a+2M) are not yet one extent
    expect(s.trapFilledExtents().map((e) => [e.start - a, e.end - a])).toEqual([
      [0, 4 * PAGE_SIZE],
      [5 * PAGE_SIZE, PMD_SIZE],
    ]);
    s.execmem_free(c);
    // wholly free, PMD aligned: the worker returns it to vmalloc
    expect(kinds(s.lastEffects).slice(-3)).toEqual(
      ["unmap", "flush_tlb_kernel_range", "free_pages", "vmap_area_free"].slice(-3),
    );
    expect(s.trapFilledExtents()).toEqual([]);
    expect(s.textMappings()).toEqual({ pmd2M: 0, pte4K: 0 });
  });

  /** x86 (no KASLR) with ROX-cache ranges given as [start, end) offsets from MODULES_VADDR. */
  const cacheSim = (
    ranges: Partial<
      Record<"EXECMEM_MODULE_TEXT" | "EXECMEM_KPROBES", [number, number, number?, number?]>
    >,
    physBytes?: number,
  ): { s: Execmem; base: number } => {
    const { info } = execmemArchSetup("x86-64", { kaslr: false });
    const t = info.ranges.EXECMEM_MODULE_TEXT!;
    const base = t.start;
    const out: ExecmemInfo = { ranges: { ...info.ranges } };
    for (const [ty, [lo, hi, flo, fhi]] of Object.entries(ranges))
      out.ranges[ty as "EXECMEM_KPROBES"] = {
        ...t,
        start: base + lo,
        end: base + hi - 1,
        fallback_start: flo === undefined ? 0 : base + flo,
        fallback_end: fhi === undefined ? 0 : base + fhi - 1,
      };
    return { s: new Execmem("x86-64", { kaslr: false, info: out, physBytes }), base };
  };

  it("first fit runs over the free areas in address order, primary and fallback alike (within_range)", () => {
    // MODULE_TEXT: primary [64M, 128M), fallback [0, 64M) below it; KPROBES shares the cache in [0, 64M)
    const { s, base } = cacheSim({
      EXECMEM_MODULE_TEXT: [64 * SZ_1M, 128 * SZ_1M, 0, 64 * SZ_1M],
      EXECMEM_KPROBES: [0, 64 * SZ_1M],
    });
    expect(base % PMD_SIZE).toBe(0);
    const m1 = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(m1).toBe(base + 64 * SZ_1M); // populated in the primary range
    const k = s.execmem_alloc("EXECMEM_KPROBES", PAGE_SIZE);
    expect(k).toBe(base); // a second cache area, in [0, 64M)
    // the lowest free area that passes within_range() wins, even though it is in the fallback range
    expect(s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE)).toBe(base + PAGE_SIZE);
  });

  it("within_range() looks at the start of a free area: one starting below the range is skipped", () => {
    const { s, base } = cacheSim({
      EXECMEM_KPROBES: [0, 64 * SZ_1M],
      EXECMEM_MODULE_TEXT: [SZ_1M, 64 * SZ_1M],
    });
    expect(s.execmem_alloc("EXECMEM_KPROBES", PAGE_SIZE)).toBe(base);
    // the free area [base + 4K, base + 2M) overlaps MODULE_TEXT's range but starts below it:
    // a new PMD-aligned area is populated after the first one and its guard page
    const m = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(m).toBe(base + 2 * PMD_SIZE);
    expect(s.lastEffects[0]).toMatchObject({ kind: "vmap_area_alloc", size: PMD_SIZE + PAGE_SIZE });
  });

  it("populate asks for round_up(size, PMD_SIZE) only (6.15): no smaller area when 2 MiB does not fit", () => {
    const { s, base } = cacheSim({ EXECMEM_MODULE_TEXT: [0, SZ_1M] });
    const before = s.snapshot();
    expect(() => s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE)).toThrow(/cannot grow/);
    expect(s.snapshot()).toEqual(before);
    expect(s.freeSummary(base, base + SZ_1M).total).toBe(SZ_1M);
  });

  it("without a free order-9 block, vmalloc maps the PMD-aligned 2 MiB area with 4 KiB pages", () => {
    // 4 MiB of memory: 513 pages carve both 2 MiB blocks, and freed order-0 pages are not merged
    const { s, base } = cacheSim({ EXECMEM_MODULE_TEXT: [0, 64 * SZ_1M] }, 2 * PMD_SIZE);
    const m = s.module_alloc(PMD_SIZE + PAGE_SIZE);
    s.module_memfree(m);
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(a).toBe(base); // PMD aligned, where the module was
    const fx = s.allocation(a)!.effects;
    expect(fx.find((e) => e.kind === "map")).toMatchObject({ pageSize: PAGE_SIZE, size: PMD_SIZE });
    expect(fx.find((e) => e.kind === "alloc_pages")).toMatchObject({ order: 0 });
    expect(s.mappingSizeAt(a)).toBe(PAGE_SIZE);
    expect(s.textMappings()).toEqual({ pmd2M: 0, pte4K: 512 });
  });

  it("the clean worker releases a free extent only when it is a whole cache area; a PMD-aligned part is a hazard", () => {
    const { s } = cacheSim({ EXECMEM_MODULE_TEXT: [0, 64 * SZ_1M] });
    // a 2 MiB + 4 KiB module makes a 4 MiB area [A, A + 4M)
    const big = s.execmem_alloc("EXECMEM_MODULE_TEXT", PMD_SIZE + PAGE_SIZE);
    const area = { start: big, end: big + 2 * PMD_SIZE };
    const b = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    s.execmem_free(big); // free [A, A + 2M + 4K): not a PMD multiple, nothing to clean
    expect(s.roxCacheCleanHazards).toEqual([]);
    const c = s.execmem_alloc("EXECMEM_MODULE_TEXT", PMD_SIZE);
    expect(c).toBe(big);
    const d = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
    expect(d).toBe(big + PMD_SIZE);
    s.execmem_free(c);
    // [A, A + 2M) is free, PMD aligned and PMD sized: execmem_cache_clean() would vfree(A), which
    // frees the whole 4 MiB area under b and d. The model records it and keeps the area.
    expect(s.roxCacheCleanHazards).toEqual([{ start: big, end: big + PMD_SIZE, area }]);
    expect(s.protAt(b)).toBe("PAGE_KERNEL_ROX");
    s.execmem_free(b);
    s.execmem_free(d);
    // now the whole area is one free extent: released
    expect(kinds(s.lastEffects)).toContain("vmap_area_free");
    expect(s.trapFilledExtents()).toEqual([]);
  });

  it("execmem_make_temp_rw / execmem_restore_rox", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", 2 * PAGE_SIZE);
    s.execmem_make_temp_rw(a, 2 * PAGE_SIZE);
    expect(s.protAt(a)).toBe("PAGE_KERNEL");
    expect(s.mappingSizeAt(a)).toBe(PAGE_SIZE);
    s.write(a, 100, "mod:1");
    s.execmem_restore_rox(a, 2 * PAGE_SIZE);
    expect(s.protAt(a)).toBe("PAGE_KERNEL_ROX");
    expect(s.mappingSizeAt(a)).toBe(PMD_SIZE);
    expect(() => s.execmem_make_temp_rw(a, 3 * PAGE_SIZE)).toThrow(ExecmemError);
  });

  it("CPA_COLLAPSE is x86's: restoring ROX refolds the PMD on x86 only (arm64 what-if keeps PTEs)", () => {
    for (const arch of ["x86-64", "arm64"] as const) {
      const s = simFor("execmem_rox_cache", arch);
      const a = s.execmem_alloc("EXECMEM_MODULE_TEXT", PAGE_SIZE);
      s.execmem_make_temp_rw(a, PAGE_SIZE);
      expect(s.mappingSizeAt(a)).toBe(PAGE_SIZE);
      s.execmem_restore_rox(a, PAGE_SIZE);
      expect(s.protAt(a)).toBe("PAGE_KERNEL_ROX");
      expect(s.mappingSizeAt(a), arch).toBe(arch === "x86-64" ? PMD_SIZE : PAGE_SIZE);
      expect(kinds(s.lastEffects).includes("vmalloc_collapse"), arch).toBe(arch === "x86-64");
    }
  });

  it("the thread's form: jit_update goes through text_poke, free invalidates through text_poke_set, pages kept", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    const a = s.jitRoxCache.jit_text_alloc(300);
    s.jitRoxCache.jit_update(a, 0, 300, "prog:1");
    expect(s.lastEffects).toEqual([
      { kind: "text_poke", fn: "text_poke_copy", va: a, size: 300, content: "prog:1", sync: false },
    ]);
    s.jitRoxCache.jit_free(a);
    expect(kinds(s.lastEffects)).toEqual(["text_poke", "trap_fill"]);
    expect(s.lastEffects[1]).toMatchObject({ via: "temporary_mm", insn: "int3" });
    expect(s.textMappings().pmd2M).toBe(1);
    const arm = new Execmem("arm64", { kaslr: false });
    const b = arm.jitRoxCache.jit_text_alloc(64);
    arm.jitRoxCache.jit_update(b, 0, 64, "prog:1");
    expect(kinds(arm.lastEffects)).toEqual(["text_poke", "cache_maintenance"]);
    expect(arm.lastEffects[0]).toMatchObject({ fn: "aarch64_insn_copy" });
  });
});

describe("bpf_prog_pack (kernel/bpf/core.c)", () => {
  it("64-byte chunks, first fit over a bitmap, new pack filled and ROX", () => {
    const s = noRox();
    const a = s.bpf_prog_pack_alloc(100); // 2 chunks
    expect(kinds(s.lastEffects)).toContain("trap_fill");
    expect(s.lastEffects.find((e) => e.kind === "set_memory")).toMatchObject({
      op: "rox",
      numpages: 512,
    });
    const b = s.bpf_prog_pack_alloc(64);
    expect(b - a).toBe(128);
    expect(kinds(s.lastEffects)).toEqual([]);
    const bm = s.bpfPackBitmap(0);
    expect(Array.from(bm.slice(0, 4))).toEqual([1, 1, 1, 0]);
    s.bpf_arch_text_copy(b, 64, "prog:b");
    expect(kinds(s.lastEffects)).toEqual(["bpf_arch_text_copy", "text_poke"]);
    s.bpf_prog_pack_free(a, 100);
    expect(kinds(s.lastEffects)).toEqual(["bpf_arch_text_invalidate", "text_poke", "trap_fill"]);
    expect(Array.from(s.bpfPackBitmap(0).slice(0, 4))).toEqual([0, 0, 1, 0]);
    expect(s.bpf_prog_pack_alloc(65)).toBe(a); // 2 chunks fit in the hole at 0
    expect(s.bpf_prog_pack_alloc(129)).toBe(b + 64); // 3 chunks: first fit after b
  });

  it("a program bigger than a pack gets its own allocation; an emptied pack is freed at once", () => {
    const s = noRox();
    const big = s.bpf_prog_pack_alloc(PMD_SIZE + 1);
    expect(s.allocation(big)!.allocator).toBe("bpf_prog_pack_own");
    expect(s.bpfPacks.length).toBe(0);
    const a = s.bpf_prog_pack_alloc(10);
    const b = s.bpf_prog_pack_alloc(10);
    expect(s.bpfPacks).toEqual([{ ptr: a, usedChunks: 2 }]);
    s.bpf_prog_pack_free(a);
    expect(s.bpfPacks.length).toBe(1);
    s.bpf_prog_pack_free(b);
    expect(s.bpfPacks.length).toBe(0);
    expect(kinds(s.lastEffects)).toContain("vmap_area_free");
    s.bpf_prog_pack_free(big);
    expect(s.liveAllocations).toEqual([]);
  });

  it("a new pack is execmem_alloc(EXECMEM_BPF) with 4 KiB pages, filled while RW, then ROX; packs are searched in list order", () => {
    const s = noRox();
    const a = s.bpf_prog_pack_alloc(PMD_SIZE - 64); // all but the last chunk of pack 0
    const fx = s.allocation(a)!.effects;
    expect(kinds(fx).slice(0, 5)).toEqual([
      "vmap_area_alloc",
      "alloc_pages",
      "map",
      "trap_fill",
      "set_memory",
    ]);
    expect(fx[0]).toMatchObject({ type: "EXECMEM_BPF", size: PMD_SIZE + PAGE_SIZE });
    expect(fx[2]).toMatchObject({ pageSize: PAGE_SIZE, prot: "PAGE_KERNEL" });
    expect(fx[3]).toMatchObject({ via: "va", size: PMD_SIZE, insn: "int3" });
    expect(fx[4]).toMatchObject({ op: "rox", va: a, numpages: 512 });
    const b = s.bpf_prog_pack_alloc(128); // does not fit in pack 0: a second pack
    expect(s.bpfPacks.map((p) => p.ptr)).toEqual([a, b]);
    expect(s.bpf_prog_pack_alloc(64)).toBe(a + PMD_SIZE - 64); // pack 0 first, its last chunk
    s.bpf_prog_pack_free(a);
    expect(s.bpf_prog_pack_alloc(64)).toBe(a); // pack 0 again, lowest clear bit
    // an own allocation: vfree() with vm_reset_perms(), no invalidate
    const big = s.bpf_prog_pack_alloc(PMD_SIZE + 1);
    expect(s.allocation(big)!.size).toBe(PMD_SIZE + PAGE_SIZE);
    s.bpf_prog_pack_free(big);
    expect(kinds(s.lastEffects)).not.toContain("bpf_arch_text_invalidate");
    expect(s.lastEffects[0]).toMatchObject({ kind: "direct_map_change", prot: "invalid" });
  });

  it("pack size is 2 MiB per NUMA node", () => {
    const s = new Execmem("x86-64", { kaslr: false, rox: false, numaNodes: 2 });
    expect(s.BPF_PROG_PACK_SIZE).toBe(2 * PMD_SIZE);
    const a = s.bpf_prog_pack_alloc(PMD_SIZE + 64);
    expect(s.allocation(a)!.allocator).toBe("bpf_prog_pack");
  });
});

describe("handle protocol (Andy Lutomirski, 06-19/06-20)", () => {
  it("address not mapped until jit_text_map; writes go through the direct map; optional zap", () => {
    const s = noRox();
    const h = s.jitHandle.jit_text_alloc(5000);
    expect(h.mapped).toBe(false);
    expect(s.protAt(h.addr)).toBe("PAGE_NONE");
    expect(kinds(s.lastEffects)).toEqual(["vmap_area_alloc", "alloc_pages"]);
    s.jitHandle.jit_text_write(h, 0, 5000, "prog:1");
    expect(s.lastEffects[0]).toMatchObject({ kind: "write", via: "direct_map", va: h.addr });
    s.jitHandle.jit_text_map(h, { zapDirectMap: true });
    expect(kinds(s.lastEffects)).toEqual([
      "direct_map_split",
      "direct_map_split",
      "direct_map_change",
      "flush_tlb_kernel_range",
      "map",
    ]);
    expect(s.protAt(h.addr)).toBe("PAGE_KERNEL_ROX");
    expect(() => s.jitHandle.jit_text_write(h, 0, 4, "prog:2")).toThrow(
      /jit_text_write\(handle=1\).*already mapped/,
    );
    s.jitHandle.jit_free(h);
    expect(s.directMapStats().pagesNonDefault).toBe(0);
    expect(() => s.jitHandle.jit_free(h)).toThrow(/double free/);
  });

  it("arm64 cleans/invalidates to PoU before the PTE; riscv flushes the icache on all harts", () => {
    for (const [arch, fn] of [
      ["arm64", "caches_clean_inval_pou"],
      ["riscv64", "flush_icache_all"],
    ] as const) {
      const s = new Execmem(arch, { kaslr: false });
      const h = s.jitHandle.jit_text_alloc(64);
      s.jitHandle.jit_text_map(h);
      expect(kinds(s.lastEffects)).toEqual(["cache_maintenance", "map"]);
      expect(s.lastEffects[0]).toMatchObject({ fn });
    }
  });
});

describe("misuse and bad input: ExecmemError naming call and argument; state unchanged", () => {
  const cases: [
    string,
    (
      s: Execmem,
      live: {
        text: number;
        text2: number;
        pack: number;
        gone: number;
        jit: number;
        h: ReturnType<Execmem["jitHandle"]["jit_text_alloc"]>;
      },
    ) => void,
    RegExp,
    string,
    string,
  ][] = [
    ["double free", (s, l) => s.execmem_free(l.gone), /double free/, "execmem_free", "addr="],
    [
      "free never allocated",
      (s) => s.execmem_free(12345 * PAGE_SIZE),
      /never allocated/,
      "execmem_free",
      "addr=",
    ],
    [
      "free through the wrong API",
      (s, l) => s.execmem_free(l.pack),
      /allocated by bpf_prog_pack/,
      "execmem_free",
      "addr=",
    ],
    [
      "jit_text_write after jit_text_map",
      (s, l) => s.jitHandle.jit_text_write(l.h, 0, 1, "v"),
      /already mapped/,
      "jit_text_write",
      "handle=",
    ],
    [
      "size 0",
      (s) => s.execmem_alloc("EXECMEM_KPROBES", 0),
      /positive integer/,
      "execmem_alloc",
      "size=0",
    ],
    [
      "size larger than the range",
      (s) => s.execmem_alloc("EXECMEM_BPF", 4 * 1024 * SZ_1M),
      /larger than the range/,
      "execmem_alloc",
      "size=",
    ],
    [
      "exhausted range",
      (s) => s.execmem_alloc("EXECMEM_BPF", 1450 * SZ_1M),
      /unable to allocate/,
      "execmem_alloc",
      "size=",
    ],
    [
      "unknown type",
      (s) => s.execmem_alloc("EXECMEM_FOO" as never, 10),
      /unknown execmem type/,
      "execmem_alloc",
      "type=EXECMEM_FOO",
    ],
    [
      "bpf pack size mismatch",
      (s, l) => s.bpf_prog_pack_free(l.pack, 4096),
      /does not match/,
      "bpf_prog_pack_free",
      "size=4096",
    ],
    [
      "set_memory outside any area",
      (s) => s.set_memory_rox(0, 1),
      /not inside a mapped vmalloc area/,
      "set_memory_rox",
      "addr=",
    ],
    [
      "set_memory past the end",
      (s, l) => s.set_memory_ro(l.text2, 100),
      /past the end/,
      "set_memory_ro",
      "numpages=100",
    ],
    [
      "jit_update out of bounds",
      (s, l) => s.jitRoxCache.jit_update(l.jit, 4000, 200, "v"),
      /within/,
      "jit_update",
      "offset=4000",
    ],
    [
      "bpf pack exhausted",
      (s) => s.bpf_prog_pack_alloc(1450 * SZ_1M),
      /unable to allocate/,
      "bpf_prog_pack_alloc",
      "size=",
    ],
  ];

  for (const [name, f, re, call, arg] of cases) {
    it(name, () => {
      const s = new Execmem("x86-64", { kaslr: false });
      const text = s.execmem_alloc("EXECMEM_MODULE_TEXT", 100);
      s.execmem_free(text);
      const text2 = s.execmem_alloc("EXECMEM_KPROBES", 2 * PAGE_SIZE);
      s.execmem_alloc("EXECMEM_BPF", 100 * SZ_1M);
      const pack = s.bpf_prog_pack_alloc(100);
      const h = s.jitHandle.jit_text_alloc(100);
      s.jitHandle.jit_text_map(h);
      const jit = s.jitRoxCache.jit_text_alloc(4096);
      const gone = s.execmem_alloc("EXECMEM_KPROBES", PAGE_SIZE);
      s.execmem_free(gone);
      const before = s.snapshot();
      let err: unknown;
      try {
        f(s, { text, pack, h, text2, jit, gone });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExecmemError);
      const e = err as ExecmemError;
      expect(e.message).toMatch(re);
      expect(e.call).toBe(call);
      expect(e.argument.startsWith(arg)).toBe(true);
      expect(e.message.startsWith(`${call}(${e.argument})`)).toBe(true);
      expect(s.snapshot()).toEqual(before);
    });
  }

  it("alignment that is not a power of two is rejected at setup", () => {
    const { info } = execmemArchSetup("x86-64", { kaslr: false });
    const bad: ExecmemInfo = {
      ranges: { ...info.ranges, EXECMEM_BPF: { ...info.ranges.EXECMEM_BPF!, alignment: 3000 } },
    };
    expect(() => new Execmem("x86-64", { info: bad })).toThrow(
      /execmem_init\(EXECMEM_BPF.alignment=3000\): alignment is not a power of two/,
    );
  });
});

describe("allocator invariants (property)", () => {
  it("no two live allocations overlap; freeing everything restores the free-extent total", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 3 * PMD_SIZE }),
            free: fc.nat(40),
            kind: fc.constantFrom("exec", "pack", "cache"),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.boolean(),
        (ops, rox) => {
          const s = new Execmem("x86-64", { kaslr: false, rox });
          const r = s.info.ranges.EXECMEM_MODULE_TEXT!;
          const initial = s.freeSummary(r.start, r.end + 1);
          const live: { addr: number; kind: string }[] = [];
          for (const op of ops) {
            let addr: number;
            if (op.kind === "pack") addr = s.bpf_prog_pack_alloc(op.size);
            else if (op.kind === "cache") addr = s.execmem_alloc("EXECMEM_MODULE_TEXT", op.size);
            else addr = s.execmem_alloc("EXECMEM_KPROBES", op.size);
            live.push({ addr, kind: op.kind });
            if (op.free < live.length && op.free % 3 === 0) {
              const [x] = live.splice(op.free, 1);
              if (x.kind === "pack") s.bpf_prog_pack_free(x.addr);
              else s.execmem_free(x.addr);
            }
            const sorted = [...s.liveAllocations];
            for (let i = 1; i < sorted.length; i++)
              expect(sorted[i].addr).toBeGreaterThanOrEqual(
                sorted[i - 1].addr + sorted[i - 1].size,
              );
          }
          for (const x of live) {
            if (x.kind === "pack") s.bpf_prog_pack_free(x.addr);
            else s.execmem_free(x.addr);
          }
          expect(s.freeSummary(r.start, r.end + 1)).toEqual(initial);
          expect(s.directMapStats().pagesNonDefault).toBe(0);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});

describe("bookkeeping structures", () => {
  it("DirectMap agrees with a page-by-page reference (protections, splits, leaf sizes, effects)", () => {
    const prots = ["PAGE_KERNEL", "PAGE_KERNEL_RO", "invalid"] as const;
    fc.assert(
      fc.property(
        fc.constantFrom("1G" as const, "2M" as const, "4K" as const),
        fc.array(
          fc.record({
            page: fc.nat(2 * 512 * 512 + 1500),
            pages: fc.integer({ min: 1, max: 1100 }),
            to: fc.constantFrom(...prots),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (initial, ops) => {
          const bytes = 4 * 1024 ** 3;
          const dm = new DirectMap(initial, bytes);
          const ref = new Map<number, string>();
          const s1 = new Set<number>();
          const s2 = new Set<number>();
          for (const op of ops) {
            const first = Math.min(op.page, bytes / PAGE_SIZE - op.pages);
            const out: ExecmemEffect[] = [];
            dm.change(first * PAGE_SIZE, op.pages * PAGE_SIZE, op.to, out);
            // reference: per 2 MiB block, the pages whose protection changes
            let changed = false;
            const perBlock = new Map<number, number>();
            for (let p = first; p < first + op.pages; p++)
              if ((ref.get(p) ?? "PAGE_KERNEL") !== op.to) {
                changed = true;
                perBlock.set(Math.floor(p / 512), (perBlock.get(Math.floor(p / 512)) ?? 0) + 1);
                if (op.to === "PAGE_KERNEL") ref.delete(p);
                else ref.set(p, op.to);
              }
            for (const [blk, n] of perBlock) {
              if (initial === "4K") continue;
              if (initial === "1G") s1.add(Math.floor(blk / 512));
              const covers = first <= blk * 512 && first + op.pages >= (blk + 1) * 512 && n === 512;
              if (!covers) s2.add(blk);
            }
            expect(out.filter((e) => e.kind === "direct_map_change").length).toBe(changed ? 1 : 0);
          }
          expect(dm.stats()).toEqual({
            pud1G: initial === "1G" ? 4 - s1.size : 0,
            split1G: s1.size,
            split2M: s2.size,
            pagesNonDefault: ref.size,
          });
          for (const op of ops) {
            const pa = op.page * PAGE_SIZE;
            if (pa >= bytes) continue;
            expect(dm.protOf(pa)).toBe(ref.get(op.page) ?? "PAGE_KERNEL");
            const want =
              initial === "4K" || s2.has(Math.floor(op.page / 512))
                ? PAGE_SIZE
                : initial === "2M" || s1.has(Math.floor(op.page / (512 * 512)))
                  ? PMD_SIZE
                  : 1024 ** 3;
            expect(dm.leafSize(pa)).toBe(want);
          }
          const snap = dm.snapshot() as { prot: [number, string][] };
          expect(snap.prot).toEqual([...ref.entries()].sort((a, b) => a[0] - b[0]));
        },
      ),
      { numRuns: 80, seed: 7 },
    );
  });

  it("an address handed out again after a free is live again; freeing it twice is a double free", () => {
    const s = noRox();
    for (let i = 0; i < 3; i++) {
      const a = s.module_alloc(PAGE_SIZE);
      expect(s.allocation(a)!.allocator).toBe("module_alloc");
      s.module_memfree(a);
      expect(s.allocation(a)).toBeUndefined();
      expect(() => s.module_memfree(a)).toThrow(/double free/);
    }
    expect(() => s.module_memfree(PAGE_SIZE * 7)).toThrow(/never allocated/);
    expect(s.liveAllocations).toEqual([]);
  });
});
