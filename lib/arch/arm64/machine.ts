import type { ArchVariant, MacroStep } from "../types";
import { JIT_TEXT_WRITE, pokeThen, smpBarriers } from "../routines";

const ARM_CMODX =
  'Arm ARM (DDI 0487) B2.2.5 "Concurrent modification and execution of instructions"';
const ARM_IMAINT = 'Arm ARM (DDI 0487) D7.5.9 "Instruction cache maintenance"';
const ARM_CSE = 'Arm ARM (DDI 0487) "Context synchronization event" (glossary)';

/**
 * arch/arm64/mm/cache.S caches_clean_inval_pou without its closing ISB: clean the lines to the
 * PoU, wait, invalidate them in every I-cache, wait.
 */
export const POU_MAINTENANCE: readonly MacroStep[] = [
  { insn: "DC CVAU", perLine: true },
  { insn: "DSB ISH" },
  { insn: "IC IVAU", perLine: true },
  { insn: "DSB ISH" },
];

/** arm64 with CTR_EL0.IDC=0, DIC=0 and SCTLR_EL1.EIS=EOS=1 (what Linux sets). */
export const arm64: ArchVariant = {
  name: "arm64",
  family: "arm64",
  description: "arm64, CTR_EL0.IDC=0 DIC=0, SCTLR_EL1.EIS=EOS=1",
  // Arm ARM B2.3: stores to different locations may become visible out of order.
  tso: false,
  // Arm ARM B2.3 "Definition of the Armv8 memory model": a load is ordered before later
  // accesses only by a dependency (address, data, control to a store), a barrier (DMB/DSB),
  // load-acquire / store-release, or coherence (same location).
  loadsInOrder: false,
  // Arm ARM B2.3: a store-release is ordered before a later load-acquire (LDAR is RCsc).
  acquireAfterRelease: true,
  // Arm ARM D7.5.9 / D17.2.33 CTR_EL0: without IDC, data must be cleaned to the PoU (DC CVAU)
  // before instruction fetch can see it; without DIC, the I-cache must be invalidated (IC IVAU).
  idc: false,
  dic: false,
  fetchSeesOwnStores: false,
  smcSnoopLinear: false,
  exceptions: {
    entrySyncs: true,
    returnSyncs: true,
    drainsStores: false,
    cite: `${ARM_CSE}: exception entry and return, unless FEAT_ExS and SCTLR_EL1.EIS/EOS = 0`,
  },
  tlbCachesInvalid: false,
  // arch/arm64/mm/fault.c: is_spurious_el1_translation_fault() accepts EL1 *data* aborts only;
  // an EL1 instruction abort on a kernel address reaches __do_kernel_fault() and
  // die_kernel_fault() (do_translation_fault() -> do_bad_area()).
  spuriousFetchFault: {
    notPresent: false,
    permission: false,
    cite: "arch/arm64/mm/fault.c is_spurious_el1_translation_fault(), __do_kernel_fault()",
  },
  tlbFlushSerialises: false,
  // Arm ARM B2.2.5: only B, BL, NOP, BRK, SVC, HVC, SMC, ISB may be concurrently modified.
  cmodxSafe: ["B", "BL", "NOP", "BRK", "SVC", "HVC", "SMC", "ISB"],
  trapInsn: "BRK",
  lineBytes: 64,
  instructions: {
    ISB: { effect: "context-sync", cite: `${ARM_CSE}: ISB` },
    "DMB ISH": { effect: "full-barrier", cite: "Arm ARM B2.3.7 DMB" },
    "DMB SY": { effect: "full-barrier", cite: "Arm ARM B2.3.7 DMB" },
    "DMB ISHST": { effect: "store-barrier", cite: "Arm ARM B2.3.7 DMB ST" },
    "DMB ISHLD": {
      effect: "load-barrier",
      cite: "Arm ARM B2.3.7 DMB LD: orders earlier loads before later loads and stores",
    },
    "DSB ISH": {
      effect: "dsb",
      cite: "Arm ARM B2.3.8 DSB: waits for cache maintenance to complete",
    },
    "DSB SY": { effect: "dsb", cite: "Arm ARM B2.3.8 DSB" },
    "DSB NSH": {
      effect: "dsb-local",
      cite: "Arm ARM B2.3.8 DSB: non-shareable domain, this PE only",
    },
    "DSB ISHST": {
      effect: "store-fence",
      cite: "Arm ARM D7.5.9.15: only a DMB or DSB of loads and stores orders cache maintenance",
    },
    "DC CVAU": { effect: "clean-to-pou", cite: ARM_IMAINT },
    // Arm's formal model of B2.3 (herdtools7 aarch64.cat with cm-after.cat, written by Arm's
    // memory-model team) orders instruction fetch after DC CVAU alone: a DC CIVAC cleans for
    // data observers (PoC) and has no role for fetch. docs/litmus.md §DC CIVAC and instruction fetch.
    "DC CIVAC": {
      effect: "clean-to-poc",
      cite: "Arm ARM B2.3, as formalised in aarch64.cat: only DC CVAU makes a write visible to fetch",
    },
    "IC IVAU": {
      effect: "icache-invalidate-line",
      cite: `${ARM_IMAINT}: IC IVAU is broadcast to the Inner Shareable domain`,
    },
    "IC IALLU": { effect: "icache-invalidate-local", cite: ARM_IMAINT },
    "IC IALLUIS": { effect: "icache-invalidate-all", cite: ARM_IMAINT },
    "TLBI VAALE1IS": { effect: "tlb-flush-broadcast", cite: 'Arm ARM D8.13 "TLB maintenance"' },
    "TLBI VMALLE1IS": { effect: "tlb-flush-broadcast", cite: 'Arm ARM D8.13 "TLB maintenance"' },
    "TLBI VMALLE1": { effect: "tlb-flush-local", cite: 'Arm ARM D8.13 "TLB maintenance"' },
  },
  macros: {
    // arch/arm64/mm/cacheflush.c + arch/arm64/mm/cache.S caches_clean_inval_pou, then
    // kick_all_cpus_sync() (arch/arm64/include/asm/cacheflush.h flush_icache_range()).
    flush_icache_range: {
      steps: [...POU_MAINTENANCE, { insn: "ISB" }, { ipi: "none", self: false }],
      cite: "arch/arm64/include/asm/cacheflush.h flush_icache_range(), arch/arm64/mm/cache.S",
    },
    kick_all_cpus_sync: {
      steps: [{ ipi: "none", self: false }],
      cite: "kernel/smp.c kick_all_cpus_sync()",
    },
    // arch/arm64/include/asm/tlbflush.h flush_tlb_kernel_range(): TLBI VAALE1IS, DSB ISH, ISB.
    flush_tlb_kernel_range: {
      steps: [{ insn: "TLBI VAALE1IS" }, { insn: "DSB ISH" }, { insn: "ISB" }],
      cite: "arch/arm64/include/asm/tlbflush.h flush_tlb_kernel_range()",
    },
    // arch/arm64/kernel/patching.c: write through FIX_TEXT_POKE0, then caches_clean_inval_pou()
    // of those bytes (DC CVAU, DSB ISH, IC IVAU, DSB ISH), on this CPU only.
    aarch64_insn_patch_text_nosync: {
      steps: [{ write: "version", via: "poke" }, ...POU_MAINTENANCE, { insn: "ISB" }],
      cite: "arch/arm64/kernel/patching.c aarch64_insn_patch_text_nosync() -> caches_clean_inval_pou() (arch/arm64/mm/cache.S)",
    },
    // stop_machine(): the last CPU to arrive patches; the others spin, then ISB.
    aarch64_insn_patch_text: {
      steps: [{ stop_machine: "isb", patch: [{ macro: "aarch64_insn_patch_text_nosync" }] }],
      cite: "arch/arm64/kernel/patching.c aarch64_insn_patch_text(), aarch64_insn_patch_text_cb()",
    },
    generic_text_poke: {
      steps: [{ macro: "aarch64_insn_patch_text" }],
      cite: "arch/arm64/kernel/patching.c",
    },
    // The handle protocol: maintenance before the PTE is made valid (Mark Rutland, 2023-06-26).
    jit_text_write: JIT_TEXT_WRITE,
    jit_text_map: {
      steps: [...POU_MAINTENANCE, { pte: "RX" }],
      cite: "execmem thread, 2023-06-26 (maintenance before marking the mapping executable)",
    },
    jit_update: {
      steps: pokeThen("version", "flush_icache_range"),
      cite: "arch/arm64/kernel/patching.c aarch64_insn_copy() (text poking, then flush_icache_range())",
    },
    // arch/arm64/net/bpf_jit_comp.c -> aarch64_insn_copy()/aarch64_insn_set(): patch, then
    // flush_icache_range() (which IPIs every CPU).
    bpf_arch_text_copy: {
      steps: pokeThen("version", "flush_icache_range"),
      cite: "arch/arm64/kernel/patching.c aarch64_insn_copy()",
    },
    bpf_arch_text_invalidate: {
      steps: pokeThen("trap", "flush_icache_range"),
      cite: "arch/arm64/kernel/patching.c aarch64_insn_set()",
    },
    ...smpBarriers("arch/arm64/include/asm/barrier.h", "DMB ISH", "DMB ISHST", "DMB ISHLD"),
  },
  cites: {
    fetch: `${ARM_CMODX}; Simner et al., "ARMv8-A system semantics: instruction fetch in relaxed architectures" (ESOP 2020)`,
    icache: `${ARM_IMAINT}: the I-cache is not coherent with data writes`,
    evict: "Arm ARM D7.4: caches may allocate, clean and evict lines at any time",
    tlb: 'Arm ARM D8.14 "Translation Lookaside Buffers": only valid translations are cached',
  },
};
