// arch/x86/mm/init.c execmem_arch_setup(); arch/x86/include/asm/pgtable_64_types.h;
// Documentation/arch/x86/x86_64/mm.rst (4-level paging).
import { mulberry32 } from "../../model";
import { execmemRange, PAGE_SIZE, PMD_SIZE, SZ_1M, SZ_2G, vaOf } from "../execmem";
import type { ArchExecmem, ArchSetupOptions, ArchWindows, ExecmemRange } from "../execmem";

/** Assumed _end - _text of a distribution kernel. */
const KERNEL_IMAGE_BYTES = 40 * SZ_1M;

function x86_64(o: Required<ArchSetupOptions>): ArchWindows {
  const rng = mulberry32(o.seed ^ 0x8664);
  const START_KERNEL_map = vaOf(0xffff_ffff_8000_0000n);
  const KERNEL_IMAGE_SIZE = o.kaslr ? 1024 * SZ_1M : 512 * SZ_1M;
  const MODULES_VADDR = START_KERNEL_map + KERNEL_IMAGE_SIZE;
  const MODULES_END = vaOf(0xffff_ffff_ff00_0000n);
  const size = KERNEL_IMAGE_BYTES;
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
    ? execmemRange(start, MODULES_END, "PAGE_KERNEL_ROX", MODULE_ALIGN, [
        "EXECMEM_KASAN_SHADOW",
        "EXECMEM_ROX_CACHE",
      ])
    : execmemRange(start, MODULES_END, "PAGE_KERNEL", MODULE_ALIGN, ["EXECMEM_KASAN_SHADOW"]);
  const other = (): ExecmemRange =>
    execmemRange(start, MODULES_END, "PAGE_KERNEL", MODULE_ALIGN, ["EXECMEM_KASAN_SHADOW"]);
  return {
    kernelStart: kstart,
    pageOffset: vaOf(0xffff_8880_0000_0000n),
    vmalloc: { start: vaOf(0xffff_c900_0000_0000n), end: vaOf(0xffff_e900_0000_0000n) },
    modules: { start: MODULES_VADDR, end: MODULES_END },
    randomization: { moduleOffset: offset },
    ranges: {
      EXECMEM_MODULE_TEXT: text,
      EXECMEM_KPROBES: other(),
      EXECMEM_FTRACE: other(),
      EXECMEM_BPF: other(),
      EXECMEM_MODULE_DATA: other(),
    },
  };
}

export const x86_64Execmem: ArchExecmem = {
  kernelImageBytes: KERNEL_IMAGE_BYTES,
  layout: {
    branches: [{ insn: "call/jmp rel32", reach: SZ_2G, note: "signed 32-bit displacement" }],
    // arch/x86/kernel/module.c apply_relocate_add(): R_X86_64_PC32/PLT32
    moduleCall: "call/jmp rel32",
    jitNeedsProximity: true,
    trapInsn: "int3",
    textPokeAlias: "temporary_mm",
    directMapInitial: "1G",
  },
  setup: x86_64,
  // arch/x86/kernel/alternative.c text_poke_copy(), text_poke_set(): through the poking mm.
  // flush_icache_range() is empty on x86 (coherent I-cache).
  textPoke: { copy: "text_poke_copy", set: "text_poke_set", then: null },
  // "no sync needed on x86" (the handle protocol): nothing before the PTE.
  beforeMap: null,
  // CONFIG_ARCH_HAS_EXECMEM_ROX (6.15, x86-64 only).
  roxCache: true,
  // arch/x86/mm/pat/set_memory.c (6.15): set_memory_rox() passes CPA_COLLAPSE.
  cpaCollapse: true,
};
