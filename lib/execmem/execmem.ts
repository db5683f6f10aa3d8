// The execmem allocators as pure address-space bookkeeping.
//   mm/execmem.c (6.15): execmem_alloc/execmem_free, execmem_vmalloc with fallback range, the ROX
//     cache (execmem_cache_alloc/populate/free/clean, execmem_make_temp_rw/execmem_restore_rox)
//   its parts: vmalloc.ts (mm/vmalloc.c, set_memory), records.ts, text-poke.ts, rox-cache.ts,
//     bpf-prog-pack.ts (kernel/bpf/core.c), handle.ts, inspect.ts
//   The seed thread (LKML 2023-06): execmem_text_alloc, jit_text_alloc, execmem_data_alloc,
//     jit_free; Mike's ROX cache with jit_update (06-25); Andy's handle protocol (06-19/06-20).
import { families, type ArchName } from "../arch";
import {
  EXECMEM_TYPES,
  PAGE_SIZE,
  PMD_SIZE,
  alignUp,
  fmtVa,
  isPowerOfTwo,
  type ArchLayout,
  type ExecmemInfo,
  type ExecmemRange,
  type ExecmemType,
  type Pgprot,
  type Va,
} from "../arch/execmem";
import { BPF_PROG_CHUNK_SIZE, BpfProgPack } from "./bpf-prog-pack";
import type { ExecmemEffect, SetMemoryOp } from "./effects";
import { JitHandles } from "./handle";
import {
  addressSpaceMap,
  drawnRanges,
  snapshot,
  trapFilledExtents,
  type ExecmemState,
  type MapExtent,
} from "./inspect";
import type { ExecmemOptions, ExecmemParts } from "./parts";
import type { DirectMap, DirectMapStats } from "./physmem";
import { Allocations, type Allocation, type AllocatorKind } from "./records";
import { JitRoxCache, RoxCache, type CleanHazard } from "./rox-cache";
import { execmemArchSetup } from "./setup";
import { TextPoke } from "./text-poke";
import { ExecmemError } from "./types";
import { PROTS, Vmalloc, W } from "./vmalloc";

export type { Allocation, AllocatorKind } from "./records";
export type { JitTextHandle } from "./handle";
export type { MapExtent } from "./inspect";
export type { ExecmemOptions, RangeView } from "./parts";

/**
 * The execmem allocator of one architecture (mm/execmem.c): execmem_alloc() over the execmem
 * ranges of its layout, the ROX caches, bpf_prog_pack and the text-alloc proposals, with the
 * address space, physical memory and direct map they change. Sizes and addresses in bytes.
 */
export class Execmem {
  readonly arch: ArchName;
  readonly layout: ArchLayout;
  readonly info: ExecmemInfo;
  readonly numaNodes: number;
  readonly BPF_PROG_PACK_SIZE: number;
  /** kernel/bpf/core.c: BPF_PROG_CHUNK_SHIFT 6, one bitmap bit per chunk. */
  static readonly BPF_PROG_CHUNK_SIZE = BPF_PROG_CHUNK_SIZE;
  readonly cleanOnFree: boolean;
  readonly roxCacheEnabled: boolean;
  readonly jitRoxCacheRelease: boolean;
  readonly directMap: DirectMap;
  /**
   * A free extent the clean worker would hand to vfree() although it is only part of its cache
   * vm area (see rox-cache.ts): recorded, the area kept.
   */
  readonly roxCacheCleanHazards: CleanHazard[] = [];
  /** The thread's ROX cache (A8): jit_text_alloc from large ROX pages, jit_update via text poking. */
  readonly jitRoxCache: JitRoxCache;
  /** Andy's proposal: jit_text_alloc() returns a handle whose address is not mapped yet. */
  readonly jitHandle: JitHandles;
  /** Effects of the last public call. */
  lastEffects: readonly ExecmemEffect[] = [];

  private readonly vm: Vmalloc;
  private readonly records: Allocations;
  private readonly poke: TextPoke;
  /** The upstream ROX cache (EXECMEM_ROX_CACHE ranges) and the thread's. */
  private readonly cache: RoxCache;
  private readonly jitCache: RoxCache;
  private readonly packs: BpfProgPack;

  constructor(arch: ArchName, opts: ExecmemOptions = {}) {
    const setup = execmemArchSetup(arch, opts);
    this.arch = setup.layout.arch;
    this.layout = setup.layout;
    this.info = opts.info ?? setup.info;
    for (const [t, r] of Object.entries(this.info.ranges)) {
      if (r && !isPowerOfTwo(r.alignment))
        throw new ExecmemError(
          "execmem_init",
          `${t}.alignment=${r.alignment}`,
          "alignment is not a power of two",
        );
    }
    this.numaNodes = opts.numaNodes ?? 1;
    // kernel/bpf/core.c: BPF_PROG_PACK_SIZE = PMD_SIZE * num_possible_nodes()
    this.BPF_PROG_PACK_SIZE = PMD_SIZE * this.numaNodes;
    this.cleanOnFree = opts.cleanOnFree ?? true;
    this.roxCacheEnabled = opts.forceRoxCache ?? this.layout.hasRoxCache;
    this.jitRoxCacheRelease = opts.jitRoxCacheRelease ?? false;
    const keyBase = this.info.ranges.EXECMEM_MODULE_TEXT?.start ?? 0;
    const hooks = families[this.arch].execmem;
    this.vm = new Vmalloc(
      keyBase,
      opts.physBytes ?? 64 * 1024 ** 3,
      this.layout.directMapInitial,
      hooks.cpaCollapse ?? false,
    );
    this.directMap = this.vm.directMap;
    this.records = new Allocations(keyBase, this.vm);
    this.poke = new TextPoke(this.vm, this.layout, hooks);
    const h = this.roxCacheCleanHazards;
    this.cache = new RoxCache(this.vm, this.poke, h, this.cleanOnFree);
    this.jitCache = new RoxCache(this.vm, this.poke, h, this.jitRoxCacheRelease);
    const parts: ExecmemParts = {
      layout: this.layout,
      vm: this.vm,
      records: this.records,
      poke: this.poke,
      begin: () => this.begin(),
      end: (v, record) => this.end(v, record),
      rangeOf: (call, type) => this.rangeOf(call, type),
      checkSize: (call, size, max) => this.checkSize(call, size, max),
    };
    this.packs = new BpfProgPack(parts, this.BPF_PROG_PACK_SIZE);
    this.jitRoxCache = new JitRoxCache(parts, this.jitCache);
    this.jitHandle = new JitHandles(parts);
    // The kernel image and the regions below it are not vmalloc space: reserve the image.
    const ki = this.layout.kernelImage;
    this.vm.vmap.take(ki.start, ki.end - ki.start);
  }

  // ---------------------------------------------------------------- helpers

  private begin(): void {
    this.vm.fx = [];
  }
  private end<T>(v: T, record?: Allocation): T {
    const fx = this.vm.fx;
    if (record) {
      const out = record.effects;
      for (let i = 0; i < fx.length; i++) out.push(fx[i]);
    }
    this.lastEffects = fx;
    return v;
  }

  private rangeOf(call: string, type: ExecmemType): ExecmemRange {
    if (!EXECMEM_TYPES.includes(type))
      throw new ExecmemError(call, `type=${String(type)}`, "unknown execmem type");
    const r = this.info.ranges[type];
    if (!r) throw new ExecmemError(call, `type=${type}`, `no range for this type on ${this.arch}`);
    return r;
  }

  private checkSize(call: string, size: number, max: number): void {
    if (!Number.isInteger(size) || size <= 0)
      throw new ExecmemError(call, `size=${size}`, "size must be a positive integer");
    if (size > max)
      throw new ExecmemError(call, `size=${size}`, `larger than the range (${max} bytes)`);
  }

  // ---------------------------------------------------------------- execmem (mm/execmem.c)

  /**
   * mm/execmem.c execmem_alloc(type, size): a range with EXECMEM_ROX_CACHE allocates from the
   * cache, any other through execmem_vmalloc(range, size, range->pgprot, VM_FLUSH_RESET_PERMS).
   * Throws ExecmemError where the kernel returns NULL.
   */
  execmem_alloc(type: ExecmemType, size: number): Va {
    const r = this.rangeOf("execmem_alloc", type);
    this.checkSize(
      "execmem_alloc",
      size,
      r.end + 1 - r.start + (r.fallback_start ? r.fallback_end + 1 - r.fallback_start : 0),
    );
    this.begin();
    // Sizes are page granular: vmalloc rounds to pages, and the cache is kept page aligned as
    // later kernels do explicitly (execmem_alloc(): size = PAGE_ALIGN(size)); 6.15 relies on its
    // callers (the module loader) passing page-aligned sizes.
    const sz = alignUp(size, PAGE_SIZE);
    // execmem_validate() clears EXECMEM_ROX_CACHE without CONFIG_ARCH_HAS_EXECMEM_ROX
    if (r.flags.includes("EXECMEM_ROX_CACHE") && this.roxCacheEnabled) {
      const addr = this.cache.alloc("execmem_alloc", r, sz);
      const rec = this.records.record(addr, sz, "execmem_cache", type);
      return this.end(addr, rec);
    }
    const p = this.vm.planVmalloc(sz, r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "execmem_alloc",
        `size=${size}`,
        `unable to allocate memory in the ${type} range`,
      );
    const area = this.vm.doVmalloc(p, r.pgprot, type, true);
    const rec = this.records.record(area.va, sz, "execmem_alloc", type);
    return this.end(area.va, rec);
  }

  /** mm/execmem.c execmem_free(ptr): execmem_cache_free() if the cache owns ptr, else vfree(). */
  execmem_free(addr: Va): void {
    const a = this.records.lookupFree("execmem_free", addr, [
      "execmem_alloc",
      "execmem_cache",
      "module_alloc",
    ]);
    this.begin();
    if (a.allocator === "execmem_cache") this.cache.release(a);
    else this.vm.doVfree(this.vm.areaStarting(addr));
    this.records.forget(addr);
    this.end(undefined, a);
  }

  /**
   * mm/execmem.c execmem_make_temp_rw() (6.15): set_memory_nx(), then set_memory_rw() over
   * PAGE_ALIGN(size) >> PAGE_SHIFT pages (the module loader's temporary RW window).
   */
  execmem_make_temp_rw(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_make_temp_rw", addr, size);
    const a = this.records.allocs.get(addr)!;
    this.begin();
    const n = alignUp(size, PAGE_SIZE) / PAGE_SIZE;
    this.vm.cpa("set_memory_nx", "nx", addr, n);
    this.vm.cpa("set_memory_rw", "rw", addr, n);
    this.end(undefined, a);
  }

  /** mm/execmem.c execmem_restore_rox() (6.15): set_memory_rox() over the same pages. */
  execmem_restore_rox(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_restore_rox", addr, size);
    const a = this.records.allocs.get(addr)!;
    this.begin();
    this.vm.cpa("set_memory_rox", "rox", addr, alignUp(size, PAGE_SIZE) / PAGE_SIZE);
    this.end(undefined, a);
  }

  private checkCacheSpan(call: string, addr: Va, size: number): void {
    this.records.checkPointer(call, addr);
    const a = this.records.allocs.get(addr);
    if (!a || a.allocator !== "execmem_cache")
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not an allocation from the ROX cache");
    if (!Number.isInteger(size) || size <= 0 || size > a.size)
      throw new ExecmemError(call, `size=${size}`, `must be in 1..${a.size}`);
  }

  /** mm/execmem.c execmem_update_copy() = text_poke_copy() (writes through the poking alias). */
  execmem_update_copy(addr: Va, size: number, content: string): void {
    const a = this.checkText("execmem_update_copy", addr, size);
    this.begin();
    this.poke.copy(addr, size, content);
    this.end(undefined, a);
  }

  /** A plain write through the VA (module loader copy into a writable allocation). */
  write(addr: Va, size: number, content: string): void {
    const a = this.checkWrite("write", addr, size);
    const area = this.vm.areaAt(addr)!;
    const first = (addr - area.va) / PAGE_SIZE;
    const last = Math.floor((addr + size - 1 - area.va) / PAGE_SIZE);
    for (let i = first; i <= last; i++)
      if (!W(area.prot[i]))
        throw new ExecmemError(
          "write",
          `addr=${fmtVa(addr)}`,
          `page ${i} is not writable (${PROTS[area.prot[i]]})`,
        );
    this.begin();
    this.poke.writeVia("va", addr, size, content);
    this.end(undefined, a);
  }

  private checkWrite(call: string, addr: Va, size: number): Allocation {
    this.records.checkPointer(call, addr);
    const a = this.owning(addr);
    if (!a) throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not inside a live allocation");
    if (!Number.isInteger(size) || size <= 0 || addr + size > a.addr + a.size)
      throw new ExecmemError(call, `size=${size}`, "write runs past the end of the allocation");
    return a;
  }

  /**
   * The text-poking copies write instructions: their target must be executable memory, not
   * EXECMEM_MODULE_DATA (mm/execmem.c: the ROX cache and text_poke_copy() serve code).
   */
  private checkText(call: string, addr: Va, size: number): Allocation {
    const a = this.checkWrite(call, addr, size);
    if (a.type === "EXECMEM_MODULE_DATA")
      throw new ExecmemError(
        call,
        `addr=${fmtVa(addr)}`,
        `not executable memory: it is in the allocation at ${this.records.describe(a)}`,
      );
    return a;
  }

  /** The live allocation containing addr. */
  owning(addr: Va): Allocation | undefined {
    return this.records.owning(addr);
  }

  /** set_memory_ro/x/rox/nx/rw(addr, numpages). */
  set_memory_ro(addr: Va, numpages: number): void {
    this.setMemory("set_memory_ro", "ro", addr, numpages);
  }
  set_memory_x(addr: Va, numpages: number): void {
    this.setMemory("set_memory_x", "x", addr, numpages);
  }
  set_memory_rox(addr: Va, numpages: number): void {
    this.setMemory("set_memory_rox", "rox", addr, numpages);
  }
  set_memory_nx(addr: Va, numpages: number): void {
    this.setMemory("set_memory_nx", "nx", addr, numpages);
  }
  set_memory_rw(addr: Va, numpages: number): void {
    this.setMemory("set_memory_rw", "rw", addr, numpages);
  }
  private setMemory(call: string, op: SetMemoryOp, addr: Va, numpages: number): void {
    this.records.checkPointer(call, addr);
    this.begin();
    try {
      this.vm.cpa(call, op, addr, numpages);
    } catch (e) {
      this.vm.fx = [];
      throw e;
    }
    this.end(undefined, this.owning(addr));
  }

  // ---------------------------------------------------------------- module_alloc baseline

  /**
   * module_alloc() before execmem (x86 arch/x86/kernel/module.c, 6.1): __vmalloc_node_range over
   * the module range with PAGE_KERNEL and VM_FLUSH_RESET_PERMS; the loader writes the text, then
   * set_memory_rox(). Uses the MODULE_TEXT range bounds, never the ROX cache.
   */
  module_alloc(size: number): Va {
    const r = this.rangeOf("module_alloc", "EXECMEM_MODULE_TEXT");
    this.checkSize(
      "module_alloc",
      size,
      r.end + 1 - r.start + (r.fallback_start ? r.fallback_end + 1 - r.fallback_start : 0),
    );
    this.begin();
    const p = this.vm.planVmalloc(alignUp(size, PAGE_SIZE), r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "module_alloc",
        `size=${size}`,
        "unable to allocate memory in the module range",
      );
    const area = this.vm.doVmalloc(p, "PAGE_KERNEL", "EXECMEM_MODULE_TEXT", true);
    const rec = this.records.record(area.va, area.size, "module_alloc", "EXECMEM_MODULE_TEXT");
    return this.end(area.va, rec);
  }

  /** module_memfree() = vfree(). */
  module_memfree(addr: Va): void {
    const a = this.records.lookupFree("module_memfree", addr, ["module_alloc", "execmem_alloc"]);
    this.begin();
    this.vm.doVfree(this.vm.areaStarting(addr));
    this.records.forget(addr);
    this.end(undefined, a);
  }

  // ---------------------------------------------------------------- the seed's API (v2 02/12)

  /** execmem_text_alloc(): memory near the kernel image (relative addressing). */
  execmem_text_alloc(size: number): Va {
    return this.execmem_alloc("EXECMEM_MODULE_TEXT", size);
  }

  /** jit_text_alloc(): no placement restriction; aliased to execmem_text_alloc() where proximity is needed. */
  jit_text_alloc(size: number): Va {
    return this.layout.jitNeedsProximity
      ? this.execmem_text_alloc(size)
      : this.execmem_alloc("EXECMEM_BPF", size);
  }

  /** execmem_data_alloc(): EXECMEM_MODULE_DATA (non-executable). */
  execmem_data_alloc(size: number): Va {
    return this.execmem_alloc("EXECMEM_MODULE_DATA", size);
  }

  /** jit_free() == execmem_free() in the seed. */
  jit_free(addr: Va): void {
    this.execmem_free(addr);
  }

  /** Run the cache clean worker now (execmem_cache_clean_work). */
  execmem_cache_clean(): void {
    this.begin();
    this.cache.clean();
    this.end(undefined);
  }

  /** bpf_arch_text_copy(dst, src, len): copy the JITed image from the RW shadow buffer. */
  bpf_arch_text_copy(addr: Va, size: number, content: string): void {
    const a = this.checkText("bpf_arch_text_copy", addr, size);
    this.begin();
    this.vm.fx.push({ kind: "bpf_arch_text_copy", va: addr, size, content });
    this.poke.copy(addr, size, content);
    this.end(undefined, a);
  }

  // ---------------------------------------------------------------- bpf_prog_pack (kernel/bpf/core.c)

  /** bpf_prog_pack_alloc(size, bpf_fill_ill_insns). */
  bpf_prog_pack_alloc(size: number): Va {
    return this.packs.alloc(size);
  }

  /**
   * kernel/bpf/core.c bpf_prog_pack_free(ptr, size): an own allocation is bpf_jit_free_exec()ed,
   * a program's chunks are invalidated and cleared, and an empty pack is freed.
   */
  bpf_prog_pack_free(addr: Va, size?: number): void {
    this.packs.free(addr, size);
  }

  /** The bitmap of a pack (1 = chunk in use), as kernel/bpf/core.c keeps it. */
  bpfPackBitmap(index: number): Uint8Array {
    return this.packs.bitmap(index);
  }

  get bpfPacks(): readonly { ptr: Va; usedChunks: number }[] {
    return this.packs.list();
  }

  // ---------------------------------------------------------------- inspection (inspect.ts)

  /** Live allocation record (with its effects). */
  allocation(addr: Va): Allocation | undefined {
    return this.records.allocs.get(addr);
  }

  get liveAllocations(): readonly Allocation[] {
    return [...this.records.allocs.values()].sort((a, b) => a.addr - b.addr);
  }

  /** Protection of the page containing va (PAGE_NONE where nothing is mapped). */
  protAt(va: Va): Pgprot {
    return this.vm.protAt(va);
  }

  /** Page size of the leaf mapping va now (0 if unmapped). */
  mappingSizeAt(va: Va): number {
    return this.vm.mappingSizeAt(va);
  }

  /** Executable text mappings now: number of 2 MiB and 4 KiB leaf entries mapping X pages. */
  textMappings(): { pmd2M: number; pte4K: number } {
    return this.vm.textMappings();
  }

  directMapStats(): DirectMapStats {
    return this.vm.directMap.stats();
  }

  /** Free VA extents inside [start, end) (vmalloc free space, not counting cache/pack space). */
  freeExtents(start: Va, end: Va): { start: Va; end: Va }[] {
    return this.vm.freeExtents(start, end);
  }

  /** vmalloc free-space summary in [start, end). */
  freeSummary(start: Va, end: Va): { total: number; largest: number; count: number } {
    return this.vm.freeSummary(start, end);
  }

  private get state(): ExecmemState {
    const { vm, records, cache, jitCache, packs } = this;
    return { vm, records, cache, jitCache, packs, handles: this.jitHandle };
  }

  /** Free space inside the ROX caches and BPF packs (trap-filled, mapped ROX). */
  trapFilledExtents(): { start: Va; end: Va; owner: AllocatorKind }[] {
    return trapFilledExtents(this.state);
  }

  /** Address-space map of [start, end): allocated, trap-filled (mapped, unused), free, reserved (guards, image). */
  addressSpaceMap(start: Va, end: Va): MapExtent[] {
    return addressSpaceMap(this.state, start, end);
  }

  /** A deep, comparable copy of the whole allocator state (for tests of error atomicity). */
  snapshot(): unknown {
    return snapshot(this.state);
  }

  /** Ranges worth drawing for this arch: the MODULE_TEXT range (and its fallback) and the BPF range. */
  ranges(): { name: string; start: Va; end: Va }[] {
    return drawnRanges(this.info);
  }
}
