import type { ArchCost } from "./cost";
import type { ArchExecmem } from "./execmem";
/**
 * An architecture variant is data plus a few hooks (like the per-arch tables of mm/execmem.c).
 * The machine (lib/machine) implements each primitive effect once; an architecture says which of
 * its instructions and events produce which effect, and cites the text it models.
 */

/** The primitive effects the machine knows. Each instruction of an architecture maps to one. */
export type Effect =
  /** Drain the store buffer, then empty the fetch pipeline (x86 serialising instructions). */
  | "serialise"
  /** Empty the fetch pipeline (arm64 ISB: context synchronisation event). */
  | "context-sync"
  /** Wait until the store buffer is empty (smp_mb, DMB ISH, fence rw,rw); orders DC CVAU too. */
  | "full-barrier"
  /** Earlier loads are performed before later loads and stores (DMB ISHLD). */
  | "load-barrier"
  /** Wait until the store buffer is empty, without ordering cache maintenance (DSB ISHST). */
  | "store-fence"
  /** Later stores may not become visible before earlier ones (smp_wmb, DMB ISHST, fence w,w). */
  | "store-barrier"
  /** Full barrier that also waits for this CPU's cache maintenance to complete (DSB ISH). */
  | "dsb"
  /** DSB NSH: like dsb, but maintenance completes for this CPU only. */
  | "dsb-local"
  /** Clean a data cache line to the point of unification (DC CVAU). */
  | "clean-to-pou"
  /**
   * Clean (and invalidate) a data cache line to the point of coherency (DC CIVAC): for data
   * observers only; it does not make a write visible to instruction fetch.
   */
  | "clean-to-poc"
  /** Invalidate an instruction cache line in every CPU (IC IVAU, broadcast inner-shareable). */
  | "icache-invalidate-line"
  /** Invalidate every line of this CPU's instruction cache (IC IALLU). */
  | "icache-invalidate-local"
  /** Invalidate every line of every CPU's instruction cache (IC IALLUIS). */
  | "icache-invalidate-all"
  /** RISC-V FENCE.I: own stores reach own fetch, local I-cache and pipeline emptied. */
  | "fence.i"
  /** Flush this CPU's TLB (INVLPG, SFENCE.VMA, TLBI local). */
  | "tlb-flush-local"
  /** Flush every CPU's TLB by broadcast (TLBI ...IS + DSB). */
  | "tlb-flush-broadcast"
  /** Later device writes (an IPI, an SBI call) wait for this CPU's earlier stores (fence w,o). */
  | "device-barrier"
  /** Executes nothing (a compiler barrier, or an instruction with no effect in the model). */
  | "none";

/** Maintenance by address acts on one line (the other effects take no address). */
export function takesAddress(e: Effect): boolean {
  return e === "clean-to-pou" || e === "clean-to-poc" || e === "icache-invalidate-line";
}

export interface InsnRule {
  effect: Effect;
  /** Spec section this rule models. */
  cite: string;
}

/** How an IPI handler or an interrupt is taken on the receiving CPU. */
export interface ExceptionRules {
  /** Exception/interrupt entry is a context-synchronising (serialising) event. */
  entrySyncs: boolean;
  /** Exception return (IRET / ERET / SRET) is a context-synchronising (serialising) event. */
  returnSyncs: boolean;
  /** Entry and return also drain the store buffer (x86 serialising events). */
  drainsStores: boolean;
  cite: string;
}

/** The kernel's spurious-fault handling for instruction fetches from kernel addresses. */
export interface SpuriousFaultRules {
  /** A fault taken on a not-present (invalid) translation. */
  notPresent: boolean;
  /** A permission fault taken on a present translation without execute permission. */
  permission: boolean;
  cite: string;
}

/** An architecture's one name, as scenarios, litmus files and every API spell it. */
export type ArchName = "x86-64" | "arm64" | "riscv64";
/** The architecture a variant belongs to. */
export type Family = ArchName;

/** A kernel routine that the architecture implements as a sequence of primitives. */
export type MacroName =
  | "sync_core"
  | "text_poke"
  | "text_poke_copy"
  | "text_poke_set"
  | "text_poke_bp"
  | "aarch64_insn_patch_text_nosync"
  | "aarch64_insn_patch_text"
  | "patch_text_nosync"
  | "patch_text"
  | "generic_text_poke"
  | "jit_text_write"
  | "jit_text_map"
  | "bpf_arch_text_copy"
  | "jit_update"
  | "bpf_arch_text_invalidate"
  | "text_poke_sync"
  | "flush_icache_range"
  | "flush_icache_all"
  | "kick_all_cpus_sync"
  | "flush_tlb_kernel_range"
  | "local_flush_icache_all"
  | "sbi_remote_fence_i"
  | "smp_mb"
  | "smp_wmb"
  | "smp_rmb";

/** One step of a macro expansion. `lines` ops take the region the macro is applied to. */
export type MacroStep =
  | { insn: string; perLine?: boolean }
  | { ipi: "sync_core" | "none" | "fence.i" | "tlb_flush"; self: boolean }
  /** Write the macro's version (or the trap fill) into the region through an alias. */
  | {
      write: "version" | "trap";
      via: "direct-map" | "text" | "poke";
      lines?: "all" | "first" | "rest";
    }
  /** Set the region's page table entry. */
  | { pte: "RX" | "RW" | "R" | "" }
  /** Publish or retract the text_poke_bp descriptor the int3 handler reads (bp_desc). */
  | { bp: "set" | "clear" }
  /** stop_machine(): the others rendezvous in an IPI, this CPU patches, they leave with `leave`. */
  | { stop_machine: "isb" | "fence.i"; patch: MacroStep[] }
  /** Another routine of the same architecture. */
  | { macro: MacroName };

export interface ArchVariant {
  /** Variant name used in scenarios: "x86-64", "x86-64+fred", "arm64+idc+dic", ... */
  name: string;
  family: ArchName;
  description: string;
  /** Store buffer drains in program order (TSO: SDM vol. 3A 9.2.2). */
  tso: boolean;
  /**
   * Loads are performed in program order. When false, a load may be performed after later loads
   * and stores, unless a dependency on its register, a barrier, acquire/release or a later
   * access to the same location orders them.
   */
  loadsInOrder: boolean;
  /** A load-acquire is performed after this CPU's earlier store-releases are visible (RCsc). */
  acquireAfterRelease?: boolean;
  /** Data writes reach the point of unification at once (CTR_EL0.IDC=1, or coherent caches). */
  idc: boolean;
  /** Instruction caches are coherent with the point of unification (CTR_EL0.DIC=1, or x86). */
  dic: boolean;
  /** Instruction fetch sees this CPU's own buffered stores (x86 self-modifying code). */
  fetchSeesOwnStores: boolean;
  /** A store invalidates this CPU's prefetched instruction at the same linear address. */
  smcSnoopLinear: boolean;
  /**
   * Instruction fetch may (not must) take this CPU's own store before it is visible to other
   * CPUs (RISC-V without Ziccid). Default false.
   */
  fetchMaySeeOwnStores?: boolean;
  /**
   * A fetch may be performed after later instructions' loads and stores (RISC-V without
   * Ziccid): an instruction acting on registers only (RegionSpec.registerOnly) may execute
   * with a version whose store is not yet visible to the fetch, provided that store becomes
   * visible later; nothing that reads its results may reach memory before. Default false.
   */
  lateFetch?: boolean;
  /**
   * What orders an IPI after this CPU's earlier stores: "drain" (the store buffer drains first,
   * as smp_call_function()'s barriers do) or "device-barrier" (the IPI is a device write,
   * ordered only by a device barrier such as fence w,o, or a full fence). Default "drain".
   */
  ipiOrder?: "drain" | "device-barrier";
  /**
   * FENCE.I waits for this CPU's earlier stores to be visible to every CPU (herd7's model of
   * Zifencei; default true). False: only this CPU's later fetches see them (the Zifencei text).
   */
  fenceIWaitsForStores?: boolean;
  exceptions: ExceptionRules;
  /** The TLB may cache an invalid translation until flushed (RISC-V without Svvptc). */
  tlbCachesInvalid: boolean;
  /**
   * Which instruction-fetch faults on kernel text the fault handler treats as spurious (returns,
   * and the fetch is retried) when the page table now permits the fetch; any other is an oops.
   * Faults on user pages go through handle_mm_fault(), which retries on every architecture.
   */
  spuriousFetchFault: SpuriousFaultRules;
  /** A local TLB flush is serialising (x86-64 INVLPG). */
  tlbFlushSerialises: boolean;
  /** arm64 CMODX: concurrent modification is defined only between these instructions. */
  cmodxSafe: readonly string[] | null;
  /** Instruction used to fill invalidated text (int3, BRK, EBREAK). */
  trapInsn: string;
  /** Cache line size in bytes (for the residency chart and the allocators). */
  lineBytes: number;
  /** Every instruction a scenario may use on this architecture. */
  instructions: Readonly<Record<string, InsnRule>>;
  /** Kernel routines as sequences of instructions and IPIs (cite the kernel source). */
  macros: Readonly<Partial<Record<MacroName, { steps: MacroStep[]; cite: string }>>>;
  /** Extra citations of the rules expressed by the boolean fields above. */
  cites: Readonly<Record<string, string>>;
}

/** Derive a variant from a base by overriding fields: a new variant is a small file. */
export function variant(base: ArchVariant, over: Partial<ArchVariant>): ArchVariant {
  return {
    ...base,
    ...over,
    instructions: { ...base.instructions, ...(over.instructions ?? {}) },
    macros: { ...base.macros, ...(over.macros ?? {}) },
    cites: { ...base.cites, ...(over.cites ?? {}) },
    exceptions: { ...base.exceptions, ...(over.exceptions ?? {}) },
  };
}

/**
 * Sequences a scenario spells out per architecture (Song Liu's measures, the notebooks): steps
 * of the architecture's routine tables, expanded into scenario operations by archOps().
 */
export interface ArchSequences {
  /** Explicit cache maintenance of a region, without a context-synchronisation event. */
  cacheMaintenance: readonly MacroStep[];
  /** A context-synchronisation event on every other CPU, the way the kernel sends one. */
  syncOtherCpus: readonly MacroStep[];
  /** What a context switch (switch_mm) executes that can synchronise this CPU's fetch. */
  contextSwitch: readonly MacroStep[];
}

/**
 * One architecture: its machine variants, the base first, and what the rest of the library
 * derives from it. Adding an architecture is a folder lib/arch/<name>/ and one registry line.
 */
export interface ArchFamily {
  name: ArchName;
  /** Other spellings accepted where users type a name ("x86_64", the kernel's ARCH). */
  aliases: readonly string[];
  variants: readonly ArchVariant[];
  sequences: ArchSequences;
  /**
   * The call site the kernel patches live (static calls, ftrace), as a scenario code region:
   * its lines (parts written separately), whether they share one cache line, and, where
   * concurrent modification is defined only between some instructions, what each version is.
   */
  patchSite: { lines: number; subline?: boolean; insn?: Readonly<Record<string, string>> };
  /** execmem_arch_setup() and the text patching the execmem allocators call. */
  execmem: ArchExecmem;
  /** The cost model's constants and strategies (lib/cost evaluates them). */
  cost: ArchCost;
}
