// Named cost constants per architecture. Each carries its source: a published figure, a
// calibration against one (stated), or a stated assumption. Values are medians; samples draw
// log-normal jitter with the given spread (sigma of the log).
import type { ArchName } from "../arch";

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

export type CostConstantName =
  | "ipiSendNs"
  | "ipiDeliveryNs"
  | "ipiAckNs"
  | "idleWakeNs"
  | "idleFraction"
  | "serialiseNs"
  | "cr3SwitchNs"
  | "tlbFlushLocalNs"
  | "tlbFlushRemoteNs"
  | "pokeMapNs"
  | "copyNsPerLine"
  | "pteWriteNs"
  | "dcLineNs"
  | "icLineNs"
  | "dsbNs"
  | "isbNs"
  | "fenceNs"
  | "fenceINs"
  | "sbiRemoteFenceIBaseNs"
  | "sbiRemoteFenceIPerHartNs"
  | "stopMachineBaseNs"
  | "stopMachinePerCpuNs"
  | "allocPagesNs";

export type CostConstants = Record<CostConstantName, CostConstant>;

const A = (
  value: number,
  spread: number,
  source: string,
  unit: "ns" | "fraction" = "ns",
): CostConstant => ({
  value,
  unit,
  spread,
  source: source,
});
const NA = (why: string): CostConstant => A(0, 0, `not applicable: ${why}`);

const CALIB_X86 =
  "calibrated: with idleFraction 0.1 the model gives ≈1 ms per unbatched text_poke_bp and ≈1.4 ms for a 56-site batch on 24 CPUs " +
  "(KERNEL-FACTS: 24-CPU Xeon, 2019, 57 ms -> 1.4 ms); typical C6 exit latencies (intel_idle tables) are 100-200 µs, " +
  "the calibrated value also absorbs IPI handling under load";

const common = {
  ipiAckNs: A(
    100,
    0.3,
    "assumption: one cache-line transfer for the completion flag of smp_call_function_many",
  ),
  idleFraction: A(
    0.1,
    0,
    "assumption: probability that a target CPU is in a deep idle state when the IPI arrives",
    "fraction",
  ),
  allocPagesNs: A(1000, 0.5, "assumption: alloc_pages + vmap of one page, order of a microsecond"),
  copyNsPerLine: A(4, 0.2, "assumption: 64-byte copy from L1/L2, a few ns per line"),
  pteWriteNs: A(50, 0.3, "assumption: one page-table entry store plus barrier"),
};

export const DEFAULT_CONSTANTS: Readonly<Record<ArchName, CostConstants>> = {
  "x86-64": {
    ...common,
    ipiSendNs: A(150, 0.3, "assumption: x2APIC ICR write per target, 100-300 ns"),
    ipiDeliveryNs: A(1500, 0.4, "assumption: IPI to handler entry on an awake CPU, 1-2 µs"),
    idleWakeNs: A(360_000, 0.3, CALIB_X86),
    serialiseNs: A(150, 0.3, "assumption: SERIALIZE/CPUID or IRET-to-self (sync_core), 100-300 ns"),
    cr3SwitchNs: A(200, 0.3, "assumption: MOV CR3 with PCID"),
    tlbFlushLocalNs: A(150, 0.3, "assumption: INVLPG of one page"),
    tlbFlushRemoteNs: NA("x86 flushes remote TLBs with IPIs (ipi* constants)"),
    pokeMapNs: A(
      1800,
      0.3,
      "calibrated with idleWakeNs: 168 text_poke calls + 3 syncs ≈ 1.4 ms on 24 CPUs (KERNEL-FACTS); covers text_mutex, get_locked_pte, set_pte of poking_mm",
    ),
    dcLineNs: NA("x86 I/D caches are coherent (SDM vol. 3A self-modifying code)"),
    icLineNs: NA("x86 I/D caches are coherent"),
    dsbNs: NA("arm64 only"),
    isbNs: NA("arm64 only"),
    fenceNs: A(
      30,
      0.3,
      "assumption: SFENCE/MFENCE (x86 stores are TSO; a compiler barrier usually suffices)",
    ),
    fenceINs: NA("riscv only"),
    sbiRemoteFenceIBaseNs: NA("riscv only"),
    sbiRemoteFenceIPerHartNs: NA("riscv only"),
    stopMachineBaseNs: A(
      20_000,
      0.4,
      "assumption: waking stopper threads and the multi_cpu_stop state machine",
    ),
    stopMachinePerCpuNs: A(
      1500,
      0.4,
      "assumption: per CPU share of every stop_machine state step (IPI + context switch)",
    ),
  },
  arm64: {
    ...common,
    ipiSendNs: A(200, 0.3, "assumption: GICv3 SGI generation (ICC_SGI1R_EL1 write) per target"),
    ipiDeliveryNs: A(1500, 0.4, "assumption: SGI to handler entry on an awake CPU, 1-2 µs"),
    idleWakeNs: {
      ...A(
        50_000,
        0.4,
        "assumption: exit from a cpuidle state (WFI/PSCI CPU_SUSPEND), tens of µs; not measured, see range",
      ),
      range: [1_000, 3_500_000],
      rangeSource:
        "device-tree idle states (exit-latency-us): WFI only ≈ 1 µs; arch/arm64/boot/dts/qcom/sm6375.dtsi CPU power collapse 915/1854 µs; sm8450.dtsi cluster sleep 2500/3500 µs",
    },
    serialiseNs: A(20, 0.3, "assumption: exception return as context-synchronisation event (ERET)"),
    cr3SwitchNs: NA("x86 only"),
    tlbFlushLocalNs: A(100, 0.3, "assumption: TLBI VAE1 + DSB NSH for the fixmap slot"),
    tlbFlushRemoteNs: A(800, 0.4, "assumption: TLBI VAE1IS broadcast + DSB ISH (no IPI on arm64)"),
    pokeMapNs: A(300, 0.3, "assumption: set_fixmap_offset of FIX_TEXT_POKE0 under patch_lock"),
    dcLineNs: A(10, 0.3, "assumption: DC CVAU per 64-byte line"),
    icLineNs: A(10, 0.3, "assumption: IC IVAU per 64-byte line (broadcast)"),
    dsbNs: A(150, 0.4, "assumption: DSB ISH waiting for broadcast maintenance"),
    isbNs: A(20, 0.3, "assumption: ISB pipeline flush"),
    fenceNs: A(50, 0.3, "assumption: DMB ISH / store-release"),
    fenceINs: NA("riscv only"),
    sbiRemoteFenceIBaseNs: NA("riscv only"),
    sbiRemoteFenceIPerHartNs: NA("riscv only"),
    stopMachineBaseNs: A(
      20_000,
      0.4,
      "assumption: waking stopper threads and the multi_cpu_stop state machine",
    ),
    stopMachinePerCpuNs: A(1500, 0.4, "assumption: per CPU share of every stop_machine state step"),
  },
  riscv64: {
    ...common,
    ipiSendNs: A(500, 0.4, "assumption: IPI through SBI or IMSIC per target"),
    ipiDeliveryNs: A(3000, 0.5, "assumption: IPI to handler entry on an awake hart"),
    idleWakeNs: {
      ...A(50_000, 0.4, "assumption: exit from WFI/SBI HSM suspend; not measured, see range"),
      range: [10_000, 500_000],
      rangeSource:
        "riscv,idle-state examples in Documentation/devicetree/bindings/cpu/idle-states.yaml (SBI HSM suspend): retentive exit 10-40 µs, non-retentive 100-500 µs",
    },
    serialiseNs: NA(
      "riscv trap return is not fetch-synchronising (MODEL.md); fence.i is used instead",
    ),
    cr3SwitchNs: NA("x86 only"),
    tlbFlushLocalNs: A(150, 0.3, "assumption: SFENCE.VMA of one page"),
    tlbFlushRemoteNs: A(8000, 0.5, "assumption: SBI remote sfence.vma (firmware IPIs each hart)"),
    pokeMapNs: A(500, 0.3, "assumption: patch_map() of FIX_TEXT_POKE0/1 under text_mutex"),
    dcLineNs: NA("riscv has no DC by VA in the base ISA"),
    icLineNs: NA("riscv has no IC by VA; fence.i is whole-cache"),
    dsbNs: NA("arm64 only"),
    isbNs: NA("arm64 only"),
    fenceNs: A(50, 0.3, "assumption: FENCE w,o / fence rw,rw"),
    fenceINs: A(
      500,
      0.5,
      "assumption: local fence.i (implementation dependent; may invalidate the whole I-cache)",
    ),
    sbiRemoteFenceIBaseNs: A(5000, 0.5, "assumption: SBI ecall entry/exit for sbi_remote_fence_i"),
    sbiRemoteFenceIPerHartNs: A(
      1500,
      0.5,
      "assumption: firmware IPI + fence.i + completion per remote hart",
    ),
    stopMachineBaseNs: A(
      30_000,
      0.4,
      "assumption: waking stopper threads and the multi_cpu_stop state machine",
    ),
    stopMachinePerCpuNs: A(
      2000,
      0.4,
      "assumption: per hart share of every stop_machine state step",
    ),
  },
};

/** Constants of one arch with overrides (a number replaces the value; an object replaces fields). */
export function withOverrides(
  arch: ArchName,
  overrides: Partial<Record<CostConstantName, number | Partial<CostConstant>>> = {},
): CostConstants {
  const base = DEFAULT_CONSTANTS[arch];
  if (!base) throw new Error(`costModel: unknown arch ${String(arch)}`);
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides) as [
    CostConstantName,
    number | Partial<CostConstant>,
  ][]) {
    if (!(k in base)) throw new Error(`costModel(${arch}): unknown constant ${k}`);
    if (typeof v === "number") {
      if (!Number.isFinite(v) || v < 0)
        throw new Error(`costModel(${arch}): ${k} must be a finite non-negative number`);
      out[k] = {
        ...base[k],
        value: v,
        source: `override from a cell (default ${base[k].value}: ${base[k].source})`,
      };
    } else
      out[k] = { ...base[k], ...v, source: v.source ?? `override from a cell (${base[k].source})` };
  }
  return out;
}
