// The operations an allocator performed, in order, as plain data. Each names the kernel
// function or mechanism it stands for; sizes are bytes, addresses are Va offsets (lib/arch/execmem.ts),
// physical addresses are byte addresses from 0.
import type {
  CacheMaintenanceFn,
  ExecmemType,
  Pgprot,
  TextPokeFn,
  TrapInsn,
  Va,
  WriteAlias,
} from "../arch/execmem";

export type SetMemoryOp = "ro" | "x" | "rox" | "nx" | "rw";

export type ExecmemEffect =
  /** alloc_vmap_area(): VA [va, va+size) reserved (size includes the guard page). */
  | {
      kind: "vmap_area_alloc";
      va: Va;
      size: number;
      guard: number;
      range: "primary" | "fallback";
      type: ExecmemType | null;
    }
  /** free_vmap_area(): VA released. */
  | { kind: "vmap_area_free"; va: Va; size: number }
  /** Physical pages taken from / returned to the page allocator (order 0 or 9). */
  | { kind: "alloc_pages"; order: number; pa: readonly number[] }
  | { kind: "free_pages"; order: number; pa: readonly number[] }
  /** vmap_pages_range(): PTEs (pageSize 4096) or PMD leaf entries (pageSize 2 MiB) installed. */
  | { kind: "map"; va: Va; size: number; pageSize: number; prot: Pgprot; pa: readonly number[] }
  /** vunmap_range(): entries cleared. */
  | { kind: "unmap"; va: Va; size: number }
  /** A data write of text (a version label) to the page mapped at va, through an alias. */
  | { kind: "write"; va: Va; size: number; via: WriteAlias; content: string }
  /** Fill with trap instructions (execmem_fill_trapping_insns / bpf_fill_ill_insns / text_poke_set). */
  | { kind: "trap_fill"; va: Va; size: number; via: WriteAlias; insn: TrapInsn }
  /** set_memory_{ro,x,rox,nx,rw}() on the VA alias; prot is the resulting protection. */
  | { kind: "set_memory"; op: SetMemoryOp; va: Va; numpages: number; prot: Pgprot }
  /** A change of the linear-map alias of physical pages (CPA alias processing, set_direct_map_*). */
  | { kind: "direct_map_change"; pa: number; size: number; prot: Pgprot | "invalid" }
  /** A direct-map large page split: 1 GiB -> 2 MiB or 2 MiB -> 4 KiB (arch/x86/mm/pat/set_memory.c split_large_page). */
  | { kind: "direct_map_split"; pa: number; from: "1G" | "2M"; to: "2M" | "4K" }
  /** A 2 MiB vmalloc (PMD) mapping split into 4 KiB PTEs by a partial permission change. */
  | { kind: "vmalloc_split"; va: Va; from: "2M"; to: "4K" }
  /** x86 CPA_COLLAPSE (set_memory_rox, 6.15): 512 uniform PTEs folded back into one PMD. */
  | { kind: "vmalloc_collapse"; va: Va; to: "2M" }
  /** flush_tlb_kernel_range(start, end) (IPI to every CPU on x86; TLBI broadcast on arm64; SBI/IPI on riscv). */
  | { kind: "flush_tlb_kernel_range"; start: Va; end: Va }
  /** Text patching through the kernel's poking API. sync = a text_poke_sync()-like cross-CPU serialisation follows. */
  | {
      kind: "text_poke";
      fn: TextPokeFn;
      va: Va;
      size: number;
      content: string;
      sync: boolean;
    }
  /** Named cache maintenance the kernel performs (not modelled here; the machine model does). */
  | {
      kind: "cache_maintenance";
      fn: CacheMaintenanceFn;
      va: Va;
      size: number;
    }
  /** Named BPF operations (kernel/bpf/core.c): the arch hooks that copy / invalidate program text. */
  | { kind: "bpf_arch_text_copy"; va: Va; size: number; content: string }
  | { kind: "bpf_arch_text_invalidate"; va: Va; size: number };

export type ExecmemEffectKind = ExecmemEffect["kind"];
