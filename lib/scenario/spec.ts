/**
 * A scenario as plain data (JSON-serialisable, so worker threads can take it): data locations,
 * code regions with their versions, pages and frames, and one program per CPU.
 * The builder (builder.ts) and the litmus-style text format (format/) both produce it.
 */
import type { Observation, SourcePos } from "../model";

/** CPUs a scenario may have. */
export const MAX_CPUS = 8;
/** Registers one CPU may use. */
export const MAX_REGISTERS = 16;
/** Integers a data location or register holds are 0..MAX_VALUE (larger codes are symbols). */
export const MAX_VALUE = 99;

/** Which alias a code write goes through (docs/model.md §Memory aliases). */
export type Alias = "direct-map" | "text" | "poke";

export type Perm = "" | "R" | "RW" | "RX" | "RWX";

export type Op = (
  | { op: "store"; loc: string; value: number; release?: boolean }
  | { op: "load"; reg: string; loc: string; acquire?: boolean }
  /** while (READ_ONCE(loc) != value) cpu_relax(); */
  | { op: "await"; loc: string; value: number; acquire?: boolean }
  /** Write one line of a code region (or every line when line is omitted). */
  | { op: "write"; region: string; line?: number; version: string; via: Alias; frame?: string }
  /**
   * An instruction of the scenario's architecture, e.g. "CPUID", "ISB", "IC IVAU", "fence.i".
   * Cache maintenance by address acts on the frame the region maps now, or on `frame` (the
   * line reached through another alias, such as the direct map).
   */
  | { op: "insn"; name: string; region?: string; line?: number; frame?: string }
  /** A kernel routine the architecture implements (sync_core, text_poke_sync, flush_icache_range...). */
  | { op: "macro"; name: string; region?: string; frame?: string; version?: string }
  /** Set the PTE of a virtual page: map it to a frame with permissions, or clear it. */
  | { op: "pte"; page: string; perm: Perm; frame?: string }
  /** Call into a code region: the register receives what ran (new, stale, trap, torn, fault...). */
  | { op: "call"; reg: string; region: string }
  /** An interrupt is delivered here (entry, empty handler, return). */
  | { op: "interrupt" }
  // Instruction-level operations (the AArch64 litmus frontend uses them). Registers hold
  // typed values: small integers (0..99), addresses of locations and regions, instructions
  // (a code region's version names) and labels.
  | { op: "label"; name: string }
  | { op: "mov"; dst: string; src: Operand }
  | { op: "alu"; fn: "add" | "sub" | "eor" | "and" | "orr"; dst: string; a: string; b: Operand }
  /** Set the flags from a - b (CMP) or a & b (TST). */
  | { op: "cmp" | "tst"; a: string; b: Operand }
  /** dst := 1 if the condition (EQ, NE, ...) holds on the flags, else 0. */
  | { op: "cset"; dst: string; cond: string }
  /** Load from / store to the address held in a register (data location or code line). */
  | { op: "ldr"; dst: string; addr: string; acquire?: boolean }
  | { op: "str"; src: string; addr: string; release?: boolean }
  | { op: "b"; target: string }
  | { op: "cbz" | "cbnz"; reg: string; target: string }
  | { op: "bcond"; cond: string; target: string }
  /** Branch with link: the link register receives the label of the next instruction. */
  | { op: "bl"; target: string; link: string }
  /** Branch to the label held in a register (RET, BR; BLR links first). */
  | { op: "br"; reg: string; link?: string }
  /**
   * Execute the instruction held at a code region's line (fetched through the pipeline, like
   * a call), then continue at the label its version dispatches to.
   */
  | { op: "exec"; region: string; line?: number; dispatch: Record<string, string> }
  /** Cache maintenance by an address held in a register (DC CVAU, X1). */
  | { op: "insn-reg"; name: string; addr: string }
) & { pos?: SourcePos };

/** A source operand of the instruction-level operations. */
export type Operand =
  | { reg: string }
  | { imm: number }
  /** Address of a data location or of a code region's line ("f", "f+1"). */
  | { addr: string }
  /** An instruction value: a version name of some code region. */
  | { insn: string }
  /** A label of this CPU's program. */
  | { label: string };

export interface RegionSpec {
  name: string;
  /** Number of cache lines the function spans. */
  lines: number;
  /** Program versions, oldest first; the last is the intended ("new") one. */
  versions: string[];
  /** Initial content: a version name or "trap", for every line or per line. */
  initial: string | string[];
  /** Virtual page holding the region (default: a page of its own, named like the region). */
  page?: string;
  /**
   * The region's first line shares a cache line with the last line of this region
   * (two JIT users in one cache line). Both must be on the same page.
   */
  sharesLineWith?: string;
  /**
   * One instruction site whose parts (the region's "lines": its first byte, then its tail) all
   * lie in one cache line, like a 5-byte CALL that does not cross a line (x86 text_poke_bp()).
   */
  subline?: boolean;
  /**
   * Each line starts an instruction: interrupts and IPIs may be taken between the lines of a call
   * (docs/model.md §Interrupts and IPIs). Default: a call is taken as one instruction stream.
   */
  interruptible?: boolean;
  /** arm64 CMODX: the instruction each version is (B, NOP, BRK...); default "code". */
  insn?: Record<string, string>;
  /**
   * Versions that are instructions acting on registers only (li, mv, nop): where the
   * architecture lets a fetch be performed late (riscv64 without Ziccid), a CPU may execute one
   * before the store that writes it is visible to its fetch.
   */
  registerOnly?: string[];
}

export interface PageSpec {
  name: string;
  /** Frame mapped initially (default: the frame of the same name), or null when unmapped. */
  frame?: string | null;
  /** Initial permissions of the mapping ("" = not present). */
  perm: Perm;
  /**
   * A user mapping: a fetch fault on it goes through handle_mm_fault(), which returns when the
   * PTE now permits the fetch (the fetch is retried). Default: kernel text.
   */
  user?: boolean;
}

export interface FrameSpec {
  name: string;
  /** The page whose layout (regions and lines) this frame has. */
  like: string;
  /** Initial content of every line: a version name or "trap". */
  initial: string;
}

export interface CpuSpec {
  program: Op[];
  /** Regions this CPU may fetch speculatively (plausible branch targets); default: those it calls. */
  speculate?: string[];
  /** Number of interrupts that may arrive at any point of this CPU (default 0). */
  interrupts?: number;
}

export interface ScenarioSpec {
  name: string;
  arch: string;
  /** Initial values of data locations. */
  data: Record<string, number>;
  regions: RegionSpec[];
  pages?: PageSpec[];
  frames?: FrameSpec[];
  cpus: CpuSpec[];
  /**
   * Outcome classes the scenario declares handled ("fault", "oops"): not counted as bad in
   * verdicts (for example a page fault the caller expects and recovers from).
   */
  handled?: string[];
  /** Final condition in litmus syntax: "exists (1:r0=stale)", "~exists (...)", "forall (...)". */
  condition?: string;
  /** The stated expectation (a `Result:` line). */
  expect?: Observation;
  /** Free text shown with results. */
  doc?: string;
  /**
   * The file a parsed spec came from: compile() reports its errors as FormatErrors naming the
   * file, at the statement's position or, for the scenario as a whole, at `pos` (the initial state).
   */
  source?: { file: string; pos: SourcePos };
}
