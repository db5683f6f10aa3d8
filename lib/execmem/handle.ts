// The thread's handle protocol (Andy Lutomirski, 2023-06-19/20): jit_text_alloc() returns an
// address that is not mapped; jit_text_write() writes through another alias; jit_text_map() does
// the architecture's maintenance (lib/arch/<name>/execmem.ts beforeMap) and installs ROX PTEs.
import { families } from "../arch";
import { PAGE_SIZE, alignUp, type Va, type WriteAlias } from "../arch/execmem";
import type { ExecmemParts } from "./parts";
import type { Allocation } from "./records";
import { ExecmemError, checkWithin } from "./types";
import { P_ROX, type VmArea } from "./vmalloc";

/** The thread's handle (Andy Lutomirski, 06-19): an address that is not mapped until jit_text_map(). */
export interface JitTextHandle {
  readonly id: number;
  readonly addr: Va;
  readonly size: number;
  readonly mapped: boolean;
}

/** Andy's proposal: jit_text_alloc() returns a handle whose address is not mapped yet. */
export class JitHandles {
  private handles = new Map<number, { h: JitTextHandle; area: VmArea; alloc: Allocation }>();
  private nextHandle = 1;

  constructor(private readonly p: ExecmemParts) {}

  /** The live handles (for snapshots). */
  live(): JitTextHandle[] {
    return [...this.handles.values()].map((e) => e.h);
  }

  jit_text_alloc = (size: number): JitTextHandle => {
    const r = this.p.rangeOf(
      "jit_text_alloc",
      this.p.layout.jitNeedsProximity ? "EXECMEM_MODULE_TEXT" : "EXECMEM_BPF",
    );
    this.p.checkSize("jit_text_alloc", size, r.end + 1 - r.start);
    const p = this.p.vm.planVmalloc(alignUp(size, PAGE_SIZE), r.alignment, r, false);
    if (!p) throw new ExecmemError("jit_text_alloc", `size=${size}`, "unable to allocate memory");
    this.p.begin();
    const area = this.p.vm.doVmalloc(p, "PAGE_KERNEL_ROX", null, false, false);
    const h: JitTextHandle = {
      id: this.nextHandle++,
      addr: area.va,
      size: area.size,
      mapped: false,
    };
    const rec = this.p.records.record(area.va, area.size, "jit_handle", null);
    this.handles.set(h.id, { h, area, alloc: rec });
    return this.p.end(h, rec);
  };
  /** jit_text_write(): write through the direct map (or a temporary mm) before the text is mapped. */
  jit_text_write = (
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
    checkWithin("jit_text_write", offset, size, e.area.size);
    this.p.begin();
    this.p.poke.writeVia(via, e.area.va + offset, size, content);
    this.p.end(undefined, e.alloc);
  };
  /**
   * jit_text_map(): optional direct-map zap (A5), per-arch maintenance before the PTE, install
   * the ROX PTEs. Synchronisation costs live in the cost model.
   */
  jit_text_map = (h: JitTextHandle, opts: { zapDirectMap?: boolean } = {}): void => {
    const e = this.handleOf("jit_text_map", h);
    if (e.h.mapped) throw new ExecmemError("jit_text_map", `handle=${h.id}`, "already mapped");
    this.p.begin();
    const area = e.area;
    const n = area.size / PAGE_SIZE;
    if (opts.zapDirectMap) {
      let lo = Infinity;
      let hi = -Infinity;
      this.p.vm.physRuns(area, 0, n, (pa, size) => {
        this.p.vm.directMap.change(pa, size, "invalid", this.p.vm.fx);
        lo = Math.min(lo, pa);
        hi = Math.max(hi, pa + size);
      });
      this.p.vm.fx.push({
        kind: "flush_tlb_kernel_range",
        start: this.p.layout.pageOffset + lo,
        end: this.p.layout.pageOffset + hi,
      });
    }
    // arm64 caches_clean_inval_pou, riscv64 flush_icache_all, none on x86 (lib/arch)
    const fn = families[this.p.layout.arch].execmem.beforeMap;
    if (fn) this.p.vm.fx.push({ kind: "cache_maintenance", fn, va: area.va, size: area.size });
    area.prot.fill(P_ROX);
    area.mapped = true;
    this.p.vm.fx.push({
      kind: "map",
      va: area.va,
      size: area.size,
      pageSize: PAGE_SIZE,
      prot: "PAGE_KERNEL_ROX",
      pa: area.pa,
    });
    (e.h as { mapped: boolean }).mapped = true;
    this.p.end(undefined, e.alloc);
  };
  jit_free = (h: JitTextHandle): void => {
    if (!this.handles.has(h.id)) {
      if (this.p.records.allocs.everHeld(h.addr))
        throw new ExecmemError("jit_free", `handle=${h.id}`, "double free");
      throw new ExecmemError("jit_free", `handle=${h.id}`, "handle was never allocated");
    }
    const e = this.handles.get(h.id)!;
    this.p.begin();
    // unmap, flush, give the linear alias back, free pages and VA
    const area = e.area;
    if (area.mapped) {
      this.p.vm.fx.push({ kind: "unmap", va: area.va, size: area.size });
      this.p.vm.fx.push({
        kind: "flush_tlb_kernel_range",
        start: area.va,
        end: area.va + area.size,
      });
      area.mapped = false;
    }
    area.resetPerms = false;
    this.p.vm.doVfree(area);
    this.handles.delete(h.id);
    this.p.records.forget(area.va);
    this.p.end(undefined, e.alloc);
  };

  private handleOf(
    call: string,
    h: JitTextHandle,
  ): { h: JitTextHandle; area: VmArea; alloc: Allocation } {
    const e = h && this.handles.get(h.id);
    if (!e) throw new ExecmemError(call, `handle=${h?.id}`, "not a live handle");
    return e;
  }
}
