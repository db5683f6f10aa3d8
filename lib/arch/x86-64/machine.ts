import type { ArchVariant } from "../types";
import { JIT_TEXT_WRITE, smpBarriers } from "../routines";

const SDM_XMC = 'Intel SDM vol. 3A, 9.1.3 "Handling Self- and Cross-Modifying Code"';
const SDM_SERIAL = 'Intel SDM vol. 3A, 9.3 "Serializing Instructions"';

/** x86-64 with legacy IDT event delivery. */
export const x86_64: ArchVariant = {
  name: "x86-64",
  family: "x86-64",
  description: "x86-64, legacy IDT: interrupt delivery and IRET are serialising",
  // SDM vol. 3A 9.2.2: stores are seen in program order by other processors (TSO).
  tso: true,
  // SDM vol. 3A 9.2.2: reads are not reordered with other reads, nor writes with older reads.
  loadsInOrder: true,
  // SDM 9.1.3: caches are coherent; a store invalidates the line in every I-cache.
  idc: true,
  dic: true,
  // SDM 9.1.3 "Self-modifying code": a write to a code address invalidates prefetched
  // instructions at that linear address on the same processor.
  fetchSeesOwnStores: true,
  smcSnoopLinear: true,
  exceptions: {
    entrySyncs: true,
    returnSyncs: true,
    drainsStores: true,
    cite: `${SDM_SERIAL}: IRET is serialising; event delivery through the IDT is treated as serialising`,
  },
  tlbCachesInvalid: false,
  // arch/x86/mm/fault.c spurious_kernel_fault(): "Only writes to RO or instruction fetches from
  // NX may cause spurious faults" (error code X86_PF_INSTR | X86_PF_PROT); a not-present fault
  // goes on to bad_area_nosemaphore() and, on kernel text, an oops.
  spuriousFetchFault: {
    notPresent: false,
    permission: true,
    cite: "arch/x86/mm/fault.c do_kern_addr_fault(), spurious_kernel_fault()",
  },
  // SDM vol. 3A 9.3: INVLPG is a privileged serialising instruction.
  tlbFlushSerialises: true,
  cmodxSafe: null,
  trapInsn: "int3",
  lineBytes: 64,
  instructions: {
    CPUID: { effect: "serialise", cite: SDM_SERIAL },
    IRET: { effect: "serialise", cite: SDM_SERIAL },
    "MOV CR3": { effect: "serialise", cite: SDM_SERIAL },
    SERIALIZE: { effect: "serialise", cite: SDM_SERIAL },
    WRMSR: { effect: "serialise", cite: SDM_SERIAL },
    MFENCE: {
      effect: "full-barrier",
      cite: "Intel SDM vol. 3A 9.2.2: MFENCE orders loads and stores",
    },
    "LOCK ADD": {
      effect: "full-barrier",
      cite: "Intel SDM vol. 3A 9.2.2: locked instructions drain the store buffer",
    },
    SFENCE: { effect: "none", cite: "Intel SDM vol. 3A 9.2.2: stores are already ordered (TSO)" },
    LFENCE: { effect: "none", cite: "Intel SDM vol. 3A 9.2.2: LFENCE does not drain stores" },
    INVLPG: {
      effect: "tlb-flush-local",
      cite: 'Intel SDM vol. 3A 4.10.4.1 "Operations that Invalidate TLBs"',
    },
  },
  macros: {
    // arch/x86/include/asm/sync_core.h: SERIALIZE if present, else IRET-to-self.
    sync_core: { steps: [{ insn: "SERIALIZE" }], cite: "arch/x86/include/asm/sync_core.h" },
    // arch/x86/kernel/alternative.c: text_poke_sync() = on_each_cpu(do_sync_core, NULL, 1).
    text_poke_sync: {
      steps: [{ ipi: "sync_core", self: true }],
      cite: "arch/x86/kernel/alternative.c text_poke_sync()",
    },
    // arch/x86/include/asm/cacheflush.h: flush_icache_range() is empty (coherent I-cache).
    flush_icache_range: {
      steps: [],
      cite: "include/asm-generic/cacheflush.h (x86 uses the empty default)",
    },
    // arch/x86/mm/tlb.c: flush_tlb_kernel_range() IPIs every CPU, each does INVLPG.
    flush_tlb_kernel_range: {
      steps: [{ ipi: "tlb_flush", self: true }],
      cite: "arch/x86/mm/tlb.c flush_tlb_kernel_range()",
    },
    // arch/x86/kernel/alternative.c __text_poke(): switch to the poking mm (MOV CR3), copy
    // through the temporary mapping, switch back (MOV CR3 serialises this CPU only).
    text_poke: {
      steps: [{ insn: "MOV CR3" }, { write: "version", via: "poke" }, { insn: "MOV CR3" }],
      cite: "arch/x86/kernel/alternative.c __text_poke(), text_poke()",
    },
    text_poke_copy: {
      steps: [{ macro: "text_poke" }],
      cite: "arch/x86/kernel/alternative.c text_poke_copy()",
    },
    text_poke_set: {
      steps: [{ insn: "MOV CR3" }, { write: "trap", via: "poke" }, { insn: "MOV CR3" }],
      cite: "arch/x86/kernel/alternative.c text_poke_set() (memset with int3)",
    },
    // arch/x86/kernel/alternative.c text_poke_bp_batch(): int3 on the site, sync, the tail, sync,
    // the first byte, sync; poke_int3_handler() emulates the new instruction meanwhile.
    text_poke_bp: {
      steps: [
        { bp: "set" },
        { insn: "MOV CR3" },
        { write: "trap", via: "poke", lines: "first" },
        { insn: "MOV CR3" },
        { macro: "text_poke_sync" },
        { insn: "MOV CR3" },
        { write: "version", via: "poke", lines: "rest" },
        { insn: "MOV CR3" },
        { macro: "text_poke_sync" },
        { insn: "MOV CR3" },
        { write: "version", via: "poke", lines: "first" },
        { insn: "MOV CR3" },
        { macro: "text_poke_sync" },
        { bp: "clear" },
      ],
      cite: "arch/x86/kernel/alternative.c text_poke_bp_batch()",
    },
    generic_text_poke: {
      steps: [{ macro: "text_poke_bp" }],
      cite: "arch/x86/kernel/alternative.c text_poke_bp()",
    },
    // The handle protocol of the thread: write while unmapped, then map ("no sync needed on x86").
    jit_text_write: JIT_TEXT_WRITE,
    jit_text_map: { steps: [{ pte: "RX" }], cite: "execmem thread, 2023-06-19 (handle protocol)" },
    // The ROX cache's jit_update() writes by text poking (execmem thread, 2023-06-25); upstream
    // execmem_update_copy() is text_poke_copy() (mm/execmem.c).
    jit_update: {
      steps: [{ macro: "text_poke_copy" }],
      cite: "mm/execmem.c execmem_update_copy()",
    },
    // arch/x86/net/bpf_jit_comp.c: text_poke_copy / text_poke_set, no text_poke_sync().
    bpf_arch_text_copy: {
      steps: [{ macro: "text_poke_copy" }],
      cite: "arch/x86/net/bpf_jit_comp.c bpf_arch_text_copy()",
    },
    bpf_arch_text_invalidate: {
      steps: [{ macro: "text_poke_set" }],
      cite: "arch/x86/net/bpf_jit_comp.c bpf_arch_text_invalidate()",
    },
    ...smpBarriers("arch/x86/include/asm/barrier.h", "LOCK ADD", null, null),
  },
  cites: {
    fetch: `${SDM_XMC}: instructions already fetched are not updated by another processor's store; the executing processor must serialise`,
    smc: 'Intel SDM vol. 3A 9.1.3 / 11.6 "Self-Modifying Code": stores to the same linear address invalidate prefetched instructions',
    tlb: "Intel SDM vol. 3A 4.10.2: the TLB caches only valid translations; 4.10.4.1: a page fault invalidates TLB entries for the faulting address",
  },
};
