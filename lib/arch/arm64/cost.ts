// The cost table of arm64: constants (each with its source) and strategies.
//   arch/arm64/kernel/patching.c (aarch64_insn_patch_text_nosync, aarch64_insn_patch_text via
//   stop_machine), arch/arm64/include/asm/cacheflush.h (flush_icache_range + kick_all_cpus_sync).
import { archConstants, constantStep, costConstant, costStep, strategiesOf } from "../cost";
import { fixmapWrite, stopMachineCosts, STOP_MACHINE_RENDEZVOUS } from "../cost";
import type { ArchCost, CostStep } from "../cost";

const constants = archConstants({
  ipiSendNs: costConstant(
    200,
    0.3,
    "assumption: GICv3 SGI generation (ICC_SGI1R_EL1 write) per target",
  ),
  ipiDeliveryNs: costConstant(
    1500,
    0.4,
    "assumption: SGI to handler entry on an awake CPU, 1-2 µs",
  ),
  idleWakeNs: {
    ...costConstant(
      50_000,
      0.4,
      "assumption: exit from a cpuidle state (WFI/PSCI CPU_SUSPEND), tens of µs; not measured, see range",
    ),
    range: [1_000, 3_500_000],
    rangeSource:
      "device-tree idle states (exit-latency-us): WFI only ≈ 1 µs; arch/arm64/boot/dts/qcom/sm6375.dtsi CPU power collapse 915/1854 µs; sm8450.dtsi cluster sleep 2500/3500 µs",
  },
  serialiseNs: costConstant(
    20,
    0.3,
    "assumption: exception return as context-synchronisation event (ERET)",
  ),
  tlbFlushLocalNs: costConstant(100, 0.3, "assumption: TLBI VAE1 + DSB NSH for the fixmap slot"),
  tlbFlushRemoteNs: costConstant(
    800,
    0.4,
    "assumption: TLBI VAE1IS broadcast + DSB ISH (no IPI on arm64)",
  ),
  pokeMapNs: costConstant(
    300,
    0.3,
    "assumption: set_fixmap_offset of FIX_TEXT_POKE0 under patch_lock",
  ),
  dcLineNs: costConstant(10, 0.3, "assumption: DC CVAU per 64-byte line"),
  icLineNs: costConstant(10, 0.3, "assumption: IC IVAU per 64-byte line (broadcast)"),
  dsbNs: costConstant(150, 0.4, "assumption: DSB ISH waiting for broadcast maintenance"),
  isbNs: costConstant(20, 0.3, "assumption: ISB pipeline flush"),
  fenceNs: costConstant(50, 0.3, "assumption: DMB ISH / store-release"),
  ...stopMachineCosts(20_000, 1500, "per CPU share of every stop_machine state step"),
});

const armFixmapWrite = fixmapWrite("map FIX_TEXT_POKE0", "unmap fixmap + local TLBI");
const armMaintenance: CostStep[] = [
  costStep(
    "DC CVAU over the range",
    "lines × dcLineNs",
    (c) => Math.max(1, c.lines) * c.k("dcLineNs"),
  ),
  constantStep("DSB ISH", "dsbNs"),
  costStep(
    "IC IVAU over the range",
    "lines × icLineNs",
    (c) => Math.max(1, c.lines) * c.k("icLineNs"),
  ),
  constantStep("DSB ISH", "dsbNs"),
  constantStep("ISB", "isbNs"),
];
const kickAll = costStep(
  "kick_all_cpus_sync",
  "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs]) + exception return (serialiseNs) + ipiAckNs",
  (c) => c.syncIpi(["serialiseNs"]),
);

const arm64 = strategiesOf("arm64", [
  {
    name: "aarch64_insn_patch_text_nosync+flush_icache_range",
    args: ["A13", "A6"],
    description:
      "write through the fixmap, clean/invalidate to PoU, then flush_icache_range's IPI to every CPU",
    bytes: 4,
    sites: 1,
    steps: [...armFixmapWrite, ...armMaintenance, kickAll],
  },
  {
    name: "aarch64_insn_patch_text",
    args: ["A13"],
    description: "stop_machine: the last CPU to arrive patches (nosync), the others spin then ISB",
    bytes: 4,
    sites: 1,
    steps: [
      STOP_MACHINE_RENDEZVOUS,
      ...armFixmapWrite,
      ...armMaintenance,
      costStep("others: ISB", "isbNs (in parallel)", (c) => (c.cpus > 1 ? c.k("isbNs") : 0)),
    ],
  },
]);

export const arm64Cost: ArchCost = {
  constants,
  strategies: arm64,
  localBarrier: constantStep("local barrier (DSB)", "dsbNs"),
  zapDirectMap: costStep(
    "zap direct map: PTE clear + TLBI broadcast",
    "pteWriteNs + tlbFlushRemoteNs",
    (c) => c.k("pteWriteNs") + c.k("tlbFlushRemoteNs"),
  ),
  // clean and invalidate to the PoU before the PTE (the handle protocol)
  mapSync: armMaintenance.slice(0, 4),
  measures: {
    pokeMap: [constantStep("map the fixmap slot", "pokeMapNs")],
    maintenance: [
      costStep("DC CVAU over the range", "lines × dcLineNs", (c) => c.lines * c.k("dcLineNs")),
      constantStep("DSB ISH", "dsbNs"),
      costStep("IC IVAU over the range", "lines × icLineNs", (c) => c.lines * c.k("icLineNs")),
      constantStep("DSB ISH", "dsbNs"),
    ],
    sync: [
      constantStep("local ISB", "isbNs"),
      costStep("kick_all_cpus_sync (IPI; exception entry/return)", "syncIpi(serialiseNs)", (c) =>
        c.syncIpi(["serialiseNs"]),
      ),
    ],
  },
};
