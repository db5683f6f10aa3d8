// The ROX caches: mm/execmem.c (6.15) execmem_cache_alloc/populate/free/clean, and the thread's
// form (Mike Rapoport, 2023-06-25) that keeps its large pages. Free space is trap-filled and
// mapped ROX; a cache grows by 2 MiB areas.
import { PAGE_SIZE, PMD_SIZE, alignUp, fmtVa, type ExecmemRange, type Va } from "../arch/execmem";
import type { ExecmemParts } from "./parts";
import type { Allocation } from "./records";
import type { TextPoke } from "./text-poke";
import { ExecmemError, checkWithin } from "./types";
import type { Vmalloc } from "./vmalloc";
import { VmapSpace } from "./vmap";

/**
 * A free extent the clean worker would hand to vfree() although it is only part of its cache vm
 * area: vfree() (mm/vmalloc.c remove_vm_area -> find_unlink_vmap_area) frees the whole area
 * containing the address, busy parts included. The model records it and keeps the area.
 */
export interface CleanHazard {
  start: Va;
  end: Va;
  area: { start: Va; end: Va };
}

/** One ROX cache: its free areas (trap-filled), the busy ones, and the vm areas it populated. */
export class RoxCache {
  readonly free = new VmapSpace();
  readonly busy = new Map<Va, number>();
  /** vm areas (start) populated for this cache. */
  readonly areas = new Set<Va>();

  constructor(
    private readonly vm: Vmalloc,
    private readonly poke: TextPoke,
    /** Where the clean worker records the extents it cannot release (shared by the caches). */
    private readonly hazards: CleanHazard[],
    /** Run the clean worker after each free (upstream: cleanOnFree; the thread's: release). */
    private readonly cleanOnFree: boolean,
  ) {}

  /**
   * mm/execmem.c execmem_cache_alloc() = __execmem_cache_alloc(), and on a miss
   * execmem_cache_populate() then __execmem_cache_alloc() again. The thread's form (A8) grows the
   * same way.
   */
  alloc(call: string, r: ExecmemRange, size: number): Va {
    let addr = this.firstFit(r, size);
    if (addr < 0) {
      // execmem_cache_populate(): alloc_size = round_up(size, PMD_SIZE); execmem_vmalloc() with
      // VM_ALLOW_HUGE_VMAP forces align = PMD_SIZE and maps PAGE_KERNEL, no VM_FLUSH_RESET_PERMS;
      // primary range, then the fallback range. (6.15 has no second try with alloc_size = size.)
      const allocSize = alignUp(size, PMD_SIZE);
      const p = this.vm.planVmalloc(allocSize, PMD_SIZE, r, true);
      if (!p)
        throw new ExecmemError(
          call,
          `size=${size}`,
          "unable to allocate memory (ROX cache cannot grow)",
        );
      const area = this.vm.doVmalloc(p, "PAGE_KERNEL", null, false);
      // execmem_cache_populate(): execmem_fill_trapping_insns(p, alloc_size, writable = true)
      // while the area is still RW (x86 arch/x86/mm/init.c: memset with INT3), then
      // set_memory_rox(p, vm->nr_pages). The thread (Mike, 06-25): a new large page is
      // "invalidated" by filling it with breakpoint instructions.
      this.poke.trapFillVa(area.va, area.size);
      this.vm.cpa("set_memory_rox", "rox", area.va, area.size / PAGE_SIZE);
      // execmem_cache_add(): into free_areas, merged with the free neighbours
      this.free.release(area.va, area.size);
      this.areas.add(area.va);
      addr = this.firstFit(r, size);
    }
    // __execmem_cache_alloc(): [addr, addr + size) to busy_areas, the rest of the free area stays
    this.free.take(addr, size);
    this.busy.set(addr, size);
    return addr;
  }

  /**
   * mm/execmem.c __execmem_cache_alloc(): mas_for_each() over free_areas in address order; the
   * first area at least `size` long whose start passes within_range() is used from its start.
   * within_range(): addr >= start && addr + size < end, or the same in the fallback range (the
   * kernel's end is this model's end + 1). One cache serves every type with EXECMEM_ROX_CACHE.
   */
  private firstFit(r: ExecmemRange, size: number): Va {
    return this.free.firstFit(
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
  release(a: Allocation): void {
    this.poke.set(a.addr, a.size);
    this.busy.delete(a.addr);
    this.free.release(a.addr, a.size);
    if (this.cleanOnFree) this.clean();
  }

  /**
   * mm/execmem.c execmem_cache_clean(): every free area whose start and size are PMD_SIZE-aligned
   * is taken out of free_areas, its direct map made valid again (execmem_set_direct_map_valid)
   * and vfree()d. Cache areas are PMD-aligned multiples of PMD_SIZE with a guard page after
   * them, so a free extent never spans two areas; one that is a whole area is released.
   */
  clean(): void {
    for (const ext of this.free.extents(0, 2 ** 48)) {
      if (ext.start % PMD_SIZE !== 0 || (ext.end - ext.start) % PMD_SIZE !== 0) continue;
      const area = this.vm.areaAt(ext.start);
      if (!area || !this.areas.has(area.va)) continue;
      if (ext.start !== area.va || ext.end !== area.va + area.size) {
        this.hazards.push({
          start: ext.start,
          end: ext.end,
          area: { start: area.va, end: area.va + area.size },
        });
        continue;
      }
      this.free.take(area.va, area.size);
      this.areas.delete(area.va);
      this.vm.doVfree(area);
    }
  }
}

/** The thread's ROX cache (A8): jit_text_alloc from large ROX pages, jit_update via text poking. */
export class JitRoxCache {
  constructor(
    private readonly p: ExecmemParts,
    private readonly cache: RoxCache,
  ) {}

  jit_text_alloc = (size: number): Va => {
    const r = this.p.rangeOf(
      "jit_text_alloc",
      this.p.layout.jitNeedsProximity ? "EXECMEM_MODULE_TEXT" : "EXECMEM_BPF",
    );
    this.p.checkSize("jit_text_alloc", size, r.end + 1 - r.start);
    this.p.begin();
    const sz = alignUp(size, PAGE_SIZE);
    const addr = this.cache.alloc("jit_text_alloc", r, sz);
    return this.p.end(addr, this.p.records.record(addr, sz, "jit_rox_cache", null));
  };
  /** jit_update(): write through text poking (the mapping stays ROX). */
  jit_update = (addr: Va, offset: number, size: number, content: string): void => {
    const a = this.p.records.allocs.get(addr);
    if (!a || a.allocator !== "jit_rox_cache")
      throw new ExecmemError(
        "jit_update",
        `addr=${fmtVa(addr)}`,
        "not an allocation of the JIT ROX cache",
      );
    checkWithin("jit_update", offset, size, a.size);
    this.p.begin();
    this.p.poke.copy(addr + offset, size, content);
    this.p.end(undefined, a);
  };
  jit_free = (addr: Va): void => {
    const a = this.p.records.lookupFree("jit_free", addr, ["jit_rox_cache"]);
    this.p.begin();
    this.cache.release(a);
    this.p.records.forget(addr);
    this.p.end(undefined, a);
  };
}
