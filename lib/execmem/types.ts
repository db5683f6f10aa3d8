// Types of the execmem model, in the kernel's words (include/linux/execmem.h, 6.10 onwards).

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

/** Error for a misuse or an impossible request; the allocator state is unchanged after it. */
export class ExecmemError extends Error {
  readonly call: string;
  readonly argument: string;
  constructor(call: string, argument: string, message: string) {
    super(`${call}(${argument}): ${message}`);
    this.name = "ExecmemError";
    this.call = call;
    this.argument = argument;
  }
}

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
