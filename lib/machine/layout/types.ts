/** The machine's layout of a scenario (what compile() returns) and the marks it stores. */
import type { ArchVariant, Effect } from "../../arch";
import type { ScenarioSpec } from "../../scenario/spec";
import type { ValueSymbol } from "./encoding";

/**
 * Marks of a pipeline or TLB entry besides versions and PTE values. A const enum: tsc writes each
 * use as its number.
 */
export const enum E {
  /** Empty. */
  NONE = 255,
  /** A fetch fault on a not-present translation (pipeline entry). */
  FAULT = 254,
  /** A fetch fault on a present translation without execute permission. */
  FAULT_PROT = 253,
  /** An arm64 fetch of a concurrently modified, non-CMODX-safe instruction (pipeline entry). */
  UNPRED = 252,
}

/** Primitive program steps. */
export type Step =
  | { k: "store"; loc: number; value: number; release: boolean; vaSlot: number; text: string }
  | { k: "load"; reg: number; loc: number; acquire: boolean; text: string }
  | { k: "await"; loc: number; value: number; text: string }
  | {
      k: "effect";
      effect: Effect;
      insn: string;
      region: number;
      line: number;
      frame: number;
      text: string;
      sync: boolean;
    }
  | { k: "ipi-send"; handler: IpiHandler; text: string }
  | { k: "ipi-local"; handler: IpiHandler; text: string }
  | { k: "ipi-wait"; text: string }
  | { k: "stop-send"; handler: IpiHandler; text: string }
  | { k: "stop-arrived"; text: string }
  | { k: "stop-release"; text: string }
  | { k: "call"; reg: number; region: number; text: string }
  | { k: "interrupt"; text: string }
  // Instruction level (values in registers: see Layout.symbols).
  | { k: "mov"; dst: number; src: number; value: number; text: string }
  | { k: "alu"; fn: AluFn; dst: number; a: number; b: number; value: number; text: string }
  | { k: "flags"; fn: "cmp" | "tst"; a: number; b: number; value: number; text: string }
  | { k: "cset"; dst: number; cond: string; text: string }
  | { k: "ldr"; dst: number; addr: number; acquire: boolean; text: string }
  | { k: "str"; src: number; addr: number; release: boolean; text: string }
  /** Jump to target: always, when reg is zero/non-zero (cbz/cbnz), or on a flags condition. */
  | {
      k: "jump";
      target: number;
      when: "always" | "cbz" | "cbnz" | string;
      reg: number;
      link: number;
      linkValue: number;
      text: string;
    }
  | { k: "br"; reg: number; link: number; linkValue: number; text: string }
  | { k: "exec"; region: number; line: number; dispatch: number[]; text: string }
  | { k: "effect-reg"; effect: Effect; insn: string; addr: number; text: string };

export type AluFn = "add" | "sub" | "eor" | "and" | "orr";

export type IpiHandler =
  "sync_core" | "none" | "fence.i" | "tlb_flush" | "stop_isb" | "stop_fence.i";
export const IPI_HANDLERS: IpiHandler[] = [
  "sync_core",
  "none",
  "fence.i",
  "tlb_flush",
  "stop_isb",
  "stop_fence.i",
];

export interface RegionLayout {
  name: string;
  index: number;
  page: number;
  /** First slot of the region within its page. */
  offset: number;
  lines: number;
  /** Version ids, oldest first; the last is the intended one. */
  versions: number[];
  /** Instruction kind of each version id (CMODX), "code" by default. */
  insn: Map<number, string>;
  /** Version ids that act on registers only (RegionSpec.registerOnly). */
  registerOnly: number[];
  /** Interrupts and IPIs may be taken between its lines (RegionSpec.interruptible). */
  interruptible: boolean;
}

export interface PageLayout {
  name: string;
  index: number;
  slots: number;
  /** Cache line (within the page) of each slot. */
  lineOfSlot: number[];
  cacheLines: number;
  /** Location of the PTE. */
  pteLoc: number;
  /** First VA slot of this page in the global VA slot numbering. */
  vaBase: number;
  /** Frames with this page's layout. */
  frames: number[];
  /** A user mapping (faults go through handle_mm_fault()). */
  user: boolean;
}

export interface FrameLayout {
  name: string;
  index: number;
  page: number;
  /** Location of slot 0; slots are consecutive locations. */
  slotLoc: number;
  /** Global cache line id of the frame's line 0. */
  clBase: number;
}

export interface CpuLayout {
  steps: Step[];
  /** Regions each step index may still call (liveness, for the dead-state reduction). */
  liveRegions: number[][];
  speculate: number[];
  interrupts: number;
  regs: string[];
  regKind: ("data" | "call")[];
  /** Index of the flags register (-1 if unused) and of the hidden fault/unpredictable marks. */
  flagsReg: number;
  faultReg: number;
  unpredReg: number;
}

export interface Layout {
  spec: ScenarioSpec;
  arch: ArchVariant;
  dataNames: string[];
  versions: string[];
  trapVersion: number;
  regions: RegionLayout[];
  pages: PageLayout[];
  frames: FrameLayout[];
  cpus: CpuLayout[];
  /** Number of memory locations: data, then frame slots, then PTEs. */
  nLoc: number;
  /** First location of code slots and count (code slots are physical lines' contents). */
  codeBase: number;
  nCode: number;
  /** Global cache line of each code slot (index by loc - codeBase). */
  clOfCode: number[];
  /** Code slots of each global cache line. */
  codeOfCl: number[][];
  nCl: number;
  nVaSlots: number;
  /** For each VA slot: page index and slot within page. */
  vaPage: number[];
  vaSlotInPage: number[];
  /** Names for display. */
  locName: string[];
  vaName: string[];
  /** Maximum store-buffer entries any CPU may need. */
  sbMax: number;
  initialMem: number[];
  /** Values a register or data location may hold besides integers 0..99 (SYMBOL_BASE + index). */
  symbols: ValueSymbol[];
  /** Symbol of each version (instruction value), by version id. */
  versionSymbol: number[];
  /** Location of the text_poke_bp descriptor, or -1. */
  bpLoc: number;
}
