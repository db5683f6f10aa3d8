import { variant, type ArchVariant } from "./types";

const ZIFENCEI = 'RISC-V Unprivileged ISA, chapter "Zifencei" (FENCE.I)';
const SFENCE = 'RISC-V Privileged ISA, "SFENCE.VMA" and "Svvptc"';

/** riscv64 with Zifencei, without Svvptc. */
export const riscv64: ArchVariant = {
  name: "riscv64",
  family: "riscv64",
  description: "riscv64 with Zifencei, without Svvptc",
  // RVWMO: stores to different addresses may become visible out of order.
  tso: false,
  // Loads are kept in program order on this model of RISC-V (RVWMO would allow reordering).
  loadsInOrder: true,
  // Data caches are coherent (RVWMO); instruction fetch is not coherent with stores until FENCE.I.
  idc: true,
  dic: false,
  fetchSeesOwnStores: false,
  smcSnoopLinear: false,
  exceptions: {
    entrySyncs: false,
    returnSyncs: false,
    drainsStores: false,
    cite: `${ZIFENCEI}: trap entry and return do not synchronise instruction fetch`,
  },
  // Without Svvptc a hart may keep using an invalid translation until SFENCE.VMA.
  tlbCachesInvalid: true,
  tlbFlushSerialises: false,
  cmodxSafe: null,
  trapInsn: "EBREAK",
  lineBytes: 64,
  instructions: {
    "fence.i": {
      effect: "fence.i",
      cite: `${ZIFENCEI}: makes this hart's fetches see stores already visible to it`,
    },
    fence: { effect: "full-barrier", cite: "RISC-V Unprivileged ISA, RVWMO FENCE" },
    "fence rw,rw": { effect: "full-barrier", cite: "RISC-V Unprivileged ISA, RVWMO FENCE" },
    "fence w,w": { effect: "store-barrier", cite: "RISC-V Unprivileged ISA, RVWMO FENCE" },
    "fence w,o": { effect: "store-barrier", cite: "RISC-V Unprivileged ISA, RVWMO FENCE" },
    "fence r,r": {
      effect: "none",
      cite: "RISC-V Unprivileged ISA (loads execute in order in the model)",
    },
    "sfence.vma": { effect: "tlb-flush-local", cite: SFENCE },
  },
  macros: {
    // arch/riscv/mm/cacheflush.c flush_icache_all(): local_flush_icache_all(), then
    // sbi_remote_fence_i() (or an IPI running fence.i) on the other harts.
    flush_icache_all: {
      steps: [{ insn: "fence.i" }, { insn: "fence w,o" }, { ipi: "fence.i", self: false }],
      cite: "arch/riscv/mm/cacheflush.c flush_icache_all()",
    },
    // arch/riscv/mm/tlbflush.c flush_tlb_kernel_range(): local sfence.vma + remote (SBI or IPI).
    flush_tlb_kernel_range: {
      steps: [{ ipi: "tlb_flush", self: true }],
      cite: "arch/riscv/mm/tlbflush.c flush_tlb_kernel_range()",
    },
    // arch/riscv/kernel/patch.c: write through FIX_TEXT_POKE0, then flush the local I-cache.
    // patch_insn_write() through FIX_TEXT_POKE0, then flush_icache_range() == flush_icache_all().
    patch_text_nosync: {
      steps: [{ write: "version", via: "poke" }, { macro: "flush_icache_all" }],
      cite: "arch/riscv/kernel/patch.c patch_text_nosync()",
    },
    // stop_machine(): the last CPU writes; every CPU then runs local_flush_icache_all().
    patch_text: {
      steps: [
        {
          stop_machine: "fence.i",
          patch: [{ write: "version", via: "poke" }, { insn: "fence.i" }],
        },
      ],
      cite: "arch/riscv/kernel/patch.c patch_text(), patch_text_cb()",
    },
    generic_text_poke: { steps: [{ macro: "patch_text" }], cite: "arch/riscv/kernel/patch.c" },
    jit_update: {
      steps: [{ macro: "patch_text_nosync" }],
      cite: "arch/riscv/kernel/patch.c patch_text_nosync()",
    },
    jit_text_write: {
      steps: [{ write: "version", via: "direct-map" }],
      cite: "execmem thread, 2023-06-19 (handle protocol)",
    },
    jit_text_map: {
      steps: [{ macro: "flush_icache_all" }, { pte: "RX" }],
      cite: "execmem thread, 2023-06-19 (handle protocol); arch/riscv/mm/cacheflush.c",
    },
    bpf_arch_text_copy: {
      steps: [{ macro: "patch_text_nosync" }],
      cite: "arch/riscv/net/bpf_jit_core.c bpf_arch_text_copy() -> patch_text_nosync()",
    },
    // Fills with zeros, an illegal instruction: the model's trap fill.
    bpf_arch_text_invalidate: {
      steps: [{ write: "trap", via: "poke" }, { macro: "flush_icache_all" }],
      cite: "arch/riscv/net/bpf_jit_core.c bpf_arch_text_invalidate() -> patch_text_set_nosync(dst, 0, len)",
    },
    smp_mb: { steps: [{ insn: "fence rw,rw" }], cite: "arch/riscv/include/asm/barrier.h" },
    smp_wmb: { steps: [{ insn: "fence w,w" }], cite: "arch/riscv/include/asm/barrier.h" },
    smp_rmb: { steps: [{ insn: "fence r,r" }], cite: "arch/riscv/include/asm/barrier.h" },
  },
  cites: {
    fetch: `${ZIFENCEI}: FENCE.I does nothing for other harts`,
    tlb: `${SFENCE}: without Svvptc an earlier invalid PTE may be used until SFENCE.VMA`,
  },
};

/** riscv64 with Svvptc: a PTE that became valid is seen by the page walker in bounded time. */
export const riscv64_svvptc = variant(riscv64, {
  name: "riscv64+svvptc",
  description: "riscv64 with Zifencei and Svvptc",
  tlbCachesInvalid: false,
  cites: { svvptc: `${SFENCE}: Svvptc` },
});
