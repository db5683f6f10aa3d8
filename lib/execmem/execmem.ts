// The execmem allocators as pure address-space bookkeeping.
//   mm/execmem.c (6.15): execmem_alloc/execmem_free, execmem_vmalloc with fallback range, the ROX
//     cache (execmem_cache_alloc/populate/free/clean, execmem_force_rw/execmem_restore_rox)
//   mm/vmalloc.c: __vmalloc_node_range (guard page, VM_ALLOW_HUGE_VMAP, VM_FLUSH_RESET_PERMS ->
//     vm_reset_perms on vfree)
//   arch/x86/mm/pat/set_memory.c: set_memory_{ro,x,rox,nx,rw}, CPA alias processing of the linear
//     map (RW only, never X), split of large mappings, CPA_COLLAPSE on set_memory_rox
//   kernel/bpf/core.c: bpf_prog_pack_alloc/free, alloc_new_pack
//   The seed thread (LKML 2023-06): execmem_text_alloc, jit_text_alloc, execmem_data_alloc,
//     jit_free; Mike's ROX cache with jit_update (06-25); Andy's handle protocol (06-19/06-20).
import { execmemArchSetup, type ArchLayout, type ArchName, type ArchSetupOptions } from "./arch";
import type { ExecmemEffect, SetMemoryOp, WriteAlias } from "./effects";
import { DirectMap, PhysMem, type DirectMapStats } from "./physmem";
import {
  EXECMEM_TYPES,
  ExecmemError,
  type ExecmemInfo,
  type ExecmemRange,
  type ExecmemType,
  PAGE_SIZE,
  PMD_SIZE,
  type Pgprot,
  type Va,
  alignUp,
  fmtVa,
  isPowerOfTwo,
} from "./types";
import { VmapSpace } from "./vmap";

const PROTS: readonly Pgprot[] = [
  "PAGE_NONE",
  "PAGE_KERNEL",
  "PAGE_KERNEL_RO",
  "PAGE_KERNEL_ROX",
  "PAGE_KERNEL_EXEC",
];
const P_NONE = 0;
const P_RW = 1;
const P_RO = 2;
const P_ROX = 3;
const P_RWX = 4;
const protCode = (p: Pgprot): number => PROTS.indexOf(p);
const NO_CHUNKS8 = new Uint8Array(0);
const NO_CHUNKS16 = new Uint16Array(0);
const W = (c: number): boolean => c === P_RW || c === P_RWX;
const X = (c: number): boolean => c === P_ROX || c === P_RWX;
const code = (r: boolean, w: boolean, x: boolean): number =>
  !r ? P_NONE : w ? (x ? P_RWX : P_RW) : x ? P_ROX : P_RO;

/** A vmalloc area (struct vm_struct) as the model keeps it. */
interface VmArea {
  va: Va;
  /** Mapped size (without guard). */
  size: number;
  guard: number;
  /** 4 KiB or 2 MiB (VM_ALLOW_HUGE_VMAP with size >= PMD_SIZE). */
  pageSize: number;
  /** Physical address of each mapping unit (4 KiB page or 2 MiB block). */
  pa: number[];
  /** Protection code per 4 KiB page of the VA alias. */
  prot: Uint8Array;
  /** Per 2 MiB chunk of a huge area: 1 if its PMD was split into PTEs. */
  split: Uint8Array;
  /** Per 2 MiB chunk of a huge area: number of pages with each protection code (5 per chunk). */
  protCount: Uint16Array;
  mapped: boolean;
  resetPerms: boolean;
}

/** Who handed an address out. */
export type AllocatorKind =
  | "execmem_alloc"
  | "module_alloc"
  | "execmem_cache"
  | "bpf_prog_pack"
  | "bpf_prog_pack_own"
  | "jit_rox_cache"
  | "jit_handle";

export interface Allocation {
  addr: Va;
  size: number;
  allocator: AllocatorKind;
  type: ExecmemType | null;
  /** Every operation performed for this allocation so far, in order. */
  effects: ExecmemEffect[];
}

/** The thread's handle (Andy Lutomirski, 06-19): an address that is not mapped until jit_text_map(). */
export interface JitTextHandle {
  readonly id: number;
  readonly addr: Va;
  readonly size: number;
  readonly mapped: boolean;
}

export interface ExecmemOptions extends ArchSetupOptions {
  /** Physical memory of the modelled machine (bytes, multiple of 2 MiB). Default 64 GiB. */
  physBytes?: number;
  /** num_possible_nodes() for BPF_PROG_PACK_SIZE. Default 1. */
  numaNodes?: number;
  /** Run execmem_cache_clean (the worker free schedules) synchronously after each free. Default true. */
  cleanOnFree?: boolean;
  /** Replace the arch ranges (after execmem_init_missing semantics are applied by the caller). */
  info?: ExecmemInfo;
  /** Model the ROX cache even where the kernel does not enable it (what-if). Default: arch decides. */
  forceRoxCache?: boolean;
  /** The thread's ROX cache (A8) releases wholly free 2 MiB pages when true. Default false. */
  jitRoxCacheRelease?: boolean;
}

export interface RangeView {
  start: Va;
  end: Va;
}

/** An extent of the address-space map of a range. */
export interface MapExtent {
  start: Va;
  end: Va;
  state: "allocated" | "trap" | "free" | "reserved";
  owner?: AllocatorKind;
}

interface Cache {
  free: VmapSpace;
  busy: Map<Va, number>;
  /** vm areas (start) populated for this cache. */
  areas: Set<Va>;
}

interface Pack {
  ptr: Va;
  free: VmapSpace; // free chunk indices, first fit == bitmap_find_next_zero_area(.., align_mask 0)
  used: number;
}

export class Execmem {
  readonly arch: ArchName;
  readonly layout: ArchLayout;
  readonly info: ExecmemInfo;
  readonly numaNodes: number;
  readonly BPF_PROG_PACK_SIZE: number;
  static readonly BPF_PROG_CHUNK_SIZE = 64;
  readonly cleanOnFree: boolean;
  readonly roxCacheEnabled: boolean;
  readonly jitRoxCacheRelease: boolean;

  private vmap = new VmapSpace(0, 2 ** 48);
  private phys: PhysMem;
  readonly directMap: DirectMap;
  private areas = new Map<Va, VmArea>();
  private areaStarts: number[] = [];
  private allocs = new Map<Va, Allocation>();
  private everAllocated = new Set<Va>();
  private cache: Cache = { free: new VmapSpace(), busy: new Map(), areas: new Set() };
  private jitCache: Cache = { free: new VmapSpace(), busy: new Map(), areas: new Set() };
  private packs: Pack[] = [];
  private handles = new Map<number, { h: JitTextHandle; area: VmArea; alloc: Allocation }>();
  private nextHandle = 1;
  private fx: ExecmemEffect[] = [];
  /** Effects of the last public call. */
  lastEffects: readonly ExecmemEffect[] = [];

  constructor(arch: ArchName, opts: ExecmemOptions = {}) {
    const setup = execmemArchSetup(arch, opts);
    this.arch = arch;
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
    this.BPF_PROG_PACK_SIZE = PMD_SIZE * this.numaNodes;
    this.cleanOnFree = opts.cleanOnFree ?? true;
    this.roxCacheEnabled = opts.forceRoxCache ?? this.layout.hasRoxCache;
    this.jitRoxCacheRelease = opts.jitRoxCacheRelease ?? false;
    const physBytes = opts.physBytes ?? 64 * 1024 ** 3;
    this.phys = new PhysMem(physBytes);
    this.directMap = new DirectMap(this.layout.directMapInitial, physBytes);
    // The kernel image and the regions below it are not vmalloc space: reserve the image.
    const ki = this.layout.kernelImage;
    this.vmap.take(ki.start, ki.end - ki.start);
  }

  // ---------------------------------------------------------------- helpers

  private begin(): void {
    this.fx = [];
  }
  private end<T>(v: T, ...records: (Allocation | undefined)[]): T {
    for (const r of records) if (r) for (const e of this.fx) r.effects.push(e);
    this.lastEffects = this.fx;
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

  private areaAt(addr: Va): VmArea | undefined {
    let lo = 0;
    let hi = this.areaStarts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.areaStarts[m] <= addr) lo = m + 1;
      else hi = m;
    }
    if (lo === 0) return undefined;
    const a = this.areas.get(this.areaStarts[lo - 1])!;
    return addr < a.va + a.size ? a : undefined;
  }

  /** Plan a __vmalloc_node_range(); pure: returns the address and sizes, or null. */
  private planVmalloc(
    size: number,
    align: number,
    r: ExecmemRange,
    huge: boolean,
  ): {
    va: Va;
    size: number;
    guard: number;
    pageSize: number;
    which: "primary" | "fallback";
  } | null {
    let pageSize = PAGE_SIZE;
    let sz = alignUp(size, PAGE_SIZE);
    let al = Math.max(align, PAGE_SIZE);
    if (huge && sz >= PMD_SIZE) {
      pageSize = PMD_SIZE;
      sz = alignUp(sz, PMD_SIZE);
      al = Math.max(al, PMD_SIZE);
    }
    const units = sz / pageSize;
    if (!this.phys.canAlloc(pageSize === PAGE_SIZE ? units : 0, pageSize === PMD_SIZE ? units : 0))
      return null;
    const guard = PAGE_SIZE;
    let va = this.vmap.find(sz + guard, al, r.start, r.end + 1);
    if (va >= 0) return { va, size: sz, guard, pageSize, which: "primary" };
    if (r.fallback_start) {
      va = this.vmap.find(sz + guard, al, r.fallback_start, r.fallback_end + 1);
      if (va >= 0) return { va, size: sz, guard, pageSize, which: "fallback" };
    }
    return null;
  }

  /** Commit a planned vmalloc: VA, pages, mapping. */
  private doVmalloc(
    p: { va: Va; size: number; guard: number; pageSize: number; which: "primary" | "fallback" },
    prot: Pgprot,
    type: ExecmemType | null,
    resetPerms: boolean,
    map = true,
  ): VmArea {
    this.vmap.take(p.va, p.size + p.guard);
    this.fx.push({
      kind: "vmap_area_alloc",
      va: p.va,
      size: p.size + p.guard,
      guard: p.guard,
      range: p.which,
      type,
    });
    const units = p.size / p.pageSize;
    const pa: number[] = new Array(units);
    for (let i = 0; i < units; i++)
      pa[i] = p.pageSize === PMD_SIZE ? this.phys.allocBlock() : this.phys.allocPage();
    // effects share the (never mutated) page list
    this.fx.push({ kind: "alloc_pages", order: p.pageSize === PMD_SIZE ? 9 : 0, pa });
    const area: VmArea = {
      va: p.va,
      size: p.size,
      guard: p.guard,
      pageSize: p.pageSize,
      pa,
      prot: new Uint8Array(p.size / PAGE_SIZE).fill(map ? protCode(prot) : P_NONE),
      split: p.pageSize === PMD_SIZE ? new Uint8Array(units) : NO_CHUNKS8,
      protCount: p.pageSize === PMD_SIZE ? new Uint16Array(units * PROTS.length) : NO_CHUNKS16,
      mapped: map,
      resetPerms,
    };
    if (map) this.fx.push({ kind: "map", va: p.va, size: p.size, pageSize: p.pageSize, prot, pa });
    if (p.pageSize === PMD_SIZE)
      for (let ch = 0; ch < units; ch++) area.protCount[ch * PROTS.length + area.prot[0]] = 512;
    this.areas.set(p.va, area);
    const i = this.upperBound(p.va);
    this.areaStarts.splice(i, 0, p.va);
    return area;
  }

  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.areaStarts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.areaStarts[m] <= x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  private paOf(area: VmArea, pageIdx: number): number {
    if (area.pageSize === PAGE_SIZE) return area.pa[pageIdx];
    return area.pa[Math.floor(pageIdx / 512)] + (pageIdx % 512) * PAGE_SIZE;
  }

  /** For every maximal run of physically contiguous pages of area[first, first+n). */
  private physRuns(
    area: VmArea,
    first: number,
    n: number,
    f: (pa: number, size: number) => void,
  ): void {
    let runPa = -1;
    let runLen = 0;
    for (let i = first; i < first + n; i++) {
      const pa = this.paOf(area, i);
      if (runLen && pa === runPa + runLen * PAGE_SIZE) runLen++;
      else {
        if (runLen) f(runPa, runLen * PAGE_SIZE);
        runPa = pa;
        runLen = 1;
      }
    }
    if (runLen) f(runPa, runLen * PAGE_SIZE);
  }

  /** vfree(): vm_reset_perms() if VM_FLUSH_RESET_PERMS, unmap, free pages and VA. */
  private doVfree(area: VmArea): void {
    const n = area.size / PAGE_SIZE;
    if (area.resetPerms) {
      // vm_reset_perms(): linear alias invalid, one flush covering both aliases, then default.
      this.physRuns(area, 0, n, (pa, size) => this.directMap.change(pa, size, "invalid", this.fx));
      this.fx.push({ kind: "flush_tlb_kernel_range", start: area.va, end: area.va + area.size });
      this.physRuns(area, 0, n, (pa, size) =>
        this.directMap.change(pa, size, "PAGE_KERNEL", this.fx),
      );
    } else {
      this.physRuns(area, 0, n, (pa, size) =>
        this.directMap.change(pa, size, "PAGE_KERNEL", this.fx),
      );
    }
    if (area.mapped) {
      this.fx.push({ kind: "unmap", va: area.va, size: area.size });
      if (!area.resetPerms)
        this.fx.push({ kind: "flush_tlb_kernel_range", start: area.va, end: area.va + area.size });
    }
    for (const pa of area.pa) {
      if (area.pageSize === PMD_SIZE) this.phys.freeBlock(pa);
      else this.phys.freePage(pa);
    }
    this.fx.push({ kind: "free_pages", order: area.pageSize === PMD_SIZE ? 9 : 0, pa: area.pa });
    this.vmap.release(area.va, area.size + area.guard);
    this.fx.push({ kind: "vmap_area_free", va: area.va, size: area.size + area.guard });
    this.areas.delete(area.va);
    this.areaStarts.splice(this.upperBound(area.va) - 1, 1);
  }

  /** Change protections of [addr, addr + numpages*4K) inside one vm area (change_page_attr_set_clr). */
  private cpa(call: string, op: SetMemoryOp, addr: Va, numpages: number): void {
    if (!Number.isInteger(numpages) || numpages <= 0)
      throw new ExecmemError(call, `numpages=${numpages}`, "numpages must be a positive integer");
    if (addr % PAGE_SIZE !== 0)
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "address is not page aligned");
    const area = this.areaAt(addr);
    if (!area || !area.mapped)
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not inside a mapped vmalloc area");
    if (addr + numpages * PAGE_SIZE > area.va + area.size)
      throw new ExecmemError(
        call,
        `numpages=${numpages}`,
        "range runs past the end of the vmalloc area",
      );
    const first = (addr - area.va) / PAGE_SIZE;
    let anyChanged = false;
    for (let i = first; i < first + numpages; i++) {
      const c = area.prot[i];
      let w = W(c);
      let x = X(c);
      if (op === "ro") w = false;
      else if (op === "rw") w = true;
      else if (op === "x") x = true;
      else if (op === "nx") x = false;
      else {
        w = false;
        x = true;
      }
      const nc = code(true, w, x);
      if (nc !== c) {
        anyChanged = true;
        area.prot[i] = nc;
        if (area.pageSize === PMD_SIZE) {
          const base = (i >> 9) * PROTS.length;
          area.protCount[base + c]--;
          area.protCount[base + nc]++;
        }
      }
    }
    const resulting = PROTS[area.prot[first]];
    this.fx.push({ kind: "set_memory", op, va: addr, numpages, prot: resulting });
    if (area.pageSize === PMD_SIZE && anyChanged) {
      for (let ch = Math.floor(first / 512); ch <= Math.floor((first + numpages - 1) / 512); ch++) {
        const uniform = this.chunkUniform(area, ch);
        if (!area.split[ch] && !uniform) {
          area.split[ch] = 1;
          this.fx.push({
            kind: "vmalloc_split",
            va: area.va + ch * PMD_SIZE,
            from: "2M",
            to: "4K",
          });
        } else if (area.split[ch] && uniform && op === "rox") {
          // CPA_COLLAPSE (x86 set_memory_rox, 6.15): 512 uniform PTEs become a PMD again
          area.split[ch] = 0;
          this.fx.push({ kind: "vmalloc_collapse", va: area.va + ch * PMD_SIZE, to: "2M" });
        }
      }
    }
    // Linear-map alias: RW/RO follows, X never (cpa_process_alias keeps NX on the direct map).
    if (op === "ro" || op === "rox" || op === "rw") {
      const to: Pgprot = op === "rw" ? "PAGE_KERNEL" : "PAGE_KERNEL_RO";
      this.physRuns(area, first, numpages, (pa, size) =>
        this.directMap.change(pa, size, to, this.fx),
      );
    }
    if (anyChanged)
      this.fx.push({
        kind: "flush_tlb_kernel_range",
        start: addr,
        end: addr + numpages * PAGE_SIZE,
      });
  }

  private chunkUniform(area: VmArea, ch: number): boolean {
    return area.protCount[ch * PROTS.length + area.prot[ch * 512]] === 512;
  }

  private recordAlloc(
    addr: Va,
    size: number,
    allocator: AllocatorKind,
    type: ExecmemType | null,
  ): Allocation {
    const a: Allocation = { addr, size, allocator, type, effects: [] };
    this.allocs.set(addr, a);
    this.everAllocated.add(addr);
    return a;
  }

  private lookupFree(call: string, addr: Va, allowed: readonly AllocatorKind[]): Allocation {
    const a = this.allocs.get(addr);
    if (!a) {
      if (this.everAllocated.has(addr))
        throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "double free");
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "address was never allocated");
    }
    if (!allowed.includes(a.allocator))
      throw new ExecmemError(
        call,
        `addr=${fmtVa(addr)}`,
        `allocated by ${a.allocator}, not freed by this call`,
      );
    return a;
  }

  private writeVia(alias: WriteAlias, va: Va, size: number, content: string): void {
    this.fx.push({ kind: "write", va, size, via: alias, content });
  }

  /** The arch's text_poke-like copy (execmem_update_copy, bpf_arch_text_copy). */
  private pokeCopy(va: Va, size: number, content: string, sync = false): void {
    const fn =
      this.arch === "x86_64"
        ? "text_poke_copy"
        : this.arch === "arm64"
          ? "aarch64_insn_copy"
          : "patch_text_nosync";
    this.fx.push({ kind: "text_poke", fn, va, size, content, sync });
    this.archIcacheAfterPoke(va, size);
  }

  private pokeSet(va: Va, size: number): void {
    const fn =
      this.arch === "x86_64"
        ? "text_poke_set"
        : this.arch === "arm64"
          ? "aarch64_insn_set"
          : "patch_text_set_nosync";
    this.fx.push({ kind: "text_poke", fn, va, size, content: this.layout.trapInsn, sync: false });
    this.fx.push({
      kind: "trap_fill",
      va,
      size,
      via: this.layout.textPokeAlias,
      insn: this.layout.trapInsn,
    });
    this.archIcacheAfterPoke(va, size);
  }

  private archIcacheAfterPoke(va: Va, size: number): void {
    // arm64 aarch64_insn_copy/set end with flush_icache_range(); riscv patch_text_nosync with
    // flush_icache_range() == flush_icache_all(); x86 needs none.
    if (this.arch === "arm64")
      this.fx.push({ kind: "cache_maintenance", fn: "flush_icache_range", va, size });
    else if (this.arch === "riscv64")
      this.fx.push({ kind: "cache_maintenance", fn: "flush_icache_all", va, size });
  }

  private trapFillVa(va: Va, size: number): void {
    this.fx.push({ kind: "trap_fill", va, size, via: "va", insn: this.layout.trapInsn });
  }

  // ---------------------------------------------------------------- execmem (mm/execmem.c)

  /** execmem_alloc(type, size). Throws ExecmemError where the kernel returns NULL. */
  execmem_alloc(type: ExecmemType, size: number): Va {
    const r = this.rangeOf("execmem_alloc", type);
    this.checkSize(
      "execmem_alloc",
      size,
      r.end + 1 - r.start + (r.fallback_start ? r.fallback_end + 1 - r.fallback_start : 0),
    );
    this.begin();
    const sz = alignUp(size, PAGE_SIZE);
    if (r.flags.includes("EXECMEM_ROX_CACHE") && this.roxCacheEnabled) {
      const addr = this.cacheAlloc(this.cache, "execmem_alloc", r, sz);
      const rec = this.recordAlloc(addr, sz, "execmem_cache", type);
      return this.end(addr, rec);
    }
    const p = this.planVmalloc(sz, r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "execmem_alloc",
        `size=${size}`,
        `unable to allocate memory in the ${type} range`,
      );
    const area = this.doVmalloc(p, r.pgprot, type, true);
    const rec = this.recordAlloc(area.va, sz, "execmem_alloc", type);
    return this.end(area.va, rec);
  }

  /** execmem_free(ptr): back to the ROX cache if it came from it, else vfree(). */
  execmem_free(addr: Va): void {
    const a = this.lookupFree("execmem_free", addr, [
      "execmem_alloc",
      "execmem_cache",
      "module_alloc",
    ]);
    this.begin();
    if (a.allocator === "execmem_cache") this.cacheFree(this.cache, a, true);
    else this.doVfree(this.areas.get(addr)!);
    this.allocs.delete(addr);
    this.end(undefined, a);
  }

  /** execmem_make_temp_rw() (6.15): set_memory_nx + set_memory_rw on a ROX-cache allocation. */
  execmem_make_temp_rw(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_make_temp_rw", addr, size);
    const a = this.allocs.get(addr)!;
    this.begin();
    const n = alignUp(size, PAGE_SIZE) / PAGE_SIZE;
    this.cpa("set_memory_nx", "nx", addr, n);
    this.cpa("set_memory_rw", "rw", addr, n);
    this.end(undefined, a);
  }

  /** execmem_restore_rox(): set_memory_rox. */
  execmem_restore_rox(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_restore_rox", addr, size);
    const a = this.allocs.get(addr)!;
    this.begin();
    this.cpa("set_memory_rox", "rox", addr, alignUp(size, PAGE_SIZE) / PAGE_SIZE);
    this.end(undefined, a);
  }

  private checkCacheSpan(call: string, addr: Va, size: number): void {
    const a = this.allocs.get(addr);
    if (!a || a.allocator !== "execmem_cache")
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not an allocation from the ROX cache");
    if (!Number.isInteger(size) || size <= 0 || size > a.size)
      throw new ExecmemError(call, `size=${size}`, `must be in 1..${a.size}`);
  }

  /** execmem_update_copy() = text_poke_copy() on x86 (writes through the poking alias). */
  execmem_update_copy(addr: Va, size: number, content: string): void {
    const a = this.checkWrite("execmem_update_copy", addr, size);
    this.begin();
    this.pokeCopy(addr, size, content);
    this.end(undefined, a);
  }

  /** A plain write through the VA (module loader copy into a writable allocation). */
  write(addr: Va, size: number, content: string): void {
    const a = this.checkWrite("write", addr, size);
    const area = this.areaAt(addr)!;
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
    this.writeVia("va", addr, size, content);
    this.end(undefined, a);
  }

  private checkWrite(call: string, addr: Va, size: number): Allocation {
    const a = this.owning(addr);
    if (!a) throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not inside a live allocation");
    if (!Number.isInteger(size) || size <= 0 || addr + size > a.addr + a.size)
      throw new ExecmemError(call, `size=${size}`, "write runs past the end of the allocation");
    return a;
  }

  /** The live allocation containing addr. */
  owning(addr: Va): Allocation | undefined {
    const exact = this.allocs.get(addr);
    if (exact) return exact;
    // sub-allocations are not vm areas; search the (few) live allocations near addr
    const area = this.areaAt(addr);
    if (area && this.allocs.has(area.va)) {
      const a = this.allocs.get(area.va)!;
      if (addr < a.addr + a.size) return a;
    }
    for (const a of this.allocs.values()) if (addr >= a.addr && addr < a.addr + a.size) return a;
    return undefined;
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
    this.begin();
    try {
      this.cpa(call, op, addr, numpages);
    } catch (e) {
      this.fx = [];
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
    const p = this.planVmalloc(alignUp(size, PAGE_SIZE), r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "module_alloc",
        `size=${size}`,
        "unable to allocate memory in the module range",
      );
    const area = this.doVmalloc(p, "PAGE_KERNEL", "EXECMEM_MODULE_TEXT", true);
    const rec = this.recordAlloc(area.va, area.size, "module_alloc", "EXECMEM_MODULE_TEXT");
    return this.end(area.va, rec);
  }

  /** module_memfree() = vfree(). */
  module_memfree(addr: Va): void {
    const a = this.lookupFree("module_memfree", addr, ["module_alloc", "execmem_alloc"]);
    this.begin();
    this.doVfree(this.areas.get(addr)!);
    this.allocs.delete(addr);
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

  // ---------------------------------------------------------------- ROX cache (6.15 and the thread's)

  /**
   * execmem_cache_alloc(): first fit in address order over free areas within the range; on a
   * miss execmem_cache_populate_alloc(): huge vmalloc of round_up(size, PMD_SIZE) (falling back
   * to size), fill with traps, set_memory_rox, add to the free areas, allocate again.
   * `upstream` false = the thread's form (same growth; the caller writes with text poking).
   */
  private cacheAlloc(c: Cache, call: string, r: ExecmemRange, size: number): Va {
    const within = (): number => {
      // within_range(): [addr, addr+size) inside the primary or the fallback range
      let a = c.free.find(size, 1, r.start, r.end + 1);
      if (a < 0 && r.fallback_start) a = c.free.find(size, 1, r.fallback_start, r.fallback_end + 1);
      return a;
    };
    let addr = within();
    if (addr < 0) {
      let p = this.planVmalloc(alignUp(size, PMD_SIZE), r.alignment, r, true);
      if (!p) p = this.planVmalloc(size, r.alignment, r, true);
      if (!p)
        throw new ExecmemError(
          call,
          `size=${size}`,
          "unable to allocate memory (ROX cache cannot grow)",
        );
      const area = this.doVmalloc(p, "PAGE_KERNEL", null, false);
      // execmem_fill_trapping_insns(); the thread (Mike, 06-25): a new large page is
      // "invalidated" by filling it with breakpoint instructions
      this.trapFillVa(area.va, area.size);
      this.cpa("set_memory_rox", "rox", area.va, area.size / PAGE_SIZE);
      c.free.release(area.va, area.size);
      c.areas.add(area.va);
      addr = within();
    }
    c.free.take(addr, size);
    c.busy.set(addr, size);
    return addr;
  }

  /** __execmem_cache_free(): force RW, fill with traps, restore ROX, merge into the free areas. */
  private cacheFree(c: Cache, a: Allocation, upstream: boolean): void {
    const n = a.size / PAGE_SIZE;
    if (upstream) {
      this.cpa("set_memory_nx", "nx", a.addr, n);
      this.cpa("set_memory_rw", "rw", a.addr, n);
      this.trapFillVa(a.addr, a.size);
      this.cpa("set_memory_rox", "rox", a.addr, n);
    } else {
      // the thread's form: invalidate on free through text poking, mapping stays ROX
      this.pokeSet(a.addr, a.size);
    }
    c.busy.delete(a.addr);
    c.free.release(a.addr, a.size);
    if (upstream ? this.cleanOnFree : this.jitRoxCacheRelease) this.cacheClean(c);
  }

  /**
   * execmem_cache_clean(): free areas that are PMD-aligned multiples of PMD_SIZE go back to
   * vmalloc. Only a free extent covering a whole cache vm area is released here (a partial one
   * would not be a vm area start for vfree()).
   */
  private cacheClean(c: Cache): void {
    for (const start of [...c.areas]) {
      const area = this.areas.get(start)!;
      const ext = c.free.containing(start);
      if (!ext || ext.start !== area.va || ext.end < area.va + area.size) continue;
      if (area.size % PMD_SIZE !== 0 || area.va % PMD_SIZE !== 0) continue;
      c.free.take(area.va, area.size);
      c.areas.delete(start);
      this.doVfree(area);
    }
  }

  /** Run the cache clean worker now (execmem_cache_clean_work). */
  execmem_cache_clean(): void {
    this.begin();
    this.cacheClean(this.cache);
    this.end(undefined);
  }

  /** The thread's ROX cache (A8): jit_text_alloc from large ROX pages, jit_update via text poking. */
  readonly jitRoxCache = {
    jit_text_alloc: (size: number): Va => {
      const r = this.rangeOf(
        "jit_text_alloc",
        this.layout.jitNeedsProximity ? "EXECMEM_MODULE_TEXT" : "EXECMEM_BPF",
      );
      this.checkSize("jit_text_alloc", size, r.end + 1 - r.start);
      this.begin();
      const sz = alignUp(size, PAGE_SIZE);
      const addr = this.cacheAlloc(this.jitCache, "jit_text_alloc", r, sz);
      return this.end(addr, this.recordAlloc(addr, sz, "jit_rox_cache", null));
    },
    /** jit_update(): write through text poking (the mapping stays ROX). */
    jit_update: (addr: Va, offset: number, size: number, content: string): void => {
      const a = this.allocs.get(addr);
      if (!a || a.allocator !== "jit_rox_cache")
        throw new ExecmemError(
          "jit_update",
          `addr=${fmtVa(addr)}`,
          "not an allocation of the JIT ROX cache",
        );
      if (
        !Number.isInteger(offset) ||
        offset < 0 ||
        !Number.isInteger(size) ||
        size <= 0 ||
        offset + size > a.size
      )
        throw new ExecmemError(
          "jit_update",
          `offset=${offset}`,
          `offset+size must be within ${a.size}`,
        );
      this.begin();
      this.pokeCopy(addr + offset, size, content);
      this.end(undefined, a);
    },
    jit_free: (addr: Va): void => {
      const a = this.lookupFree("jit_free", addr, ["jit_rox_cache"]);
      this.begin();
      this.cacheFree(this.jitCache, a, false);
      this.allocs.delete(addr);
      this.end(undefined, a);
    },
  };

  // ---------------------------------------------------------------- bpf_prog_pack (kernel/bpf/core.c)

  /** bpf_prog_pack_alloc(size, bpf_fill_ill_insns). */
  bpf_prog_pack_alloc(size: number): Va {
    const r = this.rangeOf("bpf_prog_pack_alloc", "EXECMEM_BPF");
    this.checkSize("bpf_prog_pack_alloc", size, r.end + 1 - r.start);
    const CH = Execmem.BPF_PROG_CHUNK_SIZE;
    const chunks = this.BPF_PROG_PACK_SIZE / CH;
    if (size > this.BPF_PROG_PACK_SIZE) {
      // a program bigger than a pack gets its own allocation
      const sz = alignUp(size, PAGE_SIZE);
      const p = this.planVmalloc(sz, r.alignment, r, false);
      if (!p)
        throw new ExecmemError(
          "bpf_prog_pack_alloc",
          `size=${size}`,
          "unable to allocate memory in the EXECMEM_BPF range",
        );
      this.begin();
      const area = this.doVmalloc(p, r.pgprot, "EXECMEM_BPF", true);
      this.trapFillVa(area.va, sz);
      this.cpa("set_memory_rox", "rox", area.va, sz / PAGE_SIZE);
      return this.end(area.va, this.recordAlloc(area.va, sz, "bpf_prog_pack_own", "EXECMEM_BPF"));
    }
    const nbits = Math.ceil(size / CH);
    for (const pack of this.packs) {
      const pos = pack.free.find(nbits, 1, 0, chunks);
      if (pos >= 0) {
        this.begin();
        pack.free.take(pos, nbits);
        pack.used += nbits;
        const addr = pack.ptr + pos * CH;
        return this.end(addr, this.recordAlloc(addr, nbits * CH, "bpf_prog_pack", "EXECMEM_BPF"));
      }
    }
    // alloc_new_pack(): execmem_alloc(EXECMEM_BPF), fill with illegal insns, set_memory_rox
    const p = this.planVmalloc(this.BPF_PROG_PACK_SIZE, r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "bpf_prog_pack_alloc",
        `size=${size}`,
        "unable to allocate a new pack in the EXECMEM_BPF range",
      );
    this.begin();
    const area = this.doVmalloc(p, r.pgprot, "EXECMEM_BPF", true);
    this.trapFillVa(area.va, this.BPF_PROG_PACK_SIZE);
    this.cpa("set_memory_rox", "rox", area.va, this.BPF_PROG_PACK_SIZE / PAGE_SIZE);
    const pack: Pack = { ptr: area.va, free: new VmapSpace(0, chunks), used: 0 };
    this.packs.push(pack);
    pack.free.take(0, nbits);
    pack.used = nbits;
    return this.end(area.va, this.recordAlloc(area.va, nbits * CH, "bpf_prog_pack", "EXECMEM_BPF"));
  }

  /** bpf_arch_text_copy(dst, src, len): copy the JITed image from the RW shadow buffer. */
  bpf_arch_text_copy(addr: Va, size: number, content: string): void {
    const a = this.checkWrite("bpf_arch_text_copy", addr, size);
    this.begin();
    this.fx.push({ kind: "bpf_arch_text_copy", va: addr, size, content });
    this.pokeCopy(addr, size, content);
    this.end(undefined, a);
  }

  /** bpf_prog_pack_free(ptr, size): bpf_arch_text_invalidate, clear bits, free an emptied pack at once. */
  bpf_prog_pack_free(addr: Va, size?: number): void {
    const a = this.lookupFree("bpf_prog_pack_free", addr, ["bpf_prog_pack", "bpf_prog_pack_own"]);
    if (
      size !== undefined &&
      alignUp(size, a.allocator === "bpf_prog_pack" ? Execmem.BPF_PROG_CHUNK_SIZE : PAGE_SIZE) !==
        a.size
    )
      throw new ExecmemError(
        "bpf_prog_pack_free",
        `size=${size}`,
        `does not match the allocated size ${a.size}`,
      );
    this.begin();
    if (a.allocator === "bpf_prog_pack_own") {
      this.doVfree(this.areas.get(addr)!);
    } else {
      const pack = this.packs.find((p) => addr >= p.ptr && addr < p.ptr + this.BPF_PROG_PACK_SIZE)!;
      this.fx.push({ kind: "bpf_arch_text_invalidate", va: addr, size: a.size });
      this.pokeSet(addr, a.size);
      const pos = (addr - pack.ptr) / Execmem.BPF_PROG_CHUNK_SIZE;
      const nbits = a.size / Execmem.BPF_PROG_CHUNK_SIZE;
      pack.free.release(pos, nbits);
      pack.used -= nbits;
      if (pack.used === 0) {
        this.packs.splice(this.packs.indexOf(pack), 1);
        this.doVfree(this.areas.get(pack.ptr)!);
      }
    }
    this.allocs.delete(addr);
    this.end(undefined, a);
  }

  /** The bitmap of a pack (1 = chunk in use), as kernel/bpf/core.c keeps it. */
  bpfPackBitmap(index: number): Uint8Array {
    const pack = this.packs[index];
    if (!pack)
      throw new ExecmemError("bpfPackBitmap", `index=${index}`, `only ${this.packs.length} packs`);
    const chunks = this.BPF_PROG_PACK_SIZE / Execmem.BPF_PROG_CHUNK_SIZE;
    const bm = new Uint8Array(chunks).fill(1);
    for (const e of pack.free.extents(0, chunks)) bm.fill(0, e.start, e.end);
    return bm;
  }

  get bpfPacks(): readonly { ptr: Va; usedChunks: number }[] {
    return this.packs.map((p) => ({ ptr: p.ptr, usedChunks: p.used }));
  }

  // ---------------------------------------------------------------- the handle protocol (A4/A5)

  /** Andy's proposal: jit_text_alloc() returns a handle whose address is not mapped yet. */
  readonly jitHandle = {
    jit_text_alloc: (size: number): JitTextHandle => {
      const r = this.rangeOf(
        "jit_text_alloc",
        this.layout.jitNeedsProximity ? "EXECMEM_MODULE_TEXT" : "EXECMEM_BPF",
      );
      this.checkSize("jit_text_alloc", size, r.end + 1 - r.start);
      const p = this.planVmalloc(alignUp(size, PAGE_SIZE), r.alignment, r, false);
      if (!p) throw new ExecmemError("jit_text_alloc", `size=${size}`, "unable to allocate memory");
      this.begin();
      const area = this.doVmalloc(p, "PAGE_KERNEL_ROX", null, false, false);
      const h: JitTextHandle = {
        id: this.nextHandle++,
        addr: area.va,
        size: area.size,
        mapped: false,
      };
      const rec = this.recordAlloc(area.va, area.size, "jit_handle", null);
      this.handles.set(h.id, { h, area, alloc: rec });
      return this.end(h, rec);
    },
    /** jit_text_write(): write through the direct map (or a temporary mm) before the text is mapped. */
    jit_text_write: (
      h: JitTextHandle,
      offset: number,
      size: number,
      content: string,
      via: WriteAlias = "direct_map",
    ): void => {
      const e = this.handleOf("jit_text_write", h);
      if (e.h.mapped)
        throw new ExecmemError(
          "jit_text_write",
          `handle=${h.id}`,
          "the text is already mapped (jit_text_map was called)",
        );
      if (
        !Number.isInteger(offset) ||
        offset < 0 ||
        !Number.isInteger(size) ||
        size <= 0 ||
        offset + size > e.area.size
      )
        throw new ExecmemError(
          "jit_text_write",
          `offset=${offset}`,
          `offset+size must be within ${e.area.size}`,
        );
      this.begin();
      this.writeVia(via, e.area.va + offset, size, content);
      this.end(undefined, e.alloc);
    },
    /**
     * jit_text_map(): optional direct-map zap (A5), per-arch maintenance before the PTE, install
     * the ROX PTEs. Synchronisation costs live in the cost model.
     */
    jit_text_map: (h: JitTextHandle, opts: { zapDirectMap?: boolean } = {}): void => {
      const e = this.handleOf("jit_text_map", h);
      if (e.h.mapped) throw new ExecmemError("jit_text_map", `handle=${h.id}`, "already mapped");
      this.begin();
      const area = e.area;
      const n = area.size / PAGE_SIZE;
      if (opts.zapDirectMap) {
        let lo = Infinity;
        let hi = -Infinity;
        this.physRuns(area, 0, n, (pa, size) => {
          this.directMap.change(pa, size, "invalid", this.fx);
          lo = Math.min(lo, pa);
          hi = Math.max(hi, pa + size);
        });
        this.fx.push({
          kind: "flush_tlb_kernel_range",
          start: this.layout.pageOffset + lo,
          end: this.layout.pageOffset + hi,
        });
      }
      if (this.arch === "arm64")
        this.fx.push({
          kind: "cache_maintenance",
          fn: "caches_clean_inval_pou",
          va: area.va,
          size: area.size,
        });
      if (this.arch === "riscv64")
        this.fx.push({
          kind: "cache_maintenance",
          fn: "flush_icache_all",
          va: area.va,
          size: area.size,
        });
      area.prot.fill(P_ROX);
      area.mapped = true;
      this.fx.push({
        kind: "map",
        va: area.va,
        size: area.size,
        pageSize: PAGE_SIZE,
        prot: "PAGE_KERNEL_ROX",
        pa: area.pa,
      });
      (e.h as { mapped: boolean }).mapped = true;
      this.end(undefined, e.alloc);
    },
    jit_free: (h: JitTextHandle): void => {
      if (!this.handles.has(h.id)) {
        if (this.everAllocated.has(h.addr))
          throw new ExecmemError("jit_free", `handle=${h.id}`, "double free");
        throw new ExecmemError("jit_free", `handle=${h.id}`, "handle was never allocated");
      }
      const e = this.handles.get(h.id)!;
      this.begin();
      // unmap, flush, give the linear alias back, free pages and VA
      const area = e.area;
      if (area.mapped) {
        this.fx.push({ kind: "unmap", va: area.va, size: area.size });
        this.fx.push({ kind: "flush_tlb_kernel_range", start: area.va, end: area.va + area.size });
        area.mapped = false;
      }
      area.resetPerms = false;
      this.doVfree(area);
      this.handles.delete(h.id);
      this.allocs.delete(area.va);
      this.end(undefined, e.alloc);
    },
  };

  private handleOf(
    call: string,
    h: JitTextHandle,
  ): { h: JitTextHandle; area: VmArea; alloc: Allocation } {
    const e = h && this.handles.get(h.id);
    if (!e) throw new ExecmemError(call, `handle=${h?.id}`, "not a live handle");
    return e;
  }

  // ---------------------------------------------------------------- inspection

  /** Live allocation record (with its effects). */
  allocation(addr: Va): Allocation | undefined {
    return this.allocs.get(addr);
  }

  get liveAllocations(): readonly Allocation[] {
    return [...this.allocs.values()].sort((a, b) => a.addr - b.addr);
  }

  /** Protection of the page containing va (PAGE_NONE where nothing is mapped). */
  protAt(va: Va): Pgprot {
    const a = this.areaAt(va);
    if (!a) return "PAGE_NONE";
    return PROTS[a.prot[Math.floor((va - a.va) / PAGE_SIZE)]];
  }

  /** Page size of the leaf mapping va now (0 if unmapped). */
  mappingSizeAt(va: Va): number {
    const a = this.areaAt(va);
    if (!a || !a.mapped) return 0;
    if (a.pageSize === PMD_SIZE && !a.split[Math.floor((va - a.va) / PMD_SIZE)]) return PMD_SIZE;
    return PAGE_SIZE;
  }

  /** Executable text mappings now: number of 2 MiB and 4 KiB leaf entries mapping X pages. */
  textMappings(): { pmd2M: number; pte4K: number } {
    let pmd2M = 0;
    let pte4K = 0;
    for (const a of this.areas.values()) {
      if (!a.mapped) continue;
      if (a.pageSize === PMD_SIZE) {
        for (let ch = 0; ch < a.split.length; ch++) {
          if (!a.split[ch]) {
            if (X(a.prot[ch * 512])) pmd2M++;
          } else for (let i = ch * 512; i < ch * 512 + 512; i++) if (X(a.prot[i])) pte4K++;
        }
      } else for (let i = 0; i < a.prot.length; i++) if (X(a.prot[i])) pte4K++;
    }
    return { pmd2M, pte4K };
  }

  directMapStats(): DirectMapStats {
    return this.directMap.stats();
  }

  /** Free VA extents inside [start, end) (vmalloc free space, not counting cache/pack space). */
  freeExtents(start: Va, end: Va): { start: Va; end: Va }[] {
    return this.vmap.extents(start, end);
  }

  /** vmalloc free-space summary in [start, end). */
  freeSummary(start: Va, end: Va): { total: number; largest: number; count: number } {
    return this.vmap.summary(start, end);
  }

  /** Free space inside the ROX caches and BPF packs (trap-filled, mapped ROX). */
  trapFilledExtents(): { start: Va; end: Va; owner: AllocatorKind }[] {
    const out: { start: Va; end: Va; owner: AllocatorKind }[] = [];
    for (const e of this.cache.free.extents(0, 2 ** 48)) out.push({ ...e, owner: "execmem_cache" });
    for (const e of this.jitCache.free.extents(0, 2 ** 48))
      out.push({ ...e, owner: "jit_rox_cache" });
    for (const p of this.packs)
      for (const e of p.free.extents(0, this.BPF_PROG_PACK_SIZE / Execmem.BPF_PROG_CHUNK_SIZE))
        out.push({ start: p.ptr + e.start * 64, end: p.ptr + e.end * 64, owner: "bpf_prog_pack" });
    return out.sort((a, b) => a.start - b.start);
  }

  /** Address-space map of [start, end): allocated, trap-filled (mapped, unused), free, reserved (guards, image). */
  addressSpaceMap(start: Va, end: Va): MapExtent[] {
    const marks: MapExtent[] = [];
    for (const a of this.allocs.values())
      if (a.addr < end && a.addr + a.size > start)
        marks.push({ start: a.addr, end: a.addr + a.size, state: "allocated", owner: a.allocator });
    for (const t of this.trapFilledExtents())
      if (t.start < end && t.end > start)
        marks.push({ start: t.start, end: t.end, state: "trap", owner: t.owner });
    for (const f of this.vmap.extents(start, end))
      marks.push({ start: f.start, end: f.end, state: "free" });
    marks.sort((a, b) => a.start - b.start);
    const out: MapExtent[] = [];
    let cur = start;
    for (const m of marks) {
      const s = Math.max(m.start, start);
      const e = Math.min(m.end, end);
      if (s > cur) out.push({ start: cur, end: s, state: "reserved" });
      if (e > s) out.push({ ...m, start: Math.max(s, cur), end: e });
      cur = Math.max(cur, e);
    }
    if (cur < end) out.push({ start: cur, end, state: "reserved" });
    return out.filter((x) => x.end > x.start);
  }

  /** A deep, comparable copy of the whole allocator state (for tests of error atomicity). */
  snapshot(): unknown {
    const areas = [...this.areas.values()]
      .sort((a, b) => a.va - b.va)
      .map((a) => ({
        ...a,
        prot: Array.from(a.prot),
        split: Array.from(a.split),
        protCount: Array.from(a.protCount),
        pa: a.pa.slice(),
      }));
    const cacheSnap = (c: Cache): unknown => ({
      free: c.free.snapshot(),
      busy: [...c.busy.entries()].sort((a, b) => a[0] - b[0]),
      areas: [...c.areas].sort((a, b) => a - b),
    });
    return JSON.parse(
      JSON.stringify({
        vmap: this.vmap.snapshot(),
        phys: this.phys.snapshot(),
        direct: this.directMap.snapshot(),
        areas,
        allocs: [...this.allocs.values()]
          .map((a) => ({ ...a, effects: a.effects.length }))
          .sort((a, b) => a.addr - b.addr),
        ever: [...this.everAllocated].sort((a, b) => a - b),
        cache: cacheSnap(this.cache),
        jitCache: cacheSnap(this.jitCache),
        packs: this.packs.map((p) => ({ ptr: p.ptr, used: p.used, free: p.free.snapshot() })),
        handles: [...this.handles.values()].map((e) => ({ ...e.h })),
      }),
    );
  }

  /** Ranges worth drawing for this arch: the MODULE_TEXT range (and its fallback) and the BPF range. */
  ranges(): { name: string; start: Va; end: Va }[] {
    const out: { name: string; start: Va; end: Va }[] = [];
    const t = this.info.ranges.EXECMEM_MODULE_TEXT!;
    out.push({ name: "EXECMEM_MODULE_TEXT", start: t.start, end: t.end + 1 });
    if (t.fallback_start)
      out.push({
        name: "EXECMEM_MODULE_TEXT fallback",
        start: t.fallback_start,
        end: t.fallback_end + 1,
      });
    const b = this.info.ranges.EXECMEM_BPF!;
    if (b.start !== t.start || b.end !== t.end)
      out.push({ name: "EXECMEM_BPF", start: b.start, end: b.end + 1 });
    return out;
  }
}
