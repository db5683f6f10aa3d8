// arm64: the machine variants (CTR_EL0.IDC/DIC, FEAT_ExS) and what the library derives from them.
import type { ArchFamily } from "../types";
import { arm64Cost } from "./cost";
import { arm64Execmem } from "./execmem";
import { arm64, POU_MAINTENANCE } from "./machine";
import { arm64_idc, arm64_dic, arm64_idc_dic, arm64_exs } from "./variants";

export const arm64Family: ArchFamily = {
  name: "arm64",
  aliases: ["aarch64"],
  variants: [arm64, arm64_idc, arm64_dic, arm64_idc_dic, arm64_exs],
  // arch/arm64/kernel/patching.c: one 4-byte instruction; Arm ARM B2.2.5 defines concurrent
  // modification between NOP and B.
  patchSite: { lines: 1, insn: { old: "NOP", new: "B" } },
  execmem: arm64Execmem,
  cost: arm64Cost,
  sequences: {
    cacheMaintenance: POU_MAINTENANCE,
    // kernel/smp.c kick_all_cpus_sync(): an IPI whose exception entry and return synchronise.
    syncOtherCpus: [{ macro: "kick_all_cpus_sync" }],
    // arch/arm64/mm/proc.S cpu_do_switch_mm(): the TTBR writes are followed by ISB.
    contextSwitch: [{ insn: "ISB" }],
  },
};
