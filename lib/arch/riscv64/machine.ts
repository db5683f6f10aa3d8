import { variant, type ArchVariant, type Effect, type InsnRule } from "../types";
import { JIT_TEXT_WRITE, pokeThen, smpBarriers } from "../routines";

const ZIFENCEI = 'RISC-V Unprivileged ISA, chapter "Zifencei" (FENCE.I)';
const SFENCE = 'RISC-V Privileged ISA, "SFENCE.VMA" and "Svvptc"';
const FENCE = "RISC-V Unprivileged ISA, RVWMO, FENCE predecessor/successor sets";

/**
 * FENCE pred,succ by what it must order in the model: earlier stores before later loads needs
 * the store buffer drained; stores before stores is a store barrier; stores before device
 * output (o: an IPI's MMIO write) is a device barrier; loads already perform in order.
 */
function fences(): Record<string, InsnRule> {
  const out: Record<string, InsnRule> = {};
  const sets = ["r", "w", "rw", "o", "iorw"];
  for (const p of sets)
    for (const q of sets) {
      let effect: Effect;
      if (p.includes("w") && q.includes("r")) effect = "full-barrier";
      else if (p.includes("w") && q.includes("w")) effect = "store-barrier";
      else if (p.includes("w") && q.includes("o")) effect = "device-barrier";
      else if (p === "o" || q === "o") continue;
      else effect = "none";
      out[`fence ${p},${q}`] = {
        effect,
        cite: `${FENCE}${effect === "none" ? " (loads perform in program order in the model)" : ""}`,
      };
    }
  // FENCE with no operands is FENCE iorw,iorw.
  out.fence = { effect: "full-barrier", cite: FENCE };
  return out;
}

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
  // Without Ziccid nothing but FENCE.I relates a hart's fetches to its stores: a fetch may see
  // the hart's own buffered store early, and be performed after later loads and stores.
  fetchMaySeeOwnStores: true,
  lateFetch: true,
  // arch/riscv/mm/cacheflush.c flush_icache_all(): "IPIs on RISC-V are triggered by MMIO writes
  // to either CLINT or S-IMSIC", ordered after earlier stores only by RISCV_FENCE(w, o).
  ipiOrder: "device-barrier",
  exceptions: {
    entrySyncs: false,
    returnSyncs: false,
    drainsStores: false,
    cite: `${ZIFENCEI}: trap entry and return do not synchronise instruction fetch`,
  },
  // Without Svvptc a hart may keep using an invalid translation until SFENCE.VMA.
  tlbCachesInvalid: true,
  // arch/riscv/kernel/entry.S new_vmalloc_check: an EXC_INST_PAGE_FAULT on a kernel address
  // after a new vmalloc mapping flushes the local TLB and returns to retry the fetch.
  spuriousFetchFault: {
    notPresent: true,
    permission: true,
    cite: "arch/riscv/kernel/entry.S new_vmalloc_check",
  },
  tlbFlushSerialises: false,
  cmodxSafe: null,
  trapInsn: "EBREAK",
  lineBytes: 64,
  instructions: {
    "fence.i": {
      effect: "fence.i",
      cite: `${ZIFENCEI}: makes this hart's fetches see stores already visible to it`,
    },
    ...fences(),
    "sfence.vma": { effect: "tlb-flush-local", cite: SFENCE },
  },
  macros: {
    // arch/riscv/mm/cacheflush.c flush_icache_all(): local_flush_icache_all(), then
    // sbi_remote_fence_i() (or an IPI running fence.i) on the other harts.
    flush_icache_all: {
      steps: [
        { macro: "local_flush_icache_all" },
        { insn: "fence w,o" },
        { macro: "sbi_remote_fence_i" },
      ],
      cite: "arch/riscv/mm/cacheflush.c flush_icache_all()",
    },
    local_flush_icache_all: {
      steps: [{ insn: "fence.i" }],
      cite: "arch/riscv/include/asm/cacheflush.h local_flush_icache_all()",
    },
    // The SBI call or the IPI (on_each_cpu(ipi_remote_fence_i)) runs fence.i on every other
    // hart and is waited for; it is a device write like any riscv IPI.
    sbi_remote_fence_i: {
      steps: [{ ipi: "fence.i", self: false }],
      cite: "arch/riscv/kernel/sbi.c sbi_remote_fence_i(); arch/riscv/mm/cacheflush.c ipi_remote_fence_i()",
    },
    // arch/riscv/mm/tlbflush.c flush_tlb_kernel_range(): local sfence.vma + remote (SBI or IPI).
    flush_tlb_kernel_range: {
      steps: [{ ipi: "tlb_flush", self: true }],
      cite: "arch/riscv/mm/tlbflush.c flush_tlb_kernel_range()",
    },
    // arch/riscv/kernel/patch.c: write through FIX_TEXT_POKE0, then flush the local I-cache.
    // patch_insn_write() through FIX_TEXT_POKE0, then flush_icache_range() == flush_icache_all().
    patch_text_nosync: {
      steps: pokeThen("version", "flush_icache_all"),
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
    jit_text_write: JIT_TEXT_WRITE,
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
      steps: pokeThen("trap", "flush_icache_all"),
      cite: "arch/riscv/net/bpf_jit_core.c bpf_arch_text_invalidate() -> patch_text_set_nosync(dst, 0, len)",
    },
    ...smpBarriers("arch/riscv/include/asm/barrier.h", "fence rw,rw", "fence w,w", "fence r,r"),
  },
  cites: {
    fetch: `${ZIFENCEI}: FENCE.I does nothing for other harts`,
    fetchMaySeeOwnStores: `${ZIFENCEI}: without FENCE.I a fetch may or may not see the hart's stores`,
    lateFetch: `${ZIFENCEI}: without Ziccid only FENCE.I orders fetches after earlier data accesses`,
    ipiOrder: "arch/riscv/mm/cacheflush.c flush_icache_all(): RISCV_FENCE(w, o) before the IPI",
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
