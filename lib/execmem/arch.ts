// Per-architecture execmem layouts: data plus a few hooks, like the arch execmem_arch_setup()s.
//   x86-64:  arch/x86/mm/init.c execmem_arch_setup(); arch/x86/include/asm/pgtable_64_types.h;
//            Documentation/arch/x86/x86_64/mm.rst (4-level paging)
//   arm64:   arch/arm64/mm/init.c module_init_limits(), random_bounding_box(), execmem_arch_setup();
//            arch/arm64/include/asm/memory.h (48-bit VA, 4 KiB pages)
//   riscv64: arch/riscv/mm/init.c execmem_arch_setup(); arch/riscv/include/asm/pgtable.h
//            (MODULES_VADDR/END, BPF_JIT_REGION_*); Documentation/arch/riscv/vm-layout.rst (Sv39)
import { archNameOf, type ArchName } from "../arch";
import { mulberry32 } from "../model";
import type { TrapInsn, WriteAlias } from "./effects";
import {
  ExecmemError,
  type ExecmemInfo,
  type ExecmemRange,
  type ExecmemRangeFlag,
  type ExecmemType,
  PAGE_SIZE,
  PMD_SIZE,
  PUD_SIZE,
  SZ_128M,
  SZ_1M,
  SZ_2G,
  type Va,
  vaOf,
  alignDown,
} from "./types";

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

/**
 * Assumed sizes of the kernel image (_end - _text). A distribution kernel is tens of MiB;
 * the exact value only moves the windows derived from it.
 */
export const KERNEL_IMAGE_BYTES: Readonly<Record<ArchName, number>> = {
  "x86-64": 40 * SZ_1M,
  arm64: 36 * SZ_1M,
  riscv64: 24 * SZ_1M,
};

const va = (hex: bigint): Va => vaOf(hex);

function range(
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

function x86_64(o: Required<ArchSetupOptions>): ArchSetup {
  const rng = mulberry32(o.seed ^ 0x8664);
  const START_KERNEL_map = va(0xffff_ffff_8000_0000n);
  const KERNEL_IMAGE_SIZE = o.kaslr ? 1024 * SZ_1M : 512 * SZ_1M;
  const MODULES_VADDR = START_KERNEL_map + KERNEL_IMAGE_SIZE;
  const MODULES_END = va(0xffff_ffff_ff00_0000n);
  const size = KERNEL_IMAGE_BYTES["x86-64"];
  // LOAD_PHYSICAL_ADDR 16 MiB; KASLR moves the image in 2 MiB steps inside KERNEL_IMAGE_SIZE.
  const slots = Math.floor((KERNEL_IMAGE_SIZE - 16 * SZ_1M - size) / PMD_SIZE);
  const kstart = START_KERNEL_map + 16 * SZ_1M + (o.kaslr ? rng.int(0, slots) * PMD_SIZE : 0);
  // execmem_arch_setup(): offset = get_random_u32_inclusive(1, 1024) * PAGE_SIZE with KASLR.
  const offset = o.kaslr ? rng.int(1, 1024) * PAGE_SIZE : 0;
  const start = MODULES_VADDR + offset;
  const MODULE_ALIGN = o.kasan ? PAGE_SIZE << 3 : PAGE_SIZE;
  // arch/x86/mm/init.c execmem_arch_setup() (6.15): only EXECMEM_MODULE_TEXT carries
  // EXECMEM_ROX_CACHE with PAGE_KERNEL_ROX (if CONFIG_ARCH_HAS_EXECMEM_ROX, x86-64 only, and
  // X86_FEATURE_PSE); [EXECMEM_KPROBES ... EXECMEM_BPF] and EXECMEM_MODULE_DATA are PAGE_KERNEL
  // with EXECMEM_KASAN_SHADOW. (Kprobes and ftrace joined the cache in later kernels.)
  const text = o.rox
    ? range(start, MODULES_END, "PAGE_KERNEL_ROX", MODULE_ALIGN, [
        "EXECMEM_KASAN_SHADOW",
        "EXECMEM_ROX_CACHE",
      ])
    : range(start, MODULES_END, "PAGE_KERNEL", MODULE_ALIGN, ["EXECMEM_KASAN_SHADOW"]);
  const other = (): ExecmemRange =>
    range(start, MODULES_END, "PAGE_KERNEL", MODULE_ALIGN, ["EXECMEM_KASAN_SHADOW"]);
  return {
    layout: {
      arch: "x86-64",
      kaslr: o.kaslr,
      kernelImage: { start: kstart, end: kstart + size },
      pageOffset: va(0xffff_8880_0000_0000n),
      vmalloc: { start: va(0xffff_c900_0000_0000n), end: va(0xffff_e900_0000_0000n) },
      modules: { start: MODULES_VADDR, end: MODULES_END },
      randomization: { moduleOffset: offset },
      branches: [{ insn: "call/jmp rel32", reach: SZ_2G, note: "signed 32-bit displacement" }],
      // arch/x86/kernel/module.c apply_relocate_add(): R_X86_64_PC32/PLT32
      moduleCall: "call/jmp rel32",
      jitNeedsProximity: true,
      hasRoxCache: o.rox,
      trapInsn: "int3",
      textPokeAlias: "temporary_mm",
      directMapInitial: "1G",
    },
    info: {
      ranges: {
        EXECMEM_MODULE_TEXT: text,
        EXECMEM_KPROBES: other(),
        EXECMEM_FTRACE: other(),
        EXECMEM_BPF: other(),
        EXECMEM_MODULE_DATA: other(),
      },
    },
  };
}

/** arch/arm64/mm/init.c random_bounding_box(): random page-aligned base of a size window holding [start, end). */
function randomBoundingBox(
  rng: ReturnType<typeof mulberry32>,
  size: number,
  start: Va,
  end: Va,
): Va {
  if (end - start >= size) return 0;
  const maxPgoff = (size - (end - start)) / PAGE_SIZE;
  return start - rng.int(0, maxPgoff) * PAGE_SIZE;
}

function arm64(o: Required<ArchSetupOptions>): ArchSetup {
  const rng = mulberry32(o.seed ^ 0xa64);
  const MODULES_VADDR = va(0xffff_8000_0000_0000n);
  const MODULES_END = MODULES_VADDR + SZ_2G; // == KIMAGE_VADDR
  const VMALLOC_START = MODULES_END;
  const VMALLOC_END = va(0xffff_fdff_bfff_0000n); // approximately; below the vmemmap/PCI/fixmap area
  const size = KERNEL_IMAGE_BYTES.arm64;
  // KASLR places the image at a 2 MiB-aligned offset in the lower half of the vmalloc area.
  const kstart = o.kaslr
    ? VMALLOC_START +
      rng.int(1, Math.floor((VMALLOC_END - VMALLOC_START) / 2 / PMD_SIZE) - 64) * PMD_SIZE
    : MODULES_END;
  const kend = kstart + size;
  // module_init_limits()
  let direct = 0;
  let plt = 0;
  if (!o.kaslr) {
    direct = size < SZ_128M ? kend - SZ_128M : 0;
    plt = size < SZ_2G ? kend - SZ_2G : 0;
  } else {
    let min = kstart;
    let max = kend;
    direct = randomBoundingBox(rng, SZ_128M, min, max);
    if (direct) {
      min = direct;
      max = direct + SZ_128M;
    }
    plt = randomBoundingBox(rng, SZ_2G, min, max);
  }
  let start = 0;
  let end = 0;
  let fb: { start: Va; end: Va } | undefined;
  if (direct) {
    start = direct;
    end = direct + SZ_128M;
    if (plt) fb = { start: plt, end: plt + SZ_2G };
  } else {
    start = plt;
    end = plt + SZ_2G;
  }
  return {
    layout: {
      arch: "arm64",
      kaslr: o.kaslr,
      kernelImage: { start: kstart, end: kend },
      pageOffset: va(0xffff_0000_0000_0000n),
      vmalloc: { start: VMALLOC_START, end: VMALLOC_END },
      modules: { start: MODULES_VADDR, end: MODULES_END },
      randomization: { module_direct_base: direct, module_plt_base: plt },
      branches: [
        { insn: "BL", reach: SZ_128M, note: "imm26 << 2: CALL26/JUMP26 relocations" },
        {
          insn: "PLT (ADRP+ADD+BR)",
          reach: SZ_2G,
          note: "module PLT veneer; the 2 GiB window bounds PREL32 references",
        },
      ],
      // arch/arm64/kernel/module.c: R_AARCH64_CALL26/JUMP26, a PLT veneer when out of reach
      moduleCall: "BL",
      jitNeedsProximity: false,
      hasRoxCache: false,
      trapInsn: "brk",
      textPokeAlias: "fixmap",
      directMapInitial: "4K",
    },
    info: {
      ranges: {
        // arch/arm64/mm/init.c execmem_arch_setup(): DEFAULT in the direct-branch window with the
        // PLT window as fallback (or the PLT window alone), PAGE_KERNEL, alignment 1; KPROBES
        // (PAGE_KERNEL_ROX) and BPF (PAGE_KERNEL) anywhere in [VMALLOC_START, VMALLOC_END)
        EXECMEM_MODULE_TEXT: range(start, end, "PAGE_KERNEL", 1, [], fb),
        EXECMEM_KPROBES: range(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL_ROX", 1),
        EXECMEM_BPF: range(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL", 1),
      },
    },
  };
}

function riscv64(o: Required<ArchSetupOptions>): ArchSetup {
  const rng = mulberry32(o.seed ^ 0x5c64);
  const KERNEL_LINK_ADDR = va(0xffff_ffff_8000_0000n);
  const size = KERNEL_IMAGE_BYTES.riscv64;
  // Virtual KASLR (6.6+): the image moves inside its 2 GiB area; modelled in 2 MiB steps within 1 GiB.
  const kstart =
    KERNEL_LINK_ADDR +
    (o.kaslr ? rng.int(0, Math.floor((PUD_SIZE - size) / PMD_SIZE)) * PMD_SIZE : 0);
  const kend = kstart + size;
  const MODULES_VADDR = alignDown(kend + PAGE_SIZE - 1, PAGE_SIZE) - SZ_2G; // PFN_ALIGN(_end) - SZ_2G
  const MODULES_END = kstart; // PFN_ALIGN(_start)
  const BPF_JIT_REGION_END = MODULES_END;
  const BPF_JIT_REGION_START = BPF_JIT_REGION_END - SZ_128M;
  const VMALLOC_START = va(0xffff_ffc6_0000_0000n);
  const VMALLOC_END = va(0xffff_ffd6_0000_0000n);
  return {
    layout: {
      arch: "riscv64",
      kaslr: o.kaslr,
      kernelImage: { start: kstart, end: kend },
      pageOffset: va(0xffff_ffd6_0000_0000n),
      vmalloc: { start: VMALLOC_START, end: VMALLOC_END },
      modules: { start: MODULES_VADDR, end: MODULES_END },
      randomization: { kernelOffset: kstart - KERNEL_LINK_ADDR },
      branches: [
        { insn: "JAL", reach: SZ_1M, note: "imm20 << 1" },
        { insn: "AUIPC+JALR", reach: SZ_2G, note: "hi20 + lo12, sign-extended" },
      ],
      // arch/riscv/kernel/module.c: R_RISCV_CALL_PLT (the call pseudo-instruction)
      moduleCall: "AUIPC+JALR",
      jitNeedsProximity: true,
      hasRoxCache: false,
      trapInsn: "ebreak",
      textPokeAlias: "fixmap",
      directMapInitial: "1G",
    },
    info: {
      ranges: {
        // arch/riscv/mm/init.c execmem_arch_setup(): DEFAULT [MODULES_VADDR, MODULES_END)
        // PAGE_KERNEL; KPROBES in vmalloc, PAGE_KERNEL_READ_EXEC; BPF in
        // [BPF_JIT_REGION_START, BPF_JIT_REGION_END), PAGE_KERNEL, PAGE_SIZE aligned
        EXECMEM_MODULE_TEXT: range(MODULES_VADDR, MODULES_END, "PAGE_KERNEL", 1),
        EXECMEM_KPROBES: range(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL_ROX", 1),
        EXECMEM_BPF: range(BPF_JIT_REGION_START, BPF_JIT_REGION_END, "PAGE_KERNEL", PAGE_SIZE),
      },
    },
  };
}

/**
 * execmem_arch_setup() followed by mm/execmem.c execmem_init_missing(): every type without a
 * range of its own gets DEFAULT's; MODULE_DATA then gets PAGE_KERNEL.
 */
export function execmemArchSetup(arch: ArchName, opts: ArchSetupOptions = {}): ArchSetup {
  const o: Required<ArchSetupOptions> = { seed: 1, kaslr: true, rox: true, kasan: false, ...opts };
  let s: ArchSetup;
  arch = archNameOf(arch) ?? arch;
  if (arch === "x86-64") s = x86_64(o);
  else if (arch === "arm64") s = arm64({ ...o, rox: false });
  else if (arch === "riscv64") s = riscv64({ ...o, rox: false });
  else throw new ExecmemError("execmem_arch_setup", `arch=${String(arch)}`, "unknown architecture");
  execmemInitMissing(s.info);
  return s;
}

/** mm/execmem.c execmem_init_missing(). */
export function execmemInitMissing(info: ExecmemInfo): void {
  const d = info.ranges.EXECMEM_MODULE_TEXT;
  if (!d)
    throw new ExecmemError(
      "execmem_init",
      "EXECMEM_DEFAULT",
      "no default range (execmem_validate)",
    );
  const types: ExecmemType[] = [
    "EXECMEM_KPROBES",
    "EXECMEM_FTRACE",
    "EXECMEM_BPF",
    "EXECMEM_MODULE_DATA",
  ];
  for (const t of types) {
    if (info.ranges[t]) continue;
    info.ranges[t] = { ...d, pgprot: t === "EXECMEM_MODULE_DATA" ? "PAGE_KERNEL" : d.pgprot };
  }
}

/** Whether a PC-relative branch of the given kind at `from` reaches `to`. */
export function branchReaches(layout: ArchLayout, insn: string, from: Va, to: Va): boolean {
  const b = layout.branches.find((x) => x.insn === insn);
  if (!b)
    throw new ExecmemError("branchReaches", `insn=${insn}`, `no such branch on ${layout.arch}`);
  const d = to - from;
  return d >= -b.reach && d < b.reach;
}
