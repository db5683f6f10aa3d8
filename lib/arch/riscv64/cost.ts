// The cost table of riscv64: constants (each with its source) and strategies.
//   arch/riscv/kernel/patch.c (patch_text_nosync, patch_text via stop_machine),
//   arch/riscv/mm/cacheflush.c (flush_icache_all: local fence.i, fence w,o, SBI remote fence.i
//   or IPIs).
import { archConstants, constantStep, costConstant, costStep, strategiesOf } from "../cost";
import { fixmapWrite, notApplicable, stopMachineCosts, STOP_MACHINE_RENDEZVOUS } from "../cost";
import type { ArchCost, CostStep } from "../cost";

const constants = archConstants({
  ipiSendNs: costConstant(500, 0.4, "assumption: IPI through SBI or IMSIC per target"),
  ipiDeliveryNs: costConstant(3000, 0.5, "assumption: IPI to handler entry on an awake hart"),
  idleWakeNs: {
    ...costConstant(
      50_000,
      0.4,
      "assumption: exit from WFI/SBI HSM suspend; not measured, see range",
    ),
    range: [10_000, 500_000],
    rangeSource:
      "riscv,idle-state examples in Documentation/devicetree/bindings/cpu/idle-states.yaml (SBI HSM suspend): retentive exit 10-40 µs, non-retentive 100-500 µs",
  },
  serialiseNs: notApplicable(
    "riscv trap return is not fetch-synchronising (docs/model.md §Context synchronisation); fence.i is used instead",
  ),
  tlbFlushLocalNs: costConstant(150, 0.3, "assumption: SFENCE.VMA of one page"),
  tlbFlushRemoteNs: costConstant(
    8000,
    0.5,
    "assumption: SBI remote sfence.vma (firmware IPIs each hart)",
  ),
  pokeMapNs: costConstant(500, 0.3, "assumption: patch_map() of FIX_TEXT_POKE0/1 under text_mutex"),
  dcLineNs: notApplicable("riscv has no DC by VA in the base ISA"),
  icLineNs: notApplicable("riscv has no IC by VA; fence.i is whole-cache"),
  fenceNs: costConstant(50, 0.3, "assumption: FENCE w,o / fence rw,rw"),
  fenceINs: costConstant(
    500,
    0.5,
    "assumption: local fence.i (implementation dependent; may invalidate the whole I-cache)",
  ),
  sbiRemoteFenceIBaseNs: costConstant(
    5000,
    0.5,
    "assumption: SBI ecall entry/exit for sbi_remote_fence_i",
  ),
  sbiRemoteFenceIPerHartNs: costConstant(
    1500,
    0.5,
    "assumption: firmware IPI + fence.i + completion per remote hart",
  ),
  ...stopMachineCosts(30_000, 2000, "per hart share of every stop_machine state step"),
});

const rvFixmapWrite = fixmapWrite("patch_map FIX_TEXT_POKE0", "patch_unmap + local sfence.vma");
const rvFlushAll = (how: "sbi" | "ipi"): CostStep[] => [
  constantStep("local fence.i", "fenceINs"),
  costStep("fence w,o", "fenceNs", (c) => (c.cpus > 1 ? c.k("fenceNs") : 0)),
  how === "sbi"
    ? costStep(
        "SBI remote fence.i",
        "sbiRemoteFenceIBaseNs + (cpus-1) × sbiRemoteFenceIPerHartNs",
        (c) => c.sbiRemoteFenceI(),
      )
    : costStep(
        "IPI running fence.i on every hart",
        "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs]) + fenceINs + ipiAckNs",
        (c) => c.syncIpi(["fenceINs"]),
      ),
];

const riscv64 = strategiesOf("riscv64", [
  {
    name: "patch_text_nosync+flush_icache_all(sbi)",
    args: ["A13"],
    description: "patch through the fixmap, local fence.i, then SBI remote fence.i",
    bytes: 4,
    sites: 1,
    steps: [...rvFixmapWrite, ...rvFlushAll("sbi")],
  },
  {
    name: "patch_text_nosync+flush_icache_all(ipi)",
    args: ["A13"],
    description: "patch through the fixmap, local fence.i, then IPIs running fence.i",
    bytes: 4,
    sites: 1,
    steps: [...rvFixmapWrite, ...rvFlushAll("ipi")],
  },
  {
    name: "patch_text",
    args: ["A13"],
    description: "stop_machine: the last CPU writes, the others spin then fence.i",
    bytes: 4,
    sites: 1,
    steps: [
      STOP_MACHINE_RENDEZVOUS,
      ...rvFixmapWrite,
      constantStep("local fence.i", "fenceINs"),
      costStep("others: fence.i", "fenceINs (in parallel)", (c) =>
        c.cpus > 1 ? c.k("fenceINs") : 0,
      ),
    ],
  },
]);

const sbiRemoteFenceI = costStep(
  "fence.i on every hart (SBI remote fence.i)",
  "sbiRemoteFenceIBaseNs + (cpus-1) × sbiRemoteFenceIPerHartNs",
  (c) => c.sbiRemoteFenceI(),
);

export const riscv64Cost: ArchCost = {
  constants,
  strategies: riscv64,
  localBarrier: constantStep("local barrier", "fenceNs"),
  zapDirectMap: costStep(
    "zap direct map: PTE clear + SBI remote sfence.vma",
    "pteWriteNs + tlbFlushRemoteNs",
    (c) => c.k("pteWriteNs") + c.k("tlbFlushRemoteNs"),
  ),
  // fence.i everywhere before the PTE (the handle protocol)
  mapSync: [constantStep("local fence.i", "fenceINs"), sbiRemoteFenceI],
  measures: {
    pokeMap: [constantStep("map the fixmap slot", "pokeMapNs")],
    maintenance: [constantStep("local fence.i", "fenceINs")],
    sync: [
      costStep(
        "fence.i on every other hart (SBI remote fence.i)",
        "sbiRemoteFenceIBaseNs + (cpus-1) × sbiRemoteFenceIPerHartNs",
        (c) => c.sbiRemoteFenceI(),
      ),
    ],
  },
};
