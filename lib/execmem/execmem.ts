// The execmem allocators as pure address-space bookkeeping.
//   mm/execmem.c (6.15): execmem_alloc/execmem_free, execmem_vmalloc with fallback range, the ROX
//     cache (execmem_cache_alloc/populate/free/clean, execmem_make_temp_rw/execmem_restore_rox)
//   mm/vmalloc.c: __vmalloc_node_range (guard page, VM_ALLOW_HUGE_VMAP, VM_FLUSH_RESET_PERMS ->
//     vm_reset_perms on vfree)
//   arch/x86/mm/pat/set_memory.c: set_memory_{ro,x,rox,nx,rw}, CPA alias processing of the linear
//     map (RW only, never X), split of large mappings, CPA_COLLAPSE on set_memory_rox
//   kernel/bpf/core.c: bpf_prog_pack_alloc/free, alloc_new_pack
//   The seed thread (LKML 2023-06): execmem_text_alloc, jit_text_alloc, execmem_data_alloc,
//     jit_free; Mike's ROX cache with jit_update (06-25); Andy's handle protocol (06-19/06-20).
import {
  families,
  type ArchExecmem,
  type ArchLayout,
  type ArchName,
  type ArchSetupOptions,
  type WriteAlias,
} from "../arch";
import { execmemArchSetup } from "./setup";
import type { ExecmemEffect, SetMemoryOp } from "./effects";
import { DirectMap, PhysMem, type DirectMapStats, type DirectProt } from "./physmem";
import {
  EXECMEM_TYPES,
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
} from "../arch";
import { ExecmemError } from "./types";
import { VaMap } from "./vaindex";
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
  prot: number[];
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

/** A planned __vmalloc_node_range(): VA, mapped size, guard, leaf size and which range. */
interface VmallocPlan {
  va: Va;
  size: number;
  guard: number;
  pageSize: number;
  which: "primary" | "fallback";
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
  static readonly BPF_PROG_CHUNK_SIZE = 64;
  readonly cleanOnFree: boolean;
  readonly roxCacheEnabled: boolean;
  readonly jitRoxCacheRelease: boolean;

  private vmap = new VmapSpace(0, 2 ** 48);
  private phys: PhysMem;
  readonly directMap: DirectMap;
  /** vm areas by start, and their starts in address order. */
  private areas: VaMap<VmArea>;
  private areaStarts: number[] = [];
  /** Live allocations by address; it also remembers every address it ever held. */
  private allocs: VaMap<Allocation>;
  /** The allocation recorded last while it is live (a lookup shortcut for owning()). */
  private lastRecord: Allocation | null = null;
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
    this.areas = new VaMap(keyBase);
    this.allocs = new VaMap(keyBase);
    const physBytes = opts.physBytes ?? 64 * 1024 ** 3;
    this.phys = new PhysMem(physBytes);
    this.directMap = new DirectMap(this.layout.directMapInitial, physBytes);
    // The kernel image and the regions below it are not vmalloc space: reserve the image.
    const ki = this.layout.kernelImage;
    this.vmap.take(ki.start, ki.end - ki.start);
  }

  // ---------------------------------------------------------------- helpers

  /** The architecture's text patching and CPA rules (lib/arch/<name>/execmem.ts). */
  private get hooks(): ArchExecmem {
    return families[this.arch].execmem;
  }

  private begin(): void {
    this.fx = [];
  }
  private end<T>(v: T, record?: Allocation): T {
    if (record) {
      const fx = this.fx;
      const out = record.effects;
      for (let i = 0; i < fx.length; i++) out.push(fx[i]);
    }
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
    const exact = this.areas.get(addr);
    if (exact) return exact;
    const starts = this.areaStarts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (starts[m] <= addr) lo = m + 1;
      else hi = m;
    }
    if (lo === 0) return undefined;
    const a = this.areas.get(starts[lo - 1])!;
    return addr < a.va + a.size ? a : undefined;
  }

  /** Index in areaStarts of the first start > x. */
  private upperBound(x: number): number {
    const starts = this.areaStarts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (starts[m] <= x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  /**
   * Plan execmem_vmalloc() (mm/execmem.c): __vmalloc_node_range() in [start, end], then, if that
   * fails and the range has one, in [fallback_start, fallback_end]. Pure: returns the address and
   * sizes, or null.
   */
  private planVmalloc(
    size: number,
    align: number,
    r: ExecmemRange,
    huge: boolean,
  ): VmallocPlan | null {
    return (
      this.planVmallocIn(size, align, r.start, r.end + 1, huge, "primary") ??
      (r.fallback_start
        ? this.planVmallocIn(size, align, r.fallback_start, r.fallback_end + 1, huge, "fallback")
        : null)
    );
  }

  /**
   * mm/vmalloc.c __vmalloc_node_range(): with VM_ALLOW_HUGE_VMAP and size >= PMD_SIZE the area is
   * mapped with PMD leaves (shift = PMD_SHIFT, align = max(align, PMD_SIZE), size rounded up to
   * PMD_SIZE); if that fails (no VA or no order-9 pages), the "fail:" path retries once with
   * shift = PAGE_SHIFT and the caller's size and alignment. __get_vm_area_node() adds one guard
   * page unless VM_NO_GUARD; alloc_vmap_area() takes the lowest fitting address in [lo, hi).
   */
  private planVmallocIn(
    size: number,
    align: number,
    lo: Va,
    hi: Va,
    huge: boolean,
    which: "primary" | "fallback",
  ): VmallocPlan | null {
    const guard = PAGE_SIZE;
    const realSize = alignUp(size, PAGE_SIZE);
    const realAlign = Math.max(align, PAGE_SIZE);
    if (huge && realSize >= PMD_SIZE) {
      const sz = alignUp(realSize, PMD_SIZE);
      const units = sz / PMD_SIZE;
      if (this.phys.canAlloc(0, units)) {
        const va = this.vmap.find(sz + guard, Math.max(realAlign, PMD_SIZE), lo, hi);
        if (va >= 0) return { va, size: sz, guard, pageSize: PMD_SIZE, which };
      }
    }
    if (!this.phys.canAlloc(realSize / PAGE_SIZE, 0)) return null;
    const va = this.vmap.find(realSize + guard, realAlign, lo, hi);
    return va >= 0 ? { va, size: realSize, guard, pageSize: PAGE_SIZE, which } : null;
  }

  /** Commit a planned vmalloc: VA, pages, mapping. */
  private doVmalloc(
    p: VmallocPlan,
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
      // a plain array: one heap object where a typed array is three
      prot: new Array<number>(p.size / PAGE_SIZE).fill(map ? protCode(prot) : P_NONE),
      split: p.pageSize === PMD_SIZE ? new Uint8Array(units) : NO_CHUNKS8,
      protCount: p.pageSize === PMD_SIZE ? new Uint16Array(units * PROTS.length) : NO_CHUNKS16,
      mapped: map,
      resetPerms,
    };
    if (map) this.fx.push({ kind: "map", va: p.va, size: p.size, pageSize: p.pageSize, prot, pa });
    if (p.pageSize === PMD_SIZE)
      for (let ch = 0; ch < units; ch++) area.protCount[ch * PROTS.length + area.prot[0]] = 512;
    this.areas.set(p.va, area);
    this.areaStarts.splice(this.upperBound(p.va), 0, p.va);
    return area;
  }

  /** The vm area starting at va (it exists: the caller holds its allocation). */
  private areaStarting(va: Va): VmArea {
    return this.areas.get(va)!;
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

  /** directMap.change() over every maximal run of physically contiguous pages (as physRuns). */
  private directMapRuns(area: VmArea, first: number, n: number, to: DirectProt): void {
    const pas = area.pa;
    const small = area.pageSize === PAGE_SIZE;
    let runPa = -1;
    let runLen = 0;
    for (let i = first; i < first + n; i++) {
      const pa = small ? pas[i] : pas[i >> 9] + (i & 511) * PAGE_SIZE;
      if (runLen && pa === runPa + runLen * PAGE_SIZE) runLen++;
      else {
        if (runLen) this.directMap.change(runPa, runLen * PAGE_SIZE, to, this.fx);
        runPa = pa;
        runLen = 1;
      }
    }
    if (runLen) this.directMap.change(runPa, runLen * PAGE_SIZE, to, this.fx);
  }

  /**
   * mm/vmalloc.c vfree() -> remove_vm_area(): with VM_FLUSH_RESET_PERMS, vm_reset_perms()
   * (set_direct_map_invalid_noflush, _vm_unmap_aliases() flushing both aliases,
   * set_direct_map_default_noflush); unmap, free the pages and the VA (with its guard page).
   */
  private doVfree(area: VmArea): void {
    const n = area.size / PAGE_SIZE;
    if (area.resetPerms) {
      // vm_reset_perms(): linear alias invalid, one flush covering both aliases, then default.
      this.directMapRuns(area, 0, n, "invalid");
      this.fx.push({ kind: "flush_tlb_kernel_range", start: area.va, end: area.va + area.size });
    }
    this.directMapRuns(area, 0, n, "PAGE_KERNEL");
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
        // arch/x86/mm/pat/set_memory.c __should_split_large_page(): no change keeps the large
        // page; a change that does not cover it all splits it (split_large_page())
        if (!area.split[ch] && !uniform) {
          area.split[ch] = 1;
          this.fx.push({
            kind: "vmalloc_split",
            va: area.va + ch * PMD_SIZE,
            from: "2M",
            to: "4K",
          });
        } else if (area.split[ch] && uniform && op === "rox" && this.hooks.cpaCollapse) {
          // arch/x86/mm/pat/set_memory.c (6.15): set_memory_rox() passes CPA_COLLAPSE, and
          // cpa_collapse_large_pages() -> collapse_pmd_page() folds 512 present PTEs with equal
          // flags over contiguous, PMD-aligned pfns back into one PMD leaf. x86 only.
          area.split[ch] = 0;
          this.fx.push({ kind: "vmalloc_collapse", va: area.va + ch * PMD_SIZE, to: "2M" });
        }
      }
    }
    // arch/x86/mm/pat/set_memory.c: change_page_attr_set_clr() checks the alias unless the change
    // is NX alone, and cpa_process_alias() applies it to the direct map without touching NX:
    // RW/RO follows, X never.
    if (op === "ro" || op === "rox" || op === "rw") {
      const to: Pgprot = op === "rw" ? "PAGE_KERNEL" : "PAGE_KERNEL_RO";
      this.directMapRuns(area, first, numpages, to);
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
    this.lastRecord = a;
    return a;
  }

  /** Drop a freed allocation's record. */
  private forget(addr: Va): void {
    this.allocs.delete(addr);
    if (this.lastRecord && this.lastRecord.addr === addr) this.lastRecord = null;
  }

  /** A pointer argument must be an address (an integer offset), not NaN, undefined or a string. */
  private checkPointer(call: string, addr: unknown): asserts addr is Va {
    if (typeof addr !== "number" || !Number.isSafeInteger(addr) || addr < 0 || addr >= 2 ** 48)
      throw new ExecmemError(
        call,
        `addr=${typeof addr === "string" ? JSON.stringify(addr) : String(addr)}`,
        "not a pointer: pass the address an allocation returned",
      );
  }

  private describeAlloc(a: Allocation): string {
    return `${fmtVa(a.addr)} (${a.size} bytes from ${a.allocator}${a.type ? `, ${a.type}` : ""})`;
  }

  private lookupFree(call: string, addr: Va, allowed: readonly AllocatorKind[]): Allocation {
    this.checkPointer(call, addr);
    const a = this.allocs.get(addr);
    if (!a) {
      if (this.allocs.everHeld(addr))
        throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "double free");
      const inside = this.owning(addr);
      if (inside)
        throw new ExecmemError(
          call,
          `addr=${fmtVa(addr)}`,
          `points ${addr - inside.addr} bytes into the allocation at ${this.describeAlloc(inside)}; free the address the allocation returned`,
        );
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

  /**
   * The arch's text_poke-like copy (execmem_update_copy, bpf_arch_text_copy):
   * arch/x86/kernel/alternative.c text_poke_copy() (__text_poke through the poking mm, chunk by
   * chunk, no text_poke_sync()); arch/arm64/kernel/patching.c aarch64_insn_copy();
   * arch/riscv/kernel/patch.c patch_text_nosync().
   */
  private pokeCopy(va: Va, size: number, content: string, sync = false): void {
    this.fx.push({ kind: "text_poke", fn: this.hooks.textPoke.copy, va, size, content, sync });
    this.archIcacheAfterPoke(va, size);
  }

  /**
   * The arch's fill with one byte or instruction: x86 text_poke_set() (no text_poke_sync()),
   * arm64 aarch64_insn_set(), riscv patch_text_set_nosync(); used by bpf_arch_text_invalidate()
   * and the ROX cache's execmem_fill_trapping_insns(writable = false).
   */
  private pokeSet(va: Va, size: number): void {
    const fn = this.hooks.textPoke.set;
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
    const fn = this.hooks.afterPoke;
    if (fn) this.fx.push({ kind: "cache_maintenance", fn, va, size });
  }

  private trapFillVa(va: Va, size: number): void {
    this.fx.push({ kind: "trap_fill", va, size, via: "va", insn: this.layout.trapInsn });
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

  /** mm/execmem.c execmem_free(ptr): execmem_cache_free() if the cache owns ptr, else vfree(). */
  execmem_free(addr: Va): void {
    const a = this.lookupFree("execmem_free", addr, [
      "execmem_alloc",
      "execmem_cache",
      "module_alloc",
    ]);
    this.begin();
    if (a.allocator === "execmem_cache") this.cacheFree(this.cache, a, true);
    else this.doVfree(this.areaStarting(addr));
    this.forget(addr);
    this.end(undefined, a);
  }

  /**
   * mm/execmem.c execmem_make_temp_rw() (6.15): set_memory_nx(), then set_memory_rw() over
   * PAGE_ALIGN(size) >> PAGE_SHIFT pages (the module loader's temporary RW window).
   */
  execmem_make_temp_rw(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_make_temp_rw", addr, size);
    const a = this.allocs.get(addr)!;
    this.begin();
    const n = alignUp(size, PAGE_SIZE) / PAGE_SIZE;
    this.cpa("set_memory_nx", "nx", addr, n);
    this.cpa("set_memory_rw", "rw", addr, n);
    this.end(undefined, a);
  }

  /** mm/execmem.c execmem_restore_rox() (6.15): set_memory_rox() over the same pages. */
  execmem_restore_rox(addr: Va, size: number): void {
    this.checkCacheSpan("execmem_restore_rox", addr, size);
    const a = this.allocs.get(addr)!;
    this.begin();
    this.cpa("set_memory_rox", "rox", addr, alignUp(size, PAGE_SIZE) / PAGE_SIZE);
    this.end(undefined, a);
  }

  private checkCacheSpan(call: string, addr: Va, size: number): void {
    this.checkPointer(call, addr);
    const a = this.allocs.get(addr);
    if (!a || a.allocator !== "execmem_cache")
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "not an allocation from the ROX cache");
    if (!Number.isInteger(size) || size <= 0 || size > a.size)
      throw new ExecmemError(call, `size=${size}`, `must be in 1..${a.size}`);
  }

  /** mm/execmem.c execmem_update_copy() = text_poke_copy() (writes through the poking alias). */
  execmem_update_copy(addr: Va, size: number, content: string): void {
    const a = this.checkText("execmem_update_copy", addr, size);
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
    this.checkPointer(call, addr);
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
        `not executable memory: it is in the allocation at ${this.describeAlloc(a)}`,
      );
    return a;
  }

  /** The live allocation containing addr. */
  owning(addr: Va): Allocation | undefined {
    // the loader's alloc -> write -> set_memory_rox sequence asks for the same record thrice
    const last = this.lastRecord;
    if (last && last.addr === addr) return last;
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
    this.checkPointer(call, addr);
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
    this.doVfree(this.areaStarting(addr));
    this.forget(addr);
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
   * mm/execmem.c execmem_cache_alloc() = __execmem_cache_alloc(), and on a miss
   * execmem_cache_populate() then __execmem_cache_alloc() again. The thread's form (A8) grows the
   * same way.
   */
  private cacheAlloc(c: Cache, call: string, r: ExecmemRange, size: number): Va {
    let addr = this.cacheFirstFit(c, r, size);
    if (addr < 0) {
      // execmem_cache_populate(): alloc_size = round_up(size, PMD_SIZE); execmem_vmalloc() with
      // VM_ALLOW_HUGE_VMAP forces align = PMD_SIZE and maps PAGE_KERNEL, no VM_FLUSH_RESET_PERMS;
      // primary range, then the fallback range. (6.15 has no second try with alloc_size = size.)
      const allocSize = alignUp(size, PMD_SIZE);
      const p = this.planVmalloc(allocSize, PMD_SIZE, r, true);
      if (!p)
        throw new ExecmemError(
          call,
          `size=${size}`,
          "unable to allocate memory (ROX cache cannot grow)",
        );
      const area = this.doVmalloc(p, "PAGE_KERNEL", null, false);
      // execmem_cache_populate(): execmem_fill_trapping_insns(p, alloc_size, writable = true)
      // while the area is still RW (x86 arch/x86/mm/init.c: memset with INT3), then
      // set_memory_rox(p, vm->nr_pages). The thread (Mike, 06-25): a new large page is
      // "invalidated" by filling it with breakpoint instructions.
      this.trapFillVa(area.va, area.size);
      this.cpa("set_memory_rox", "rox", area.va, area.size / PAGE_SIZE);
      // execmem_cache_add(): into free_areas, merged with the free neighbours
      c.free.release(area.va, area.size);
      c.areas.add(area.va);
      addr = this.cacheFirstFit(c, r, size);
    }
    // __execmem_cache_alloc(): [addr, addr + size) to busy_areas, the rest of the free area stays
    c.free.take(addr, size);
    c.busy.set(addr, size);
    return addr;
  }

  /**
   * mm/execmem.c __execmem_cache_alloc(): mas_for_each() over free_areas in address order; the
   * first area at least `size` long whose start passes within_range() is used from its start.
   * within_range(): addr >= start && addr + size < end, or the same in the fallback range (the
   * kernel's end is this model's end + 1). One cache serves every type with EXECMEM_ROX_CACHE.
   */
  private cacheFirstFit(c: Cache, r: ExecmemRange, size: number): Va {
    return c.free.firstFit(
      size,
      (a) =>
        (a >= r.start && a + size < r.end + 1) ||
        (r.fallback_start !== 0 && a >= r.fallback_start && a + size < r.fallback_end + 1),
    );
  }

  /**
   * mm/execmem.c execmem_cache_free() (6.15): drop the busy entry, execmem_fill_trapping_insns(ptr,
   * size, writable = false) (x86: text_poke_set() with INT3, the mapping stays ROX),
   * execmem_cache_add() (merge with free neighbours), schedule_work(execmem_cache_clean_work).
   * The thread's form (Mike, 06-25) invalidates the same way and keeps its pages unless
   * jitRoxCacheRelease.
   */
  private cacheFree(c: Cache, a: Allocation, upstream: boolean): void {
    this.pokeSet(a.addr, a.size);
    c.busy.delete(a.addr);
    c.free.release(a.addr, a.size);
    if (upstream ? this.cleanOnFree : this.jitRoxCacheRelease) this.cacheClean(c);
  }

  /**
   * A free extent the clean worker would hand to vfree() although it is only part of its cache vm
   * area: vfree() (mm/vmalloc.c remove_vm_area -> find_unlink_vmap_area) frees the whole area
   * containing the address, busy parts included. The model records it and keeps the area.
   */
  readonly roxCacheCleanHazards: { start: Va; end: Va; area: { start: Va; end: Va } }[] = [];

  /**
   * mm/execmem.c execmem_cache_clean(): every free area whose start and size are PMD_SIZE-aligned
   * is taken out of free_areas, its direct map made valid again (execmem_set_direct_map_valid)
   * and vfree()d. Cache areas are PMD-aligned multiples of PMD_SIZE with a guard page after
   * them, so a free extent never spans two areas; one that is a whole area is released.
   */
  private cacheClean(c: Cache): void {
    for (const ext of c.free.extents(0, 2 ** 48)) {
      if (ext.start % PMD_SIZE !== 0 || (ext.end - ext.start) % PMD_SIZE !== 0) continue;
      const area = this.areaAt(ext.start);
      if (!area || !c.areas.has(area.va)) continue;
      if (ext.start !== area.va || ext.end !== area.va + area.size) {
        this.roxCacheCleanHazards.push({
          start: ext.start,
          end: ext.end,
          area: { start: area.va, end: area.va + area.size },
        });
        continue;
      }
      c.free.take(area.va, area.size);
      c.areas.delete(area.va);
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
      this.forget(addr);
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
      // kernel/bpf/core.c bpf_prog_pack_alloc(): size > BPF_PROG_PACK_SIZE gets its own
      // bpf_jit_alloc_exec(round_up(size, PAGE_SIZE)) = execmem_alloc(EXECMEM_BPF), then
      // bpf_fill_ill_insns(), set_vm_flush_reset_perms(), set_memory_rox()
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
    // BPF_PROG_SIZE_TO_NBITS(); list_for_each_entry(pack_list) in creation order, each searched
    // with bitmap_find_next_zero_area(bitmap, BPF_PROG_CHUNK_COUNT, 0, nbits, 0): lowest position
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
    // kernel/bpf/core.c alloc_new_pack(): bpf_jit_alloc_exec(BPF_PROG_PACK_SIZE) =
    // execmem_alloc(EXECMEM_BPF) (no VM_ALLOW_HUGE_VMAP: 4 KiB pages), bpf_fill_ill_insns() while
    // still RW, set_vm_flush_reset_perms(), set_memory_rox(); list_add_tail(); the program at pos 0
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
    const a = this.checkText("bpf_arch_text_copy", addr, size);
    this.begin();
    this.fx.push({ kind: "bpf_arch_text_copy", va: addr, size, content });
    this.pokeCopy(addr, size, content);
    this.end(undefined, a);
  }

  /**
   * kernel/bpf/core.c bpf_prog_pack_free(ptr, size): an own allocation is bpf_jit_free_exec()ed
   * (vfree with vm_reset_perms); otherwise bpf_arch_text_invalidate(ptr, size) (x86 text_poke_set
   * with 0xcc), bitmap_clear(), and a pack whose bitmap is all clear is list_del()ed and
   * bpf_jit_free_exec()ed at once.
   */
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
      this.doVfree(this.areaStarting(addr));
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
        this.doVfree(this.areaStarting(pack.ptr));
      }
    }
    this.forget(addr);
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
      // arm64 caches_clean_inval_pou, riscv64 flush_icache_all, none on x86 (lib/arch)
      const fn = this.hooks.beforeMap;
      if (fn) this.fx.push({ kind: "cache_maintenance", fn, va: area.va, size: area.size });
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
        if (this.allocs.everHeld(h.addr))
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
      this.forget(area.va);
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
    const areas = this.areas
      .values()
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
        ever: this.allocs.addresses().sort((a, b) => a - b),
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
