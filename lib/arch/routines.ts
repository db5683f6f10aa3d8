// Kernel routines every architecture's table (ArchVariant.macros) has in the same form.
import type { MacroName, MacroStep } from "./types";

type Routine = { steps: MacroStep[]; cite: string };

/**
 * The handle protocol's jit_text_write() (execmem thread, 2023-06-19): the text is written
 * through the direct map while its address is not mapped.
 */
export const JIT_TEXT_WRITE: Routine = {
  steps: [{ write: "version", via: "direct-map" }],
  cite: "execmem thread, 2023-06-19 (handle protocol)",
};

/**
 * smp_mb(), smp_wmb() and smp_rmb() of the architecture's asm/barrier.h (`header`): each one
 * instruction, or null where it is barrier() (a compiler barrier).
 */
export function smpBarriers(
  header: string,
  mb: string,
  wmb: string | null,
  rmb: string | null,
): Record<MacroName & `smp_${string}`, Routine> {
  const one = (insn: string | null): Routine =>
    insn ? { steps: [{ insn }], cite: header } : { steps: [], cite: `${header}: barrier()` };
  return { smp_mb: one(mb), smp_wmb: one(wmb), smp_rmb: one(rmb) };
}

/**
 * A write through the text-poking alias followed by a routine (arm64 aarch64_insn_copy() and
 * aarch64_insn_set() with flush_icache_range(); riscv patch_text_nosync() and
 * patch_text_set_nosync() with flush_icache_all()).
 */
export function pokeThen(write: "version" | "trap", then: MacroName): MacroStep[] {
  return [{ write, via: "poke" }, { macro: then }];
}
