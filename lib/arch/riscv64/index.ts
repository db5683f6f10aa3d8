// riscv64: the machine variants (Svvptc, Ziccid, a FENCE.I what-if) and what the library derives.
import type { ArchFamily } from "../types";
import { riscv64Cost } from "./cost";
import { riscv64Execmem } from "./execmem";
import { riscv64, riscv64_svvptc } from "./machine";
import { riscv64_ziccid } from "./ziccid";
import { riscv64_fencei_local } from "./fencei-local";

export const riscv64Family: ArchFamily = {
  name: "riscv64",
  aliases: [],
  variants: [riscv64, riscv64_svvptc, riscv64_ziccid, riscv64_fencei_local],
  // arch/riscv/kernel/patch.c: one 4-byte instruction.
  patchSite: { lines: 1 },
  execmem: riscv64Execmem,
  cost: riscv64Cost,
  sequences: {
    // arch/riscv/include/asm/cacheflush.h local_flush_icache_all(): fence.i on this hart.
    cacheMaintenance: [{ insn: "fence.i" }],
    // arch/riscv/mm/cacheflush.c flush_icache_all(): fence.i here and on every other hart.
    syncOtherCpus: [{ macro: "flush_icache_all" }],
    // arch/riscv/mm/context.c set_mm_noasid(): satp write and local_flush_tlb_all(), no fence.i
    // (flush_icache_deferred() runs one only when the mm's code changed, not kernel text).
    contextSwitch: [{ insn: "sfence.vma" }],
  },
};
