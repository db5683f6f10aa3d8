// The vocabulary of the execmem model in the kernel's words (include/linux/execmem.h, 6.10
// onwards), which each architecture's execmem_arch_setup() table (lib/arch/<name>/execmem.ts)
// fills in; the allocators over it are in lib/execmem (mm/execmem.c, mm/vmalloc.c).
import type { ArchName } from "./types";

/** enum execmem_type (include/linux/execmem.h). EXECMEM_DEFAULT == EXECMEM_MODULE_TEXT. */
export type ExecmemType =
  | "EXECMEM_MODULE_TEXT"
  | "EXECMEM_KPROBES"
  | "EXECMEM_FTRACE"
  | "EXECMEM_BPF"
  | "EXECMEM_MODULE_DATA";
export const EXECMEM_DEFAULT: ExecmemType = "EXECMEM_MODULE_TEXT";
export const EXECMEM_TYPES: readonly ExecmemType[] = [
  "EXECMEM_MODULE_TEXT",
  "EXECMEM_KPROBES",
  "EXECMEM_FTRACE",
  "EXECMEM_BPF",
  "EXECMEM_MODULE_DATA",
];

/** enum execmem_range_flags. */
export type ExecmemRangeFlag = "EXECMEM_KASAN_SHADOW" | "EXECMEM_ROX_CACHE";

/** Page protections used by the ranges and set_memory_*(). */
export type Pgprot =
  "PAGE_KERNEL" | "PAGE_KERNEL_RO" | "PAGE_KERNEL_ROX" | "PAGE_KERNEL_EXEC" | "PAGE_NONE";

export const PGPROT_BITS: Readonly<Record<Pgprot, { r: boolean; w: boolean; x: boolean }>> = {
  PAGE_KERNEL: { r: true, w: true, x: false },
  PAGE_KERNEL_RO: { r: true, w: false, x: false },
  PAGE_KERNEL_ROX: { r: true, w: false, x: true },
  PAGE_KERNEL_EXEC: { r: true, w: true, x: true },
  PAGE_NONE: { r: false, w: false, x: false },
};

/** The kernel pgprot for read/write/execute permissions (PAGE_NONE when not readable). */
export function pgprotOf(r: boolean, w: boolean, x: boolean): Pgprot {
  if (!r) return "PAGE_NONE";
  if (w) return x ? "PAGE_KERNEL_EXEC" : "PAGE_KERNEL";
  return x ? "PAGE_KERNEL_ROX" : "PAGE_KERNEL_RO";
}

/**
 * Kernel virtual addresses are plain numbers: the offset from KVA_BASE = 0xffff000000000000.
 * Every kernel address of the three modelled layouts lies above it, and offsets stay below
 * 2^48, so arithmetic on them is exact.
 */
export type Va = number;
export const KVA_BASE = 0xffff_0000_0000_0000n;
/** The full 64-bit kernel address of a Va. */
export function kva(va: Va): bigint {
  return KVA_BASE + BigInt(va);
}
/** Va of a full 64-bit kernel address. */
export function vaOf(addr: bigint): Va {
  const off = addr - KVA_BASE;
  if (off < 0n || off >= 1n << 48n)
    throw new RangeError(`address 0x${addr.toString(16)} is not a kernel address`);
  return Number(off);
}
/** A kernel virtual address ({@link Va} offset) as the kernel prints it: `0xffff...`, hex. */
export function fmtVa(va: Va): string {
  return "0x" + kva(va).toString(16);
}

/** struct execmem_range; end is inclusive as in the kernel. fallback_start == 0 means none. */
export interface ExecmemRange {
  start: Va;
  end: Va;
  fallback_start: Va;
  fallback_end: Va;
  pgprot: Pgprot;
  alignment: number;
  flags: readonly ExecmemRangeFlag[];
}

/** struct execmem_info: one range per type. */
export interface ExecmemInfo {
  ranges: Partial<Record<ExecmemType, ExecmemRange>>;
}

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PMD_SIZE = 2 * 1024 * 1024;
export const PUD_SIZE = 1024 * 1024 * 1024;
export const SZ_1M = 1024 * 1024;
export const SZ_128M = 128 * SZ_1M;
export const SZ_2G = 2048 * SZ_1M;

/** Whether `n` is a positive integer power of two (1, 2, 4, ...). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

/** `x` rounded up to a multiple of `a` (ALIGN() in the kernel); `a` > 0, same units as `x`. */
export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
/** `x` rounded down to a multiple of `a` (ALIGN_DOWN()); `a` > 0, same units as `x`. */
export function alignDown(x: number, a: number): number {
  return Math.floor(x / a) * a;
}

/** Where a write to text goes through (the alias written, not the VA executed). */
export type WriteAlias =
  | "direct_map" // linear map alias of the page (e.g. Andy's A5 step 2, bpf shadow copy)
  | "temporary_mm" // x86 __text_poke: poking_mm mapping
  | "fixmap" // arm64/riscv patch_map(): FIX_TEXT_POKE0/1
  | "va"; // the executable VA itself while it is writable

/** Trap instruction used for invalidation fills (arch/*: execmem_fill_trapping_insns, bpf_fill_ill_insns). */
export type TrapInsn = "int3" | "brk" | "ebreak";

/** The kernel's text-poking copy and fill of each architecture (the execmem effects name them). */
export type TextPokeFn =
  | "text_poke"
  | "text_poke_copy"
  | "text_poke_set"
  | "aarch64_insn_copy"
  | "aarch64_insn_set"
  | "patch_text_nosync"
  | "patch_text_set_nosync";

/** Named cache maintenance an execmem call performs (the machine model expands it). */
export type CacheMaintenanceFn =
  "flush_icache_range" | "flush_icache_all" | "caches_clean_inval_pou";

/** Reach of a PC-relative branch or call sequence: target within [pc - reach, pc + reach). */
export interface BranchReach {
  insn: string;
  reach: number;
  note: string;
}

export interface ArchLayout {
  arch: ArchName;
  kaslr: boolean;
  /** [_text, _end) of the kernel image. Image size is an assumption (see KERNEL_IMAGE_BYTES). */
  kernelImage: { start: Va; end: Va };
  /** Start of the linear (direct) map: pa -> pageOffset + pa. */
  pageOffset: Va;
  vmalloc: { start: Va; end: Va };
  /** Module area before per-type ranges are derived (MODULES_VADDR..MODULES_END). */
  modules: { start: Va; end: Va };
  /** x86: the random 1..1024-page offset added to MODULES_VADDR; arm64: the 128 MiB / 2 GiB window bases. */
  randomization: Record<string, number>;
  branches: readonly BranchReach[];
  /** The branch module code calls the kernel with (its relocations' reach is what "near" means). */
  moduleCall: string;
  /** jit_text_alloc() is aliased to execmem_text_alloc() when generated code must stay near the kernel. */
  jitNeedsProximity: boolean;
  /** CONFIG_ARCH_HAS_EXECMEM_ROX in the modelled kernel (x86-64 only, 6.15). */
  hasRoxCache: boolean;
  trapInsn: TrapInsn;
  /** Alias the arch's text patching writes through. */
  textPokeAlias: WriteAlias;
  /** Granularity of the linear map at boot. arm64 with rodata=full maps it with pages already. */
  directMapInitial: "1G" | "2M" | "4K";
}

export interface ArchSetup {
  layout: ArchLayout;
  info: ExecmemInfo;
}

export interface ArchSetupOptions {
  /** Seed for the KASLR choices (get_random_u32_inclusive). */
  seed?: number;
  kaslr?: boolean;
  /** Enable the ROX cache where the arch has one (CONFIG_ARCH_HAS_EXECMEM_ROX). Default true. */
  rox?: boolean;
  /** KASAN without KASAN_VMALLOC: MODULE_ALIGN = PAGE_SIZE << KASAN_SHADOW_SCALE_SHIFT (3). */
  kasan?: boolean;
}

/** struct execmem_range from bounds with an exclusive end (the kernel's end is inclusive). */
export function execmemRange(
  start: Va,
  endExclusive: Va,
  pgprot: ExecmemRange["pgprot"],
  alignment: number,
  flags: ExecmemRangeFlag[] = [],
  fallback?: { start: Va; end: Va },
): ExecmemRange {
  return {
    start,
    end: endExclusive - 1,
    fallback_start: fallback ? fallback.start : 0,
    fallback_end: fallback ? fallback.end - 1 : 0,
    pgprot,
    alignment,
    flags,
  };
}

/** The part of the layout execmem_arch_setup() computes (KASLR moves it), and the ranges. */
export interface ArchWindows {
  /** _text; _end is kernelImageBytes above it. */
  kernelStart: Va;
  pageOffset: ArchLayout["pageOffset"];
  vmalloc: ArchLayout["vmalloc"];
  modules: ArchLayout["modules"];
  randomization: ArchLayout["randomization"];
  ranges: ExecmemInfo["ranges"];
}

/** The fixed part of an architecture's layout. */
export type ArchLayoutFixed = Pick<
  ArchLayout,
  | "branches"
  | "moduleCall"
  | "jitNeedsProximity"
  | "trapInsn"
  | "textPokeAlias"
  | "directMapInitial"
>;

/**
 * One architecture's execmem table: arch/<arch>/mm/init.c execmem_arch_setup() and the text
 * patching the allocators call (execmem_update_copy, bpf_arch_text_copy/invalidate).
 */
export interface ArchExecmem {
  /** Assumed size of the kernel image (_end - _text); it only moves the windows derived from it. */
  kernelImageBytes: number;
  layout: ArchLayoutFixed;
  /** The windows and the ranges, before mm/execmem.c execmem_init_missing(). */
  setup(o: Required<ArchSetupOptions>): ArchWindows;
  /**
   * The text-poking copy, the fill with the trap instruction, and the cache maintenance both end
   * with (none where I-caches are coherent).
   */
  textPoke: { copy: TextPokeFn; set: TextPokeFn; then: CacheMaintenanceFn | null };
  /** Cache maintenance jit_text_map() does before the PTE is installed (the handle protocol). */
  beforeMap: CacheMaintenanceFn | null;
  /** CONFIG_ARCH_HAS_EXECMEM_ROX; without it the ROX-cache option is ignored. Default false. */
  roxCache?: boolean;
  /** set_memory_rox() folds 512 uniform PTEs back into a PMD leaf (CPA_COLLAPSE). Default false. */
  cpaCollapse?: boolean;
}

/** The layout and the ranges of architecture `arch` from its execmem table `t`. */
export function archSetup(
  arch: ArchName,
  t: ArchExecmem,
  o: Required<ArchSetupOptions>,
): ArchSetup {
  const opts = t.roxCache ? o : { ...o, rox: false };
  const w = t.setup(opts);
  const f = t.layout;
  return {
    layout: {
      arch,
      kaslr: o.kaslr,
      kernelImage: { start: w.kernelStart, end: w.kernelStart + t.kernelImageBytes },
      pageOffset: w.pageOffset,
      vmalloc: w.vmalloc,
      modules: w.modules,
      randomization: w.randomization,
      branches: f.branches,
      moduleCall: f.moduleCall,
      jitNeedsProximity: f.jitNeedsProximity,
      hasRoxCache: opts.rox,
      trapInsn: f.trapInsn,
      textPokeAlias: f.textPokeAlias,
      directMapInitial: f.directMapInitial,
    },
    info: { ranges: w.ranges },
  };
}
