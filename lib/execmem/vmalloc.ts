// mm/vmalloc.c and the page-attribute changes on it, as the execmem allocators use them: the
// vmalloc address space, the pages behind each area, their mappings and the linear map.
//   mm/vmalloc.c: __vmalloc_node_range (guard page, VM_ALLOW_HUGE_VMAP, VM_FLUSH_RESET_PERMS ->
//     vm_reset_perms on vfree)
//   arch/x86/mm/pat/set_memory.c: set_memory_{ro,x,rox,nx,rw}, CPA alias processing of the linear
//     map (RW only, never X), split of large mappings, CPA_COLLAPSE on set_memory_rox
import {
  PAGE_SIZE,
  PMD_SIZE,
  alignUp,
  fmtVa,
  type ExecmemRange,
  type ExecmemType,
  type Pgprot,
  type Va,
} from "../arch/execmem";
import type { ExecmemEffect, SetMemoryOp } from "./effects";
import { DirectMap, PhysMem, type DirectProt } from "./physmem";
import { ExecmemError } from "./types";
import { VaMap } from "./vaindex";
import { VmapSpace } from "./vmap";

export const PROTS: readonly Pgprot[] = [
  "PAGE_NONE",
  "PAGE_KERNEL",
  "PAGE_KERNEL_RO",
  "PAGE_KERNEL_ROX",
  "PAGE_KERNEL_EXEC",
];
const P_NONE = 0;
const P_RW = 1;
const P_RO = 2;
export const P_ROX = 3;
const P_RWX = 4;
const protCode = (p: Pgprot): number => PROTS.indexOf(p);
const NO_CHUNKS8 = new Uint8Array(0);
const NO_CHUNKS16 = new Uint16Array(0);
export const W = (c: number): boolean => c === P_RW || c === P_RWX;
export const X = (c: number): boolean => c === P_ROX || c === P_RWX;
const code = (r: boolean, w: boolean, x: boolean): number =>
  !r ? P_NONE : w ? (x ? P_RWX : P_RW) : x ? P_ROX : P_RO;

/** A vmalloc area (struct vm_struct) as the model keeps it. */
export interface VmArea {
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

/** A planned __vmalloc_node_range(): VA, mapped size, guard, leaf size and which range. */
export interface VmallocPlan {
  va: Va;
  size: number;
  guard: number;
  pageSize: number;
  which: "primary" | "fallback";
}

/**
 * The vmalloc space of one machine: free VA, physical pages, the linear map and the vm areas,
 * with the effects of the call in progress (fx).
 */
export class Vmalloc {
  /** Effects of the call in progress, in order. */
  fx: ExecmemEffect[] = [];
  readonly vmap = new VmapSpace(0, 2 ** 48);
  readonly phys: PhysMem;
  readonly directMap: DirectMap;
  /** vm areas by start, and their starts in address order. */
  readonly areas: VaMap<VmArea>;
  private areaStarts: number[] = [];

  constructor(
    keyBase: Va,
    physBytes: number,
    directMapInitial: "1G" | "2M" | "4K",
    /** set_memory_rox() folds uniform PTEs back into a PMD (the architecture's CPA_COLLAPSE). */
    private readonly cpaCollapse: boolean,
  ) {
    this.areas = new VaMap(keyBase);
    this.phys = new PhysMem(physBytes);
    this.directMap = new DirectMap(directMapInitial, physBytes);
  }

  areaAt(addr: Va): VmArea | undefined {
    const exact = this.areas.get(addr);
    if (exact) return exact;
    const lo = this.upperBound(addr);
    if (lo === 0) return undefined;
    const a = this.areas.get(this.areaStarts[lo - 1])!;
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
  planVmalloc(size: number, align: number, r: ExecmemRange, huge: boolean): VmallocPlan | null {
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
  doVmalloc(
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
  areaStarting(va: Va): VmArea {
    return this.areas.get(va)!;
  }

  private paOf(area: VmArea, pageIdx: number): number {
    if (area.pageSize === PAGE_SIZE) return area.pa[pageIdx];
    return area.pa[Math.floor(pageIdx / 512)] + (pageIdx % 512) * PAGE_SIZE;
  }

  /** For every maximal run of physically contiguous pages of area[first, first+n). */
  physRuns(area: VmArea, first: number, n: number, f: (pa: number, size: number) => void): void {
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
  doVfree(area: VmArea): void {
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
  cpa(call: string, op: SetMemoryOp, addr: Va, numpages: number): void {
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
        } else if (area.split[ch] && uniform && op === "rox" && this.cpaCollapse) {
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

  /** Free VA extents inside [start, end) (vmalloc free space, not counting cache/pack space). */
  freeExtents(start: Va, end: Va): { start: Va; end: Va }[] {
    return this.vmap.extents(start, end);
  }

  /** vmalloc free-space summary in [start, end). */
  freeSummary(start: Va, end: Va): { total: number; largest: number; count: number } {
    return this.vmap.summary(start, end);
  }
}
