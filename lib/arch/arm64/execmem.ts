// arch/arm64/mm/init.c module_init_limits(), random_bounding_box(), execmem_arch_setup();
// arch/arm64/include/asm/memory.h (48-bit VA, 4 KiB pages).
import { mulberry32 } from "../../model";
import { execmemRange, PAGE_SIZE, PMD_SIZE, SZ_128M, SZ_1M, SZ_2G, vaOf } from "../execmem";
import type { ArchExecmem, ArchSetupOptions, ArchWindows, Va } from "../execmem";

/** Assumed _end - _text of a distribution kernel. */
const KERNEL_IMAGE_BYTES = 36 * SZ_1M;

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

function arm64(o: Required<ArchSetupOptions>): ArchWindows {
  const rng = mulberry32(o.seed ^ 0xa64);
  const MODULES_VADDR = vaOf(0xffff_8000_0000_0000n);
  const MODULES_END = MODULES_VADDR + SZ_2G; // == KIMAGE_VADDR
  const VMALLOC_START = MODULES_END;
  const VMALLOC_END = vaOf(0xffff_fdff_bfff_0000n); // approximately; below the vmemmap/PCI/fixmap area
  const size = KERNEL_IMAGE_BYTES;
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
    kernelStart: kstart,
    pageOffset: vaOf(0xffff_0000_0000_0000n),
    vmalloc: { start: VMALLOC_START, end: VMALLOC_END },
    modules: { start: MODULES_VADDR, end: MODULES_END },
    randomization: { module_direct_base: direct, module_plt_base: plt },
    ranges: {
      // arch/arm64/mm/init.c execmem_arch_setup(): DEFAULT in the direct-branch window with the
      // PLT window as fallback (or the PLT window alone), PAGE_KERNEL, alignment 1; KPROBES
      // (PAGE_KERNEL_ROX) and BPF (PAGE_KERNEL) anywhere in [VMALLOC_START, VMALLOC_END)
      EXECMEM_MODULE_TEXT: execmemRange(start, end, "PAGE_KERNEL", 1, [], fb),
      EXECMEM_KPROBES: execmemRange(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL_ROX", 1),
      EXECMEM_BPF: execmemRange(VMALLOC_START, VMALLOC_END, "PAGE_KERNEL", 1),
    },
  };
}

export const arm64Execmem: ArchExecmem = {
  kernelImageBytes: KERNEL_IMAGE_BYTES,
  layout: {
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
    trapInsn: "brk",
    textPokeAlias: "fixmap",
    directMapInitial: "4K",
  },
  setup: arm64,
  // arch/arm64/kernel/patching.c aarch64_insn_copy(), aarch64_insn_set(): through the fixmap,
  // each ending with flush_icache_range().
  textPoke: { copy: "aarch64_insn_copy", set: "aarch64_insn_set", then: "flush_icache_range" },
  // The handle protocol: clean and invalidate to the PoU before the PTE (Mark Rutland, 2023-06-26).
  beforeMap: "caches_clean_inval_pou",
};
