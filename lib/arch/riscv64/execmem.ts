// arch/riscv/mm/init.c execmem_arch_setup(); arch/riscv/include/asm/pgtable.h
// (MODULES_VADDR/END, BPF_JIT_REGION_*); Documentation/arch/riscv/vm-layout.rst (Sv39).
import { mulberry32 } from "../../model";
import { alignDown, execmemRange, PAGE_SIZE, PMD_SIZE, PUD_SIZE } from "../execmem";
import { SZ_128M, SZ_1M, SZ_2G, vaOf } from "../execmem";
import type { ArchExecmem, ArchSetupOptions, ArchWindows } from "../execmem";

/** Assumed _end - _text of a distribution kernel. */
const KERNEL_IMAGE_BYTES = 24 * SZ_1M;

function riscv64(o: Required<ArchSetupOptions>): ArchWindows {
  const rng = mulberry32(o.seed ^ 0x5c64);
  const KERNEL_LINK_ADDR = vaOf(0xffff_ffff_8000_0000n);
  const size = KERNEL_IMAGE_BYTES;
  // Virtual KASLR (6.6+): the image moves inside its 2 GiB area; modelled in 2 MiB steps within 1 GiB.
  const kstart =
    KERNEL_LINK_ADDR +
    (o.kaslr ? rng.int(0, Math.floor((PUD_SIZE - size) / PMD_SIZE)) * PMD_SIZE : 0);
  const kend = kstart + size;
  const MODULES_VADDR = alignDown(kend + PAGE_SIZE - 1, PAGE_SIZE) - SZ_2G; // PFN_ALIGN(_end) - SZ_2G
  const MODULES_END = kstart; // PFN_ALIGN(_start)
  const BPF_JIT_REGION_END = MODULES_END;
  const BPF_JIT_REGION_START = BPF_JIT_REGION_END - SZ_128M;
  const VMALLOC_START = vaOf(0xffff_ffc6_0000_0000n);
  const VMALLOC_END = vaOf(0xffff_ffd6_0000_0000n);
  return {
    kernelStart: kstart,
    pageOffset: vaOf(0xffff_ffd6_0000_0000n),
    vmalloc: { start: VMALLOC_START, end: VMALLOC_END },
    modules: { start: MODULES_VADDR, end: MODULES_END },
    randomization: { kernelOffset: kstart - KERNEL_LINK_ADDR },
    ranges: {
      // arch/riscv/mm/init.c execmem_arch_setup(): DEFAULT [MODULES_VADDR, MODULES_END)
      // PAGE_KERNEL; KPROBES in vmalloc, PAGE_KERNEL_READ_EXEC; BPF in
      // [BPF_JIT_REGION_START, BPF_JIT_REGION_END), PAGE_KERNEL, PAGE_SIZE aligned
      EXECMEM_MODULE_TEXT: execmemRange(MODULES_VADDR, MODULES_END, "PAGE_KERNEL", 1),
      EXECMEM_KPROBES: execmemRange(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL_ROX", 1),
      EXECMEM_BPF: execmemRange(BPF_JIT_REGION_START, BPF_JIT_REGION_END, "PAGE_KERNEL", PAGE_SIZE),
    },
  };
}

export const riscv64Execmem: ArchExecmem = {
  kernelImageBytes: KERNEL_IMAGE_BYTES,
  layout: {
    branches: [
      { insn: "JAL", reach: SZ_1M, note: "imm20 << 1" },
      { insn: "AUIPC+JALR", reach: SZ_2G, note: "hi20 + lo12, sign-extended" },
    ],
    // arch/riscv/kernel/module.c: R_RISCV_CALL_PLT (the call pseudo-instruction)
    moduleCall: "AUIPC+JALR",
    jitNeedsProximity: true,
    trapInsn: "ebreak",
    textPokeAlias: "fixmap",
    directMapInitial: "1G",
  },
  setup: riscv64,
  // arch/riscv/kernel/patch.c patch_text_nosync(), patch_text_set_nosync(): through the fixmap,
  // each ending with flush_icache_range() == flush_icache_all().
  textPoke: { copy: "patch_text_nosync", set: "patch_text_set_nosync", then: "flush_icache_all" },
  // The handle protocol: fence.i everywhere before the PTE.
  beforeMap: "flush_icache_all",
};
