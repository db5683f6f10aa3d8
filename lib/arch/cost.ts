// The vocabulary of the cost model (lib/cost): named constants, each with its source, and
// strategies as lists of named steps whose cost is a formula over the constants, the CPU count
// and the size of the change. Each architecture's values are in lib/arch/<name>/cost.ts.
import type { ArchName } from "./types";

export interface CostConstant {
  value: number;
  unit: "ns" | "fraction";
  /** Log-normal sigma used when sampling (0 = fixed). */
  spread: number;
  source: string;
  /** The plausible range of the value, [low, high], where the constant is not measured. */
  range?: readonly [number, number];
  /** Where the range comes from. */
  rangeSource?: string;
}

/** The named constants, in the order tables list them. */
export const COST_CONSTANT_NAMES = [
  "ipiAckNs",
  "idleFraction",
  "allocPagesNs",
  "copyNsPerLine",
  "pteWriteNs",
  "ipiSendNs",
  "ipiDeliveryNs",
  "idleWakeNs",
  "serialiseNs",
  "cr3SwitchNs",
  "tlbFlushLocalNs",
  "tlbFlushRemoteNs",
  "pokeMapNs",
  "dcLineNs",
  "icLineNs",
  "dsbNs",
  "isbNs",
  "fenceNs",
  "fenceINs",
  "sbiRemoteFenceIBaseNs",
  "sbiRemoteFenceIPerHartNs",
  "stopMachineBaseNs",
  "stopMachinePerCpuNs",
] as const;

export type CostConstantName = (typeof COST_CONSTANT_NAMES)[number];

export type CostConstants = Record<CostConstantName, CostConstant>;

export interface CostCtx {
  readonly arch: ArchName;
  readonly cpus: number;
  /** 64-byte lines touched by the change. */
  readonly lines: number;
  /** Patch sites in a batch. */
  readonly sites: number;
  /** A constant (median, or a jittered sample). */
  k(name: CostConstantName): number;
  /** Synchronous IPI to every other CPU running `handler` constants, waiting for all (on_each_cpu). */
  syncIpi(handler: readonly CostConstantName[]): number;
  /** stop_machine() rendezvous of all CPUs. */
  stopMachine(): number;
  /** sbi_remote_fence_i() to every other hart. */
  sbiRemoteFenceI(): number;
}

export interface CostStep {
  name: string;
  /** The formula in words, for tables. */
  formula: string;
  cost(ctx: CostCtx): number;
}

export interface Strategy {
  name: string;
  arch: ArchName;
  /** Which argument(s) of the thread use it (A1-A13). */
  args: readonly string[];
  description: string;
  /** Default size of the change (bytes) and batch size. */
  bytes: number;
  sites: number;
  steps: readonly CostStep[];
}

/** A step of a strategy: its name, its formula in words and its cost. */
export function costStep(name: string, formula: string, cost: (c: CostCtx) => number): CostStep {
  return { name, formula, cost };
}

/** A step costing one constant, named as the constant. */
export function constantStep(name: string, k: CostConstantName): CostStep {
  return costStep(name, k, (c) => c.k(k));
}

/** An architecture's strategies: each row with the architecture's name after its own. */
export function strategiesOf(arch: ArchName, rows: readonly Omit<Strategy, "arch">[]): Strategy[] {
  return rows.map(({ name, ...rest }) => ({ name, arch, ...rest }));
}

/** A constant: median value, log-normal spread and source. */
export function costConstant(
  value: number,
  spread: number,
  source: string,
  unit: "ns" | "fraction" = "ns",
): CostConstant {
  return { value, unit, spread, source };
}

/** A constant that does not exist on the architecture (0, with the reason as its source). */
export function notApplicable(why: string): CostConstant {
  return costConstant(0, 0, `not applicable: ${why}`);
}

/** Constants every architecture shares (assumptions of the model). */
const COMMON_COSTS = {
  ipiAckNs: costConstant(
    100,
    0.3,
    "assumption: one cache-line transfer for the completion flag of smp_call_function_many",
  ),
  idleFraction: costConstant(
    0.1,
    0,
    "assumption: probability that a target CPU is in a deep idle state when the IPI arrives",
    "fraction",
  ),
  allocPagesNs: costConstant(
    1000,
    0.5,
    "assumption: alloc_pages + vmap of one page, order of a microsecond",
  ),
  copyNsPerLine: costConstant(4, 0.2, "assumption: 64-byte copy from L1/L2, a few ns per line"),
  pteWriteNs: costConstant(50, 0.3, "assumption: one page-table entry store plus barrier"),
};

/** Constants of one architecture only: the others' tables leave them out. */
const ONE_ARCH_ONLY = {
  cr3SwitchNs: notApplicable("x86 only"),
  dsbNs: notApplicable("arm64 only"),
  isbNs: notApplicable("arm64 only"),
  fenceINs: notApplicable("riscv only"),
  sbiRemoteFenceIBaseNs: notApplicable("riscv only"),
  sbiRemoteFenceIPerHartNs: notApplicable("riscv only"),
};

/**
 * An architecture's constants: its own over the shared ones (COMMON_COSTS) and the absent ones
 * (ONE_ARCH_ONLY), in the order of COST_CONSTANT_NAMES.
 */
export function archConstants(
  own: Omit<CostConstants, keyof typeof COMMON_COSTS | keyof typeof ONE_ARCH_ONLY> &
    Partial<CostConstants>,
): CostConstants {
  const all: CostConstants = { ...COMMON_COSTS, ...ONE_ARCH_ONLY, ...own };
  return Object.fromEntries(COST_CONSTANT_NAMES.map((n) => [n, all[n]])) as CostConstants;
}

/** stop_machine()'s constants: its fixed cost and each CPU's share (assumptions). */
export function stopMachineCosts(
  baseNs: number,
  perCpuNs: number,
  perCpuSource: string,
): { stopMachineBaseNs: CostConstant; stopMachinePerCpuNs: CostConstant } {
  return {
    stopMachineBaseNs: costConstant(
      baseNs,
      0.4,
      "assumption: waking stopper threads and the multi_cpu_stop state machine",
    ),
    stopMachinePerCpuNs: costConstant(perCpuNs, 0.4, `assumption: ${perCpuSource}`),
  };
}

/** stop_machine(): every CPU rendezvous in multi_cpu_stop (kernel/stop_machine.c). */
export const STOP_MACHINE_RENDEZVOUS = costStep(
  "stop_machine rendezvous",
  "stopMachineBaseNs + cpus × stopMachinePerCpuNs",
  (c) => c.stopMachine(),
);

/** A write through a fixmap slot (arm64, riscv patch_map()): map, copy, unmap + local TLB flush. */
export function fixmapWrite(map: string, unmap: string): CostStep[] {
  return [
    constantStep(map, "pokeMapNs"),
    costStep("write", "lines × copyNsPerLine", (c) => Math.max(1, c.lines) * c.k("copyNsPerLine")),
    constantStep(unmap, "tlbFlushLocalNs"),
  ];
}

/**
 * One architecture's cost table: its constants, its strategies of publishing and patching text,
 * and the steps the architecture-independent sequences take on it (A4, A5, A11).
 */
export interface ArchCost {
  constants: CostConstants;
  strategies: readonly Strategy[];
  /** A local barrier after writing the text (A5). */
  localBarrier: CostStep;
  /** Zap the direct map: set_direct_map_invalid + flush_tlb_kernel_range (A5). */
  zapDirectMap: CostStep;
  /** What jit_text_map must do before the PTE (A4, A5). */
  mapSync: readonly CostStep[];
  /** Song Liu's measures (A11): mapping the poking alias for the trap fill (1), explicit cache maintenance (3), context synchronisation of every CPU (4). */
  measures: {
    pokeMap: readonly CostStep[];
    maintenance: readonly CostStep[];
    sync: readonly CostStep[];
  };
}
