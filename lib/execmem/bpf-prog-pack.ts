// kernel/bpf/core.c: bpf_prog_pack_alloc/free, alloc_new_pack. Programs share 2 MiB packs
// (one per NUMA node's worth), one bitmap bit per 64-byte chunk; free chunks hold the
// architecture's illegal-instruction fill.
import { PAGE_SIZE, alignUp, type ExecmemRange, type Va } from "../arch/execmem";
import type { ExecmemParts } from "./parts";
import { ExecmemError } from "./types";
import { VmapSpace } from "./vmap";

/** kernel/bpf/core.c: BPF_PROG_CHUNK_SHIFT 6, one bitmap bit per chunk. */
export const BPF_PROG_CHUNK_SIZE = 64;

interface Pack {
  ptr: Va;
  free: VmapSpace; // free chunk indices, first fit == bitmap_find_next_zero_area(.., align_mask 0)
  used: number;
}

/** The packs of one machine, in creation order (pack_list). */
export class BpfProgPack {
  readonly packs: Pack[] = [];

  constructor(
    private readonly p: ExecmemParts,
    /** BPF_PROG_PACK_SIZE = PMD_SIZE * num_possible_nodes(). */
    private readonly BPF_PROG_PACK_SIZE: number,
  ) {}

  /** Chunks per pack (BPF_PROG_CHUNK_COUNT). */
  get chunks(): number {
    return this.BPF_PROG_PACK_SIZE / BPF_PROG_CHUNK_SIZE;
  }

  /** bpf_prog_pack_alloc(size, bpf_fill_ill_insns). */
  alloc(size: number): Va {
    const r = this.p.rangeOf("bpf_prog_pack_alloc", "EXECMEM_BPF");
    this.p.checkSize("bpf_prog_pack_alloc", size, r.end + 1 - r.start);
    const CH = BPF_PROG_CHUNK_SIZE;
    const chunks = this.BPF_PROG_PACK_SIZE / CH;
    if (size > this.BPF_PROG_PACK_SIZE) {
      // kernel/bpf/core.c bpf_prog_pack_alloc(): size > BPF_PROG_PACK_SIZE gets its own
      // bpf_jit_alloc_exec(round_up(size, PAGE_SIZE)) = execmem_alloc(EXECMEM_BPF), then
      // bpf_fill_ill_insns(), set_vm_flush_reset_perms(), set_memory_rox()
      const sz = alignUp(size, PAGE_SIZE);
      const va = this.allocExecRox(r, sz, size, "memory");
      return this.p.end(va, this.p.records.record(va, sz, "bpf_prog_pack_own", "EXECMEM_BPF"));
    }
    // BPF_PROG_SIZE_TO_NBITS(); list_for_each_entry(pack_list) in creation order, each searched
    // with bitmap_find_next_zero_area(bitmap, BPF_PROG_CHUNK_COUNT, 0, nbits, 0): lowest position
    const nbits = Math.ceil(size / CH);
    for (const pack of this.packs) {
      const pos = pack.free.find(nbits, 1, 0, chunks);
      if (pos >= 0) {
        this.p.begin();
        pack.free.take(pos, nbits);
        pack.used += nbits;
        const addr = pack.ptr + pos * CH;
        return this.p.end(
          addr,
          this.p.records.record(addr, nbits * CH, "bpf_prog_pack", "EXECMEM_BPF"),
        );
      }
    }
    // kernel/bpf/core.c alloc_new_pack(): bpf_jit_alloc_exec(BPF_PROG_PACK_SIZE) =
    // execmem_alloc(EXECMEM_BPF) (no VM_ALLOW_HUGE_VMAP: 4 KiB pages), bpf_fill_ill_insns() while
    // still RW, set_vm_flush_reset_perms(), set_memory_rox(); list_add_tail(); the program at pos 0
    const va = this.allocExecRox(r, this.BPF_PROG_PACK_SIZE, size, "a new pack");
    const pack: Pack = { ptr: va, free: new VmapSpace(0, chunks), used: 0 };
    this.packs.push(pack);
    pack.free.take(0, nbits);
    pack.used = nbits;
    return this.p.end(va, this.p.records.record(va, nbits * CH, "bpf_prog_pack", "EXECMEM_BPF"));
  }

  /**
   * kernel/bpf/core.c bpf_jit_alloc_exec(sz) = execmem_alloc(EXECMEM_BPF) (4 KiB pages), then
   * bpf_fill_ill_insns() while still RW and set_memory_rox(); opens the allocation's effects.
   */
  private allocExecRox(r: ExecmemRange, sz: number, size: number, what: string): Va {
    const p = this.p.vm.planVmalloc(sz, r.alignment, r, false);
    if (!p)
      throw new ExecmemError(
        "bpf_prog_pack_alloc",
        `size=${size}`,
        `unable to allocate ${what} in the EXECMEM_BPF range`,
      );
    this.p.begin();
    const area = this.p.vm.doVmalloc(p, r.pgprot, "EXECMEM_BPF", true);
    this.p.poke.trapFillVa(area.va, sz);
    this.p.vm.cpa("set_memory_rox", "rox", area.va, sz / PAGE_SIZE);
    return area.va;
  }

  /**
   * kernel/bpf/core.c bpf_prog_pack_free(ptr, size): an own allocation is bpf_jit_free_exec()ed
   * (vfree with vm_reset_perms); otherwise bpf_arch_text_invalidate(ptr, size) (x86 text_poke_set
   * with 0xcc), bitmap_clear(), and a pack whose bitmap is all clear is list_del()ed and
   * bpf_jit_free_exec()ed at once.
   */
  free(addr: Va, size?: number): void {
    const a = this.p.records.lookupFree("bpf_prog_pack_free", addr, [
      "bpf_prog_pack",
      "bpf_prog_pack_own",
    ]);
    if (
      size !== undefined &&
      alignUp(size, a.allocator === "bpf_prog_pack" ? BPF_PROG_CHUNK_SIZE : PAGE_SIZE) !== a.size
    )
      throw new ExecmemError(
        "bpf_prog_pack_free",
        `size=${size}`,
        `does not match the allocated size ${a.size}`,
      );
    this.p.begin();
    if (a.allocator === "bpf_prog_pack_own") {
      this.p.vm.doVfree(this.p.vm.areaStarting(addr));
    } else {
      const pack = this.packs.find((p) => addr >= p.ptr && addr < p.ptr + this.BPF_PROG_PACK_SIZE)!;
      this.p.vm.fx.push({ kind: "bpf_arch_text_invalidate", va: addr, size: a.size });
      this.p.poke.set(addr, a.size);
      const pos = (addr - pack.ptr) / BPF_PROG_CHUNK_SIZE;
      const nbits = a.size / BPF_PROG_CHUNK_SIZE;
      pack.free.release(pos, nbits);
      pack.used -= nbits;
      if (pack.used === 0) {
        this.packs.splice(this.packs.indexOf(pack), 1);
        this.p.vm.doVfree(this.p.vm.areaStarting(pack.ptr));
      }
    }
    this.p.records.forget(addr);
    this.p.end(undefined, a);
  }

  /** The bitmap of a pack (1 = chunk in use), as kernel/bpf/core.c keeps it. */
  bitmap(index: number): Uint8Array {
    const pack = this.packs[index];
    if (!pack)
      throw new ExecmemError("bpfPackBitmap", `index=${index}`, `only ${this.packs.length} packs`);
    const chunks = this.BPF_PROG_PACK_SIZE / BPF_PROG_CHUNK_SIZE;
    const bm = new Uint8Array(chunks).fill(1);
    for (const e of pack.free.extents(0, chunks)) bm.fill(0, e.start, e.end);
    return bm;
  }

  list(): readonly { ptr: Va; usedChunks: number }[] {
    return this.packs.map((p) => ({ ptr: p.ptr, usedChunks: p.used }));
  }
}
