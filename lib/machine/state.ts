/**
 * The state encoding of the operational machine (docs/model.md §State): memory, the point of
 * unification, and per CPU its control fields, store buffer, registers, TLB, I-cache and fetch
 * pipeline, in one byte vector. The field offsets, transition labels, and the reads every layer
 * of the machine shares.
 */
import { RESULT_CLASSES } from "../model";
import type { ArchVariant } from "../arch";
import type { Layout } from "./layout/types";
import { pteFrame } from "./layout/encoding";
import { deferrable, feedsClean, symmetryGroups } from "./analysis";
import { buildSites, type Site } from "./sites";

/**
 * Per-CPU fields: offsets in a CPU's block. A const enum, so that tsc writes each use as its
 * number (a property of another module's exports is a load and a check on every use).
 */
export const enum F {
  PC = 0,
  CSLOT = 1, // line index within the current call
  CACC = 2, // version seen so far in the current call (+1), TORN when mixed
  CSF = 3, // spurious faults taken in the current call
  CFLAGS = 4, // bit 0: concurrent modification seen (arm64 CMODX)
  INTR = 5, // interrupts that may still arrive
  IPIP = 6, // pending IPI handler (+1)
  IPIF = 7, // sender of the pending IPI (+1)
  EPOCH = 8, // store-barrier epoch of the next store
  SBLEN = 9,
  STOPF = 10, // stop_machine(): bit 0 arrived in the handler, bit 1 released
  PROPH = 11, // late fetch (ArchVariant.lateFetch): code slot + 1 whose fetch is pending
  PVER = 12, // ... and the version it must return
  TAINT = 13, // 2 bytes: registers written since that execution (they wait for the fetch)
  IPIQ = 15, // IPI written to the interrupt controller, not yet delivered (handler + 1)
  IPIW = 16, // ... the number of oldest store-buffer entries it waits for
  WOM = 17, // oldest store-buffer entries a device barrier (fence w,o) ordered before later device writes
  SB = 18,
}
export const TORN = 255;

/** Transition kinds (in labels; a const enum: each use compiles to its number). */
export const enum K {
  prog = 1,
  drain = 2,
  spec = 3,
  tlbfill = 7,
  tlbevict = 8,
  icomplete = 11,
  /** A load performed after later program steps (arm64: loads out of order). */
  load = 12,
  irq = 9,
  ipi = 10,
  ipipost = 13,
}

export const CLS_NEW = 0,
  CLS_STALE = 1,
  CLS_TRAP = 2,
  CLS_TORN = 3,
  CLS_FAULT = 4,
  CLS_UNPRED = 5,
  CLS_OOPS = 6;

/** A transition label: kind, CPU, an argument, and which of the line's co-fetch combinations. */
export function label(cpu: number, kind: number, arg: number, combo = 0): number {
  return (combo << 24) | ((kind * 16 + cpu + 1) << 16) | arg;
}
export function labelCpu(l: number): number {
  return ((l >>> 16) & 15) - 1;
}
export function labelKind(l: number): number {
  return (l >>> 20) & 15;
}
export function labelArg(l: number): number {
  return l & 0xffff;
}

export interface MachineOptions {
  /** Erase state no future step can read (dead pipeline, I-cache and TLB entries). Default true. */
  liveness?: boolean;
  /** Symmetry reduction over CPUs with identical programs. Default true. */
  symmetry?: boolean;
  /**
   * Partial-order reduction: a step that only touches its CPU's registers (MOV, ALU, flags,
   * forward branches) commutes with every other transition, so it is taken alone. Default true.
   */
  partialOrder?: boolean;
  /**
   * With symmetry: successors() leaves out the transitions of a CPU whose block equals the one
   * before it in its symmetry group (they lead, up to symmetry, to states it emitted already)
   * and returns how many it left out. For exhaustive search only: a random walk picks among the
   * emitted successors. Default false.
   */
  twins?: boolean;
}

/** Receives each successor; `next` is a reused buffer, valid only during the call. */
export type Emit = (label: number, next: Uint8Array) => void;

/**
 * The ArchVariant fields the machine's steps read, with their defaults, in one object of one
 * shape for every variant (variants differ in which optional fields they set).
 */
export interface MachineArch {
  tso: boolean;
  loadsInOrder: boolean;
  acquireAfterRelease: boolean;
  idc: boolean;
  dic: boolean;
  fetchSeesOwnStores: boolean;
  smcSnoopLinear: boolean;
  fetchMaySeeOwnStores: boolean;
  lateFetch: boolean;
  ipiOrder: "drain" | "device-barrier";
  fenceIWaitsForStores: boolean;
  exceptions: { entrySyncs: boolean; returnSyncs: boolean; drainsStores: boolean };
  tlbCachesInvalid: boolean;
  spuriousFetchFault: { notPresent: boolean; permission: boolean };
  tlbFlushSerialises: boolean;
  cmodxSafe: readonly string[] | null;
}

function machineArch(a: ArchVariant): MachineArch {
  const e = a.exceptions;
  const f = a.spuriousFetchFault;
  return {
    tso: a.tso,
    loadsInOrder: a.loadsInOrder,
    acquireAfterRelease: a.acquireAfterRelease ?? false,
    idc: a.idc,
    dic: a.dic,
    fetchSeesOwnStores: a.fetchSeesOwnStores,
    smcSnoopLinear: a.smcSnoopLinear,
    fetchMaySeeOwnStores: a.fetchMaySeeOwnStores ?? false,
    lateFetch: a.lateFetch ?? false,
    ipiOrder: a.ipiOrder ?? "drain",
    fenceIWaitsForStores: a.fenceIWaitsForStores ?? true,
    exceptions: {
      entrySyncs: e.entrySyncs,
      returnSyncs: e.returnSyncs,
      drainsStores: e.drainsStores,
    },
    tlbCachesInvalid: a.tlbCachesInvalid,
    spuriousFetchFault: { notPresent: f.notPresent, permission: f.permission },
    tlbFlushSerialises: a.tlbFlushSerialises,
    cmodxSafe: a.cmodxSafe ?? null,
  };
}

/** The state layout of a compiled scenario and the reads every layer shares. */
export abstract class MachineState {
  readonly layout: Layout;
  /** The architecture variant's rules (layout.arch, of one shape). */
  protected readonly a: MachineArch;
  readonly nCpu: number;
  /** Per CPU: the number of steps of its program. */
  protected readonly stepCount: Int32Array;
  readonly cpuSize: number;
  readonly gSize: number;
  readonly nRegs: number;
  protected readonly o: {
    regs: number;
    tlb: number;
    icache: number;
    pipe: number;
    prank: number;
    pclean: number;
    dcseen: number;
    pinval: number;
    pload: number;
  };
  /** Per code slot: its region's versions (trap first); a version's bit is its index there. */
  protected readonly slotVersions: number[][];
  /** Per code slot and byte value: the version's bit (0 for a value that is none of them). */
  private readonly bits: Int32Array[];
  protected readonly liveness: boolean;
  protected readonly partialOrder: boolean;
  protected readonly twins: boolean;
  /** Groups of CPUs with identical programs whose blocks may be permuted (symmetry). */
  readonly symmetryGroups: number[][];
  protected readonly pouOff: number;
  /** Per CPU and step: a load that may be left pending while later steps run. */
  protected readonly deferrable: boolean[][];
  /** Per CPU and step: a load whose register reaches the address of a later DC CVAU. */
  protected readonly feedsClean: boolean[][];
  /**
   * Per VA slot, the other VA slots in the same cache line of the same page: a fetch reads a
   * whole line, so it brings their bytes into the pipeline too (a neighbour's code, or the other
   * parts of a sub-line instruction site).
   */
  protected readonly coSlots: number[][];
  /**
   * Per CPU and program counter (up to the end): the regions it may still run (all of them
   * without liveness), the VA slots of those (1: live), and their pages.
   */
  protected readonly liveAt: { regions: number[]; va: Uint8Array; pages: number[] }[][];
  /** Per page: the location of its page-table entry. */
  protected readonly pteLoc: Int32Array;
  /**
   * Per CPU and program counter (every byte value: past the end of the program, the end's): what
   * successors() and canonical() read there, in objects of one shape.
   */
  protected readonly sites: Site[][];
  /**
   * Sites flattened for canonical(), at i = c * 256 + pc: bit 0 a step there, bit 1 no region
   * live; and the site's liveVa at i * nVaSlots.
   */
  protected readonly siteFlags: Uint8Array;
  protected readonly liveVaAt: Uint8Array;

  constructor(L: Layout, opts: MachineOptions) {
    this.layout = L;
    this.a = machineArch(L.arch);
    this.nCpu = L.cpus.length;
    this.stepCount = Int32Array.from(L.cpus, (c) => c.steps.length);
    this.nRegs = Math.max(1, ...L.cpus.map((c) => c.regs.length));
    this.liveness = opts.liveness ?? true;
    this.partialOrder = opts.partialOrder ?? true;
    this.twins = opts.twins ?? false;
    const a = this.a;
    const regs = F.SB + 3 * L.sbMax;
    const tlb = regs + this.nRegs;
    const icache = tlb + L.pages.length;
    const pipe = icache + (a.dic ? 0 : L.nCode);
    const prank = pipe + L.nVaSlots;
    const pclean = prank + L.nVaSlots;
    const dcseen = pclean + (a.idc ? 0 : L.nCode);
    const pinval = dcseen + (a.idc ? 0 : L.nCode);
    // A pending load: its register + 1 (0: none), its location, and the value a conditional
    // branch on it predicted (0: none, 1: zero, 2: non-zero) (loads out of order).
    const pload = pinval + (a.dic ? 0 : L.nCl);
    this.cpuSize = pload + (a.loadsInOrder ? 0 : 3);
    this.o = { regs, tlb, icache, pipe, prank, pclean, dcseen, pinval, pload };
    this.deferrable = L.cpus.map((cpu) =>
      cpu.steps.map((_, i) => !a.loadsInOrder && deferrable(cpu.steps, i)),
    );
    this.feedsClean = L.cpus.map((cpu) =>
      cpu.steps.map((_, i) => !a.idc && feedsClean(cpu.steps, i)),
    );
    this.slotVersions = [];
    for (const f of L.frames) {
      const p = L.pages[f.page];
      for (let i = 0; i < p.slots; i++) {
        const r = L.regions.find(
          (x) => x.page === p.index && i >= x.offset && i < x.offset + x.lines,
        )!;
        const vs = [L.trapVersion, ...r.versions.filter((v) => v !== L.trapVersion)];
        if (vs.length > 8 && !(a.idc && a.dic)) {
          throw new Error(
            `${L.spec.name}: region ${r.name} has ${vs.length - 1} versions; at most 7 on ${L.arch.name}`,
          );
        }
        this.slotVersions[f.slotLoc - L.codeBase + i] = vs;
      }
    }
    this.bits = this.slotVersions.map((vs) => {
      const row = new Int32Array(256);
      vs.forEach((v, i) => {
        if (v < 256 && row[v] === 0) row[v] = 1 << i;
      });
      return row;
    });
    this.coSlots = [];
    for (let va = 0; va < L.nVaSlots; va++) {
      const p = L.pages[L.vaPage[va]];
      const cl = p.lineOfSlot[L.vaSlotInPage[va]];
      const same: number[] = [];
      for (let i = 0; i < p.slots; i++)
        if (i !== L.vaSlotInPage[va] && p.lineOfSlot[i] === cl) same.push(p.vaBase + i);
      this.coSlots.push(same);
    }
    this.pouOff = L.nLoc;
    this.gSize = L.nLoc + (a.idc ? 0 : L.nCode);
    this.symmetryGroups = opts.symmetry === false ? [] : symmetryGroups(L);
    const all = L.regions.map((r) => r.index);
    this.liveAt = L.cpus.map((cpu) =>
      Array.from({ length: cpu.steps.length + 1 }, (_, pc) => {
        const regions = this.liveness ? cpu.liveRegions[pc] : all;
        const va = new Uint8Array(L.nVaSlots);
        const pages: number[] = [];
        for (const ri of regions) {
          const r = L.regions[ri];
          va.fill(
            1,
            L.pages[r.page].vaBase + r.offset,
            L.pages[r.page].vaBase + r.offset + r.lines,
          );
          if (!pages.includes(r.page)) pages.push(r.page);
        }
        return { regions, va, pages };
      }),
    );
    this.pteLoc = Int32Array.from(L.pages, (p) => p.pteLoc);
    ({
      sites: this.sites,
      flags: this.siteFlags,
      liveVa: this.liveVaAt,
    } = buildSites(L, this.liveAt, a.acquireAfterRelease));
  }

  private buf: Uint8Array = new Uint8Array(0);
  private bufWords: Int32Array = new Int32Array(0);
  /** The last state copied into the buffer, and its words (null: not word-aligned). */
  private src: Uint8Array | null = null;
  private srcWords: Int32Array | null = null;
  /**
   * A working copy of s. Successors are built in one reused buffer: `emit` must copy what it
   * keeps (the engine's state store does). The buffer spans whole 32-bit words, so the state
   * store reads it in place and a word-aligned state is copied a word at a time (the bytes past
   * the state's end are not part of it).
   */
  protected scratch(s: Uint8Array): Uint8Array {
    if (this.buf.length !== s.length) {
      const words = new ArrayBuffer((s.length + 3) & ~3);
      this.buf = new Uint8Array(words, 0, s.length);
      this.bufWords = new Int32Array(words);
      this.src = null;
    }
    const d = this.bufWords;
    if (s !== this.src) {
      this.src = s;
      const end = s.byteOffset + 4 * d.length;
      this.srcWords =
        (s.byteOffset & 3) === 0 && end <= s.buffer.byteLength
          ? new Int32Array(s.buffer, s.byteOffset, d.length)
          : null;
    }
    const w = this.srcWords;
    if (w === null) this.buf.set(s);
    else d.set(w);
    return this.buf;
  }

  base(c: number): number {
    return this.gSize + c * this.cpuSize;
  }

  done(s: Uint8Array, c: number): boolean {
    return s[this.base(c) + F.PC] >= this.stepCount[c];
  }

  /** Value the data side of CPU c reads at loc: its own newest buffered store, else memory. */
  protected read(s: Uint8Array, c: number, loc: number): number {
    const b = this.base(c);
    for (let i = s[b + F.SBLEN] - 1; i >= 0; i--)
      if (s[b + F.SB + 3 * i] === loc) return s[b + F.SB + 3 * i + 1];
    return s[loc];
  }

  /** This CPU's newest buffered store to loc, or -1. */
  protected ownBuffered(s: Uint8Array, c: number, loc: number): number {
    const b = this.base(c);
    for (let i = s[b + F.SBLEN] - 1; i >= 0; i--)
      if (s[b + F.SB + 3 * i] === loc) return s[b + F.SB + 3 * i + 1];
    return -1;
  }

  /** Bit of version v in the set of versions of code slot ci. */
  protected bit(ci: number, v: number): number {
    return this.bits[ci][v];
  }

  /**
   * Versions the point of unification may present for a code slot: every version written since
   * the last clean to the PoU (DC CVAU completed by a DSB), or the current one with CTR_EL0.IDC.
   */
  protected pouMask(s: Uint8Array, ci: number): number {
    return this.a.idc ? this.bit(ci, s[this.layout.codeBase + ci]) : s[this.pouOff + ci];
  }

  protected versionsOf(ci: number, mask: number): number[] {
    const out: number[] = [];
    const vs = this.slotVersions[ci];
    for (let i = 0; i < vs.length; i++) if (mask & (1 << i)) out.push(vs[i]);
    return out;
  }

  protected isCode(loc: number): boolean {
    return loc >= this.layout.codeBase && loc < this.layout.codeBase + this.layout.nCode;
  }

  protected locOfVa(s: Uint8Array, c: number, va: number): number {
    const L = this.layout;
    const p = L.pages[L.vaPage[va]];
    const pte = s[p.pteLoc];
    const f = pte !== 0 ? L.frames[pteFrame(pte)] : L.frames[p.frames[0]];
    void c;
    return f.slotLoc + L.vaSlotInPage[va];
  }
}

/** Text of a call result register: "new", "stale", ..., "spurious-fault+new". */
export function callResultText(v: number): string {
  if (v === 0) return "none";
  const cls = RESULT_CLASSES[(v - 1) & 7];
  return v - 1 >= 8 ? `spurious-fault+${cls}` : cls;
}
