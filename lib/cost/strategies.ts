// Publish and patch strategies as data: each is a list of named steps whose cost is a formula
// over the named constants (constants.ts), the CPU count and the size of the change.
//   x86:   arch/x86/kernel/alternative.c (__text_poke, text_poke, text_poke_copy, text_poke_sync,
//          text_poke_bp_batch)
//   arm64: arch/arm64/kernel/patching.c (aarch64_insn_patch_text_nosync, aarch64_insn_patch_text
//          via stop_machine), arch/arm64/include/asm/cacheflush.h (flush_icache_range +
//          kick_all_cpus_sync)
//   riscv: arch/riscv/kernel/patch.c (patch_text_nosync, patch_text via stop_machine),
//          arch/riscv/mm/cacheflush.c (flush_icache_all: local fence.i, fence w,o, SBI remote
//          fence.i or IPIs)
//   A5: Andy Lutomirski's sequence (thread, 06-20); A4: jit_text_map of the handle protocol.
import { ARCHES, type ArchName } from "../arch";
import type { CostConstantName } from "./constants";

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
  /** Which argument(s) of ARGUMENTS.md use it. */
  args: readonly string[];
  description: string;
  /** Default size of the change (bytes) and batch size. */
  bytes: number;
  sites: number;
  steps: readonly CostStep[];
}

const step = (name: string, formula: string, cost: (c: CostCtx) => number): CostStep => ({
  name,
  formula,
  cost,
});

// ------------------------------------------------------------------ x86-64

const x86Poke = (times: string, n: (c: CostCtx) => number): CostStep[] => [
  step(`map poking_mm page (${times})`, `${times} × pokeMapNs`, (c) => n(c) * c.k("pokeMapNs")),
  step(
    `CR3 switch to poking_mm and back (${times})`,
    `${times} × 2 × cr3SwitchNs`,
    (c) => n(c) * 2 * c.k("cr3SwitchNs"),
  ),
  step(
    `copy (${times})`,
    `${times} × lines × copyNsPerLine`,
    (c) => n(c) * Math.max(1, c.lines) * c.k("copyNsPerLine"),
  ),
  step(
    `local TLB flush of the poking address (${times})`,
    `${times} × tlbFlushLocalNs`,
    (c) => n(c) * c.k("tlbFlushLocalNs"),
  ),
];
const x86Sync = (label: string): CostStep =>
  step(
    `text_poke_sync ${label}`,
    "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs if idle]) + serialiseNs + ipiAckNs",
    (c) => c.syncIpi(["serialiseNs"]),
  );

const x86: Strategy[] = [
  {
    name: "text_poke",
    arch: "x86-64",
    args: ["A13"],
    description:
      "__text_poke through the temporary mm; the CR3 write serialises the poking CPU only; no cross-CPU sync",
    bytes: 5,
    sites: 1,
    steps: x86Poke("1", () => 1),
  },
  {
    name: "text_poke_bp",
    arch: "x86-64",
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
    arch: "x86-64",
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
    arch: "x86-64",
    args: ["A6"],
    description: "bpf_arch_text_copy: text_poke_copy without text_poke_sync (Nadav's question)",
    bytes: 4096,
    sites: 1,
    steps: x86Poke("1", () => 1),
  },
];

// ------------------------------------------------------------------ arm64

const armFixmapWrite: CostStep[] = [
  step("map FIX_TEXT_POKE0", "pokeMapNs", (c) => c.k("pokeMapNs")),
  step("write", "lines × copyNsPerLine", (c) => Math.max(1, c.lines) * c.k("copyNsPerLine")),
  step("unmap fixmap + local TLBI", "tlbFlushLocalNs", (c) => c.k("tlbFlushLocalNs")),
];
const armMaintenance: CostStep[] = [
  step("DC CVAU over the range", "lines × dcLineNs", (c) => Math.max(1, c.lines) * c.k("dcLineNs")),
  step("DSB ISH", "dsbNs", (c) => c.k("dsbNs")),
  step("IC IVAU over the range", "lines × icLineNs", (c) => Math.max(1, c.lines) * c.k("icLineNs")),
  step("DSB ISH", "dsbNs", (c) => c.k("dsbNs")),
  step("ISB", "isbNs", (c) => c.k("isbNs")),
];
const kickAll = step(
  "kick_all_cpus_sync",
  "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs]) + exception return (serialiseNs) + ipiAckNs",
  (c) => c.syncIpi(["serialiseNs"]),
);

const arm64: Strategy[] = [
  {
    name: "aarch64_insn_patch_text_nosync+flush_icache_range",
    arch: "arm64",
    args: ["A13", "A6"],
    description:
      "write through the fixmap, clean/invalidate to PoU, then flush_icache_range's IPI to every CPU",
    bytes: 4,
    sites: 1,
    steps: [...armFixmapWrite, ...armMaintenance, kickAll],
  },
  {
    name: "aarch64_insn_patch_text",
    arch: "arm64",
    args: ["A13"],
    description: "stop_machine: the last CPU to arrive patches (nosync), the others spin then ISB",
    bytes: 4,
    sites: 1,
    steps: [
      step("stop_machine rendezvous", "stopMachineBaseNs + cpus × stopMachinePerCpuNs", (c) =>
        c.stopMachine(),
      ),
      ...armFixmapWrite,
      ...armMaintenance,
      step("others: ISB", "isbNs (in parallel)", (c) => (c.cpus > 1 ? c.k("isbNs") : 0)),
    ],
  },
];

// ------------------------------------------------------------------ riscv64

const rvFixmapWrite: CostStep[] = [
  step("patch_map FIX_TEXT_POKE0", "pokeMapNs", (c) => c.k("pokeMapNs")),
  step("write", "lines × copyNsPerLine", (c) => Math.max(1, c.lines) * c.k("copyNsPerLine")),
  step("patch_unmap + local sfence.vma", "tlbFlushLocalNs", (c) => c.k("tlbFlushLocalNs")),
];
const rvFlushAll = (how: "sbi" | "ipi"): CostStep[] => [
  step("local fence.i", "fenceINs", (c) => c.k("fenceINs")),
  step("fence w,o", "fenceNs", (c) => (c.cpus > 1 ? c.k("fenceNs") : 0)),
  how === "sbi"
    ? step(
        "SBI remote fence.i",
        "sbiRemoteFenceIBaseNs + (cpus-1) × sbiRemoteFenceIPerHartNs",
        (c) => c.sbiRemoteFenceI(),
      )
    : step(
        "IPI running fence.i on every hart",
        "(cpus-1) × ipiSendNs + max over targets (ipiDeliveryNs [+ idleWakeNs]) + fenceINs + ipiAckNs",
        (c) => c.syncIpi(["fenceINs"]),
      ),
];

const riscv64: Strategy[] = [
  {
    name: "patch_text_nosync+flush_icache_all(sbi)",
    arch: "riscv64",
    args: ["A13"],
    description: "patch through the fixmap, local fence.i, then SBI remote fence.i",
    bytes: 4,
    sites: 1,
    steps: [...rvFixmapWrite, ...rvFlushAll("sbi")],
  },
  {
    name: "patch_text_nosync+flush_icache_all(ipi)",
    arch: "riscv64",
    args: ["A13"],
    description: "patch through the fixmap, local fence.i, then IPIs running fence.i",
    bytes: 4,
    sites: 1,
    steps: [...rvFixmapWrite, ...rvFlushAll("ipi")],
  },
  {
    name: "patch_text",
    arch: "riscv64",
    args: ["A13"],
    description: "stop_machine: the last CPU writes, the others spin then fence.i",
    bytes: 4,
    sites: 1,
    steps: [
      step("stop_machine rendezvous", "stopMachineBaseNs + cpus × stopMachinePerCpuNs", (c) =>
        c.stopMachine(),
      ),
      ...rvFixmapWrite,
      step("local fence.i", "fenceINs", (c) => c.k("fenceINs")),
      step("others: fence.i", "fenceINs (in parallel)", (c) => (c.cpus > 1 ? c.k("fenceINs") : 0)),
    ],
  },
];

// ------------------------------------------------------------------ A5 and the handle protocol (A4)

/** Per-arch "zap the direct map" (set_direct_map_invalid + flush_tlb_kernel_range). */
const zapStep = (arch: ArchName): CostStep =>
  arch === "x86-64"
    ? step(
        "zap direct map: PTE clear + TLB shootdown IPI",
        "pteWriteNs + syncIpi(tlbFlushLocalNs)",
        (c) => c.k("pteWriteNs") + c.syncIpi(["tlbFlushLocalNs"]),
      )
    : arch === "arm64"
      ? step(
          "zap direct map: PTE clear + TLBI broadcast",
          "pteWriteNs + tlbFlushRemoteNs",
          (c) => c.k("pteWriteNs") + c.k("tlbFlushRemoteNs"),
        )
      : step(
          "zap direct map: PTE clear + SBI remote sfence.vma",
          "pteWriteNs + tlbFlushRemoteNs",
          (c) => c.k("pteWriteNs") + c.k("tlbFlushRemoteNs"),
        );

/** What jit_text_map must do per arch before the PTE (A4). */
const mapSync = (arch: ArchName): CostStep[] =>
  arch === "x86-64"
    ? []
    : arch === "arm64"
      ? armMaintenance.slice(0, 4)
      : [
          step("local fence.i", "fenceINs", (c) => c.k("fenceINs")),
          step(
            "fence.i on every hart (SBI remote fence.i)",
            "sbiRemoteFenceIBaseNs + (cpus-1) × sbiRemoteFenceIPerHartNs",
            (c) => c.sbiRemoteFenceI(),
          ),
        ];

const localBarrier = (arch: ArchName): CostStep =>
  arch === "arm64"
    ? step("local barrier (DSB)", "dsbNs", (c) => c.k("dsbNs"))
    : step("local barrier", "fenceNs", (c) => c.k("fenceNs"));

function a5(arch: ArchName, zap: boolean): Strategy {
  return {
    name: zap ? "A5 sequence (zap direct map)" : "A5 sequence",
    arch,
    args: ["A5"],
    description:
      "allocate pages, write via the direct map, local barrier, [zap the direct map], per-arch maintenance, install RX PTE, store-release flag",
    bytes: 4096,
    sites: 1,
    steps: [
      step(
        "allocate pages",
        "ceil(bytes/4096) × allocPagesNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("allocPagesNs"),
      ),
      step("write via direct map", "lines × copyNsPerLine", (c) => c.lines * c.k("copyNsPerLine")),
      localBarrier(arch),
      ...(zap ? [zapStep(arch)] : []),
      ...mapSync(arch),
      step(
        "install RX PTE",
        "ceil(bytes/4096) × pteWriteNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("pteWriteNs"),
      ),
      step("store-release flag", "fenceNs", (c) => c.k("fenceNs")),
    ],
  };
}

function handleMap(arch: ArchName): Strategy {
  return {
    name: "jit_text_map",
    arch,
    args: ["A4"],
    description: "handle protocol: the synchronisation jit_text_map() does per arch, then the PTEs",
    bytes: 4096,
    sites: 1,
    steps: [
      ...mapSync(arch),
      step(
        "install RX PTE",
        "ceil(bytes/4096) × pteWriteNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("pteWriteNs"),
      ),
    ],
  };
}

export const STRATEGIES: readonly Strategy[] = [
  ...x86,
  ...arm64,
  ...riscv64,
  ...ARCHES.flatMap((a) => [a5(a, false), a5(a, true), handleMap(a)]),
];

/** The text-publishing strategies modelled for an architecture, in the order they are plotted. */
export function strategiesFor(arch: ArchName): Strategy[] {
  return STRATEGIES.filter((s) => s.arch === arch);
}
