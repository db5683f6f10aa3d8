// The cost table of x86-64: constants (each with its source) and strategies.
//   arch/x86/kernel/alternative.c (__text_poke, text_poke, text_poke_copy, text_poke_sync,
//   text_poke_bp_batch); arch/x86/mm/tlb.c (TLB shootdown by IPI).
import { archConstants, constantStep, costConstant, costStep, strategiesOf } from "../cost";
import { notApplicable, stopMachineCosts } from "../cost";
import type { ArchCost, CostCtx, CostStep } from "../cost";

const CALIB_X86 =
  "calibrated: with idleFraction 0.1 the model gives ≈1 ms per unbatched text_poke_bp and ≈1.4 ms for a 56-site batch on 24 CPUs " +
  "(x86 jump-label batching, 2019: 56 sites on a 24-CPU Xeon, 57 ms -> 1.4 ms); typical C6 exit latencies (intel_idle tables) are 100-200 µs, " +
  "the calibrated value also absorbs IPI handling under load";

const constants = archConstants({
  ipiSendNs: costConstant(150, 0.3, "assumption: x2APIC ICR write per target, 100-300 ns"),
  ipiDeliveryNs: costConstant(
    1500,
    0.4,
    "assumption: IPI to handler entry on an awake CPU, 1-2 µs",
  ),
  idleWakeNs: costConstant(360_000, 0.3, CALIB_X86),
  serialiseNs: costConstant(
    150,
    0.3,
    "assumption: SERIALIZE/CPUID or IRET-to-self (sync_core), 100-300 ns",
  ),
  cr3SwitchNs: costConstant(200, 0.3, "assumption: MOV CR3 with PCID"),
  tlbFlushLocalNs: costConstant(150, 0.3, "assumption: INVLPG of one page"),
  tlbFlushRemoteNs: notApplicable("x86 flushes remote TLBs with IPIs (ipi* constants)"),
  pokeMapNs: costConstant(
    1800,
    0.3,
    "calibrated with idleWakeNs: 168 text_poke calls + 3 syncs ≈ 1.4 ms on 24 CPUs (the 2019 batching measurement); covers text_mutex, get_locked_pte, set_pte of poking_mm",
  ),
  dcLineNs: notApplicable("x86 I/D caches are coherent (SDM vol. 3A self-modifying code)"),
  icLineNs: notApplicable("x86 I/D caches are coherent"),
  fenceNs: costConstant(
    30,
    0.3,
    "assumption: SFENCE/MFENCE (x86 stores are TSO; a compiler barrier usually suffices)",
  ),
  ...stopMachineCosts(
    20_000,
    1500,
    "per CPU share of every stop_machine state step (IPI + context switch)",
  ),
});

const x86Poke = (times: string, n: (c: CostCtx) => number): CostStep[] => [
  costStep(`map poking_mm page (${times})`, `${times} × pokeMapNs`, (c) => n(c) * c.k("pokeMapNs")),
  costStep(
    `CR3 switch to poking_mm and back (${times})`,
    `${times} × 2 × cr3SwitchNs`,
    (c) => n(c) * 2 * c.k("cr3SwitchNs"),
  ),
  costStep(
    `copy (${times})`,
    `${times} × lines × copyNsPerLine`,
    (c) => n(c) * Math.max(1, c.lines) * c.k("copyNsPerLine"),
  ),
  costStep(
    `local TLB flush of the poking address (${times})`,
    `${times} × tlbFlushLocalNs`,
    (c) => n(c) * c.k("tlbFlushLocalNs"),
  ),
];
const x86Sync = (label: string): CostStep =>
  costStep(
    `text_poke_sync ${label}`,
    "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs if idle]) + serialiseNs + ipiAckNs",
    (c) => c.syncIpi(["serialiseNs"]),
  );

const x86 = strategiesOf("x86-64", [
  {
    name: "text_poke",
    args: ["A13"],
    description:
      "__text_poke through the temporary mm; the CR3 write serialises the poking CPU only; no cross-CPU sync",
    bytes: 5,
    sites: 1,
    steps: x86Poke("1", () => 1),
  },
  {
    name: "text_poke_bp",
    args: ["A13"],
    description: "int3 -> sync -> tail -> sync -> first byte -> sync, one site",
    bytes: 5,
    sites: 1,
    steps: [
      ...x86Poke("3", () => 3),
      x86Sync("(after int3)"),
      x86Sync("(after tail)"),
      x86Sync("(after first byte)"),
    ],
  },
  {
    name: "text_poke_bp_batch",
    args: ["A13"],
    description: "text_poke_bp_batch over `sites` sites: 3 pokes per site, 3 syncs in all",
    bytes: 5,
    sites: 56,
    steps: [
      ...x86Poke("3 × sites", (c) => 3 * c.sites),
      x86Sync("(after int3)"),
      x86Sync("(after tail)"),
      x86Sync("(after first byte)"),
    ],
  },
  {
    name: "text_poke_copy",
    args: ["A6"],
    description: "bpf_arch_text_copy: text_poke_copy without text_poke_sync (Nadav's question)",
    bytes: 4096,
    sites: 1,
    steps: x86Poke("1", () => 1),
  },
]);

export const x86_64Cost: ArchCost = {
  constants,
  strategies: x86,
  localBarrier: constantStep("local barrier", "fenceNs"),
  zapDirectMap: costStep(
    "zap direct map: PTE clear + TLB shootdown IPI",
    "pteWriteNs + syncIpi(tlbFlushLocalNs)",
    (c) => c.k("pteWriteNs") + c.syncIpi(["tlbFlushLocalNs"]),
  ),
  // "no sync needed on x86" (the handle protocol)
  mapSync: [],
  measures: {
    pokeMap: [
      constantStep("text_poke_set: map poking_mm", "pokeMapNs"),
      costStep("CR3 switch and back", "2 × cr3SwitchNs", (c) => 2 * c.k("cr3SwitchNs")),
    ],
    // I/D coherent: no instruction exists or is needed
    maintenance: [],
    sync: [
      costStep("text_poke_sync (IPI, sync_core everywhere)", "syncIpi(serialiseNs)", (c) =>
        c.syncIpi(["serialiseNs"]),
      ),
    ],
  },
};
