// x86-64: the machine variants (legacy IDT, FRED) and what the library derives from them.
import type { ArchFamily } from "../types";
import { x86_64Cost } from "./cost";
import { x86_64Execmem } from "./execmem";
import { x86_64 } from "./machine";
import { x86_64_fred } from "./fred";

export const x86_64Family: ArchFamily = {
  name: "x86-64",
  // The kernel's ARCH and uname -m spelling.
  aliases: ["x86_64"],
  variants: [x86_64, x86_64_fred],
  // arch/x86/kernel/alternative.c text_poke_bp_batch(): a 5-byte CALL, its first byte and its
  // tail written separately, in one cache line.
  patchSite: { lines: 2, subline: true },
  execmem: x86_64Execmem,
  cost: x86_64Cost,
  sequences: {
    // Intel SDM vol. 3A 9.1.3: I-caches are coherent with stores; no maintenance exists.
    cacheMaintenance: [],
    // arch/x86/kernel/alternative.c text_poke_sync(): an IPI running sync_core() everywhere.
    syncOtherCpus: [{ macro: "text_poke_sync" }],
    // arch/x86/mm/tlb.c switch_mm_irqs_off() -> load_new_mm_cr3(): MOV CR3 serialises.
    contextSwitch: [{ insn: "MOV CR3" }],
  },
};
