/**
 * The operational machine (MODEL.md): memory, point of unification, and per CPU a store buffer,
 * TLB, I-cache and fetch pipeline ("transient cache" of in-flight instructions). A state is a
 * compact byte vector; `successors` enumerates every enabled transition, program steps and
 * hardware steps alike. Architecture differences come only from the ArchVariant's fields.
 */
import type { RunClass, ResidencyCell } from "../explorer/result";
import {
  compile,
  encodePte,
  FAULT,
  FAULT_PROT,
  IPI_HANDLERS,
  UNPRED,
  NONE,
  PERM_X,
  permText,
  pteFrame,
  ptePerm,
  SYMBOL_BASE,
  type AluFn,
  type IpiHandler,
  type Layout,
  type Step,
  type ValueSymbol,
} from "./layout";
import type { ScenarioSpec } from "../scenario/spec";

// Per-CPU fields.
const PC = 0;
const CSLOT = 1; // line index within the current call
const CACC = 2; // version seen so far in the current call (+1), TORN when mixed
const CSF = 3; // spurious faults taken in the current call
const CFLAGS = 4; // bit 0: concurrent modification seen (arm64 CMODX)
const INTR = 5; // interrupts that may still arrive
const IPIP = 6; // pending IPI handler (+1)
const IPIF = 7; // sender of the pending IPI (+1)
const EPOCH = 8; // store-barrier epoch of the next store
const SBLEN = 9;
const STOPF = 10; // stop_machine(): bit 0 arrived in the handler, bit 1 released
const PROPH = 11; // late fetch (ArchVariant.lateFetch): code slot + 1 whose fetch is pending
const PVER = 12; // ... and the version it must return
const TAINT = 13; // 2 bytes: registers written since that execution (they wait for the fetch)
const IPIQ = 15; // IPI written to the interrupt controller, not yet delivered (handler + 1)
const IPIW = 16; // ... the number of oldest store-buffer entries it waits for
const WOM = 17; // oldest store-buffer entries a device barrier (fence w,o) ordered before later device writes
const SB = 18;
const TORN = 255;

/** Transition kinds (in labels). */
export const K = {
  prog: 1,
  drain: 2,
  spec: 3,
  tlbfill: 7,
  tlbevict: 8,
  icomplete: 11,
  /** A load performed after later program steps (arm64: loads out of order). */
  load: 12,
  irq: 9,
  ipi: 10,
  ipipost: 13,
} as const;

export const RESULT_CLASSES: RunClass[] = [
  "new",
  "stale",
  "trap",
  "torn",
  "fault",
  "unpredictable",
  "oops",
];
const CLS_NEW = 0,
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
}

/** Receives each successor; `next` is a reused buffer, valid only during the call. */
export type Emit = (label: number, next: Uint8Array) => void;

/**
 * The operational machine of a compiled scenario (see docs/model.md): states are byte arrays,
 * and each enabled transition (a program step of a CPU, or a hardware step such as a store
 * buffer drain, a TLB or I-cache fill or eviction, or a pipeline refetch) is emitted with its
 * label. The explorer drives it; use {@link explore} rather than this class directly.
 */
export class Machine {
  readonly layout: Layout;
  readonly nCpu: number;
  readonly cpuSize: number;
  readonly gSize: number;
  readonly nRegs: number;
  private readonly o: {
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
  private readonly slotVersions: number[][];
  private readonly liveness: boolean;
  private readonly partialOrder: boolean;
  /** Groups of CPUs with identical programs whose blocks may be permuted (symmetry). */
  readonly symmetryGroups: number[][];
  private readonly pouOff: number;
  /** Per CPU and step: a load that may be left pending while later steps run. */
  private readonly deferrable: boolean[][];
  /** Per CPU and step: a load whose register reaches the address of a later DC CVAU. */
  private readonly feedsClean: boolean[][];
  /**
   * Per VA slot, the other VA slots in the same cache line of the same page: a fetch reads a
   * whole line, so it brings their bytes into the pipeline too (a neighbour's code, or the other
   * parts of a sub-line instruction site).
   */
  private readonly coSlots: number[][];

  constructor(specOrLayout: ScenarioSpec | Layout, opts: MachineOptions = {}) {
    const L =
      "arch" in specOrLayout && "cpus" in specOrLayout && "nLoc" in specOrLayout
        ? (specOrLayout as Layout)
        : compile(specOrLayout as ScenarioSpec);
    this.layout = L;
    this.nCpu = L.cpus.length;
    this.nRegs = Math.max(1, ...L.cpus.map((c) => c.regs.length));
    this.liveness = opts.liveness ?? true;
    this.partialOrder = opts.partialOrder ?? true;
    const a = L.arch;
    const regs = SB + 3 * L.sbMax;
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
            `${L.spec.name}: region ${r.name} has ${vs.length - 1} versions; at most 7 on ${a.name}`,
          );
        }
        this.slotVersions[f.slotLoc - L.codeBase + i] = vs;
      }
    }
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
  }

  private buf: Uint8Array = new Uint8Array(0);
  /**
   * A working copy of s. Successors are built in one reused buffer: `emit` must copy what it
   * keeps (the engine's state store does).
   */
  private scratch(s: Uint8Array): Uint8Array {
    if (this.buf.length !== s.length) this.buf = new Uint8Array(s.length);
    this.buf.set(s);
    return this.buf;
  }

  base(c: number): number {
    return this.gSize + c * this.cpuSize;
  }

  initial(): Uint8Array {
    const L = this.layout;
    const s = new Uint8Array(this.gSize + this.nCpu * this.cpuSize);
    for (let i = 0; i < L.nLoc; i++) s[i] = L.initialMem[i];
    if (!L.arch.idc)
      for (let i = 0; i < L.nCode; i++)
        s[this.pouOff + i] = this.bit(i, L.initialMem[L.codeBase + i]);
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      s[b + INTR] = L.cpus[c].interrupts;
      s.fill(NONE, b + this.o.tlb, b + this.o.icache);
      s.fill(NONE, b + this.o.pipe, b + this.o.prank);
      if (!L.arch.dic)
        for (let i = 0; i < L.nCode; i++)
          s[b + this.o.icache + i] = this.bit(i, L.initialMem[L.codeBase + i]);
      if (!L.arch.idc)
        for (let i = 0; i < L.nCode; i++)
          s[b + this.o.dcseen + i] = this.bit(i, L.initialMem[L.codeBase + i]);
    }
    return this.canonical(s);
  }

  // ---- reading the state -------------------------------------------------------------------

  done(s: Uint8Array, c: number): boolean {
    return s[this.base(c) + PC] >= this.layout.cpus[c].steps.length;
  }

  /** Value the data side of CPU c reads at loc: its own newest buffered store, else memory. */
  private read(s: Uint8Array, c: number, loc: number): number {
    const b = this.base(c);
    for (let i = s[b + SBLEN] - 1; i >= 0; i--)
      if (s[b + SB + 3 * i] === loc) return s[b + SB + 3 * i + 1];
    return s[loc];
  }

  /** Bit of version v in the set of versions of code slot ci. */
  private bit(ci: number, v: number): number {
    const i = this.slotVersions[ci].indexOf(v);
    return i < 0 ? 0 : 1 << i;
  }

  /**
   * Versions the point of unification may present for a code slot: every version written since
   * the last clean to the PoU (DC CVAU completed by a DSB), or the current one with CTR_EL0.IDC.
   */
  private pouMask(s: Uint8Array, ci: number): number {
    return this.layout.arch.idc ? this.bit(ci, s[this.layout.codeBase + ci]) : s[this.pouOff + ci];
  }

  private versionsOf(ci: number, mask: number): number[] {
    const out: number[] = [];
    const vs = this.slotVersions[ci];
    for (let i = 0; i < vs.length; i++) if (mask & (1 << i)) out.push(vs[i]);
    return out;
  }

  /**
   * Translation for instruction fetch on CPU c (MODEL.md mechanism 4): the code slot (or -1 for
   * a fault) and the TLB entry a walk fills (or -1).
   */
  private lookup(s: Uint8Array, c: number, va: number): { ci: number; fill: number } {
    const L = this.layout;
    const p = L.vaPage[va];
    let pte = s[this.base(c) + this.o.tlb + p];
    let fill = -1;
    if (pte === NONE) {
      pte = s[L.pages[p].pteLoc];
      if (pte !== 0 || L.arch.tlbCachesInvalid) fill = pte;
    }
    if (pte === 0) return { ci: -1, fill };
    if ((ptePerm(pte) & PERM_X) === 0) return { ci: -2, fill };
    return { ci: L.frames[pteFrame(pte)].slotLoc - L.codeBase + L.vaSlotInPage[va], fill };
  }

  /**
   * The versions a fetch of VA slot va may return on CPU c (FAULT when translation fails).
   * Instruction fetch is not coherent (Simner et al., ESOP 2020): without CTR_EL0.DIC a fetch may
   * return any version this CPU's I-cache may hold, i.e. any version the PoU presented since the
   * last IC IVAU / IC IALLU / fence.i reached this CPU.
   */
  private fetchOptions(s: Uint8Array, c: number, va: number): { v: number; fill: number }[] {
    const L = this.layout;
    const a = L.arch;
    const { ci, fill } = this.lookup(s, c, va);
    if (ci < 0) return [{ v: ci === -1 ? FAULT : FAULT_PROT, fill }];
    // SDM 9.1.3: x86 fetch is coherent with memory and with this CPU's own stores.
    if (a.dic && a.fetchSeesOwnStores) return [{ v: this.read(s, c, L.codeBase + ci), fill }];
    let mask = a.dic ? this.pouMask(s, ci) : s[this.base(c) + this.o.icache + ci];
    // Without Ziccid a fetch may take this hart's own store before others see it.
    if (a.fetchMaySeeOwnStores) {
      const own = this.ownBuffered(s, c, L.codeBase + ci);
      if (own >= 0) mask |= this.bit(ci, own);
    }
    return this.versionsOf(ci, mask).map((v) => ({ v, fill }));
  }

  /** This CPU's newest buffered store to loc, or -1. */
  private ownBuffered(s: Uint8Array, c: number, loc: number): number {
    const b = this.base(c);
    for (let i = s[b + SBLEN] - 1; i >= 0; i--)
      if (s[b + SB + 3 * i] === loc) return s[b + SB + 3 * i + 1];
    return -1;
  }

  /** False for a final state that no execution can reach: a late fetch never performed. */
  acceptable(s: Uint8Array): boolean {
    for (let c = 0; c < this.nCpu; c++) if (s[this.base(c) + PROPH] !== 0) return false;
    // A load left pending whose value never matched its branch's prediction (mis-speculation).
    if (!this.layout.arch.loadsInOrder)
      for (let c = 0; c < this.nCpu; c++) if (s[this.base(c) + this.o.pload] !== 0) return false;
    return true;
  }

  /**
   * What a fetch of va also brings into CPU c's pipeline from the rest of its cache line: one
   * list of [va, version] per combination the I-side may present. Empty pipeline entries of live
   * regions only; nothing when the fetch faults.
   */
  private coFetch(s: Uint8Array, c: number, va: number, live: readonly number[]): number[][][] {
    let combos: number[][][] = [[]];
    const pipe = this.base(c) + this.o.pipe;
    for (const x of this.coSlots[va]) {
      if (s[pipe + x] !== NONE || (this.liveness && !this.vaLive(x, live as number[]))) continue;
      const opts = this.fetchOptions(s, c, x).filter((o) => o.v !== FAULT && o.v !== FAULT_PROT);
      if (opts.length === 0) continue;
      combos = combos.flatMap((xs) => opts.map((o) => [...xs, [x, o.v]]));
    }
    return combos;
  }

  /**
   * Arm ARM B2.2.5: concurrent modification and execution of instructions is CONSTRAINED
   * UNPREDICTABLE unless both the old and the new instruction are CMODX-safe. Without the
   * maintenance that makes the new one the only one fetch may see, a fetch that may still return
   * either is such a concurrent execution: it may run something else (UNPRED), as well as either.
   */
  private withUnpredictable(
    ri: number,
    opts: { v: number; fill: number }[],
  ): { v: number; fill: number }[] {
    const safe = this.layout.arch.cmodxSafe;
    if (!safe || opts.length < 2) return opts;
    const r = this.layout.regions[ri];
    if (opts.every((o) => safe.includes(r.insn.get(o.v) ?? "code"))) return opts;
    return [...opts, { v: UNPRED, fill: opts[0].fill }];
  }

  private applyFill(t: Uint8Array, c: number, va: number, fill: number): void {
    if (fill >= 0) t[this.base(c) + this.o.tlb + this.layout.vaPage[va]] = fill;
  }

  /** Reset I-cache sets to what the PoU presents (IC IVAU, IC IALLU, fence.i). */
  private icacheReset(t: Uint8Array, c: number, slots: readonly number[] | null): void {
    const L = this.layout;
    if (L.arch.dic) return;
    const ic = this.base(c) + this.o.icache;
    if (slots === null) for (let ci = 0; ci < L.nCode; ci++) t[ic + ci] = this.pouMask(t, ci);
    else for (const loc of slots) t[ic + loc - L.codeBase] = this.pouMask(t, loc - L.codeBase);
  }

  private completeInvalidate(t: Uint8Array, c: number, cl: number): void {
    t[this.base(c) + this.o.pinval + cl] = 0;
    for (let d = 0; d < this.nCpu; d++) this.icacheReset(t, d, this.layout.codeOfCl[cl]);
  }

  /**
   * This CPU's DC CVAU reach the PoU: it presents the version each clean captured and the
   * current one. A clean captures a version current at some time since this CPU's last DMB or
   * DSB, as it may be performed before earlier loads (Arm ARM D7.5.9.15).
   */
  private completeCleans(t: Uint8Array, c: number): void {
    const L = this.layout;
    const b = this.base(c);
    for (let ci = 0; ci < L.nCode; ci++) {
      const snap = t[b + this.o.pclean + ci];
      if (!snap) continue;
      t[b + this.o.pclean + ci] = 0;
      t[this.pouOff + ci] = snap | this.bit(ci, t[L.codeBase + ci]);
    }
    // Later cleans capture versions from here on.
    for (let ci = 0; ci < L.nCode; ci++)
      t[b + this.o.dcseen + ci] = this.bit(ci, t[L.codeBase + ci]);
  }

  /**
   * A DC CVAU whose address depends on a load is performed after it (Arm ARM B2.3, address
   * dependency): from the load on, CPU c's cleans capture versions current from here.
   */
  private cleansFromHere(t: Uint8Array, c: number): void {
    const L = this.layout;
    const b = this.base(c);
    for (let ci = 0; ci < L.nCode; ci++)
      t[b + this.o.dcseen + ci] = this.bit(ci, t[L.codeBase + ci]);
  }

  private flushPipe(s: Uint8Array, c: number): void {
    const p = this.base(c) + this.o.pipe;
    s.fill(NONE, p, p + this.layout.nVaSlots);
    s.fill(0, p + this.layout.nVaSlots, p + 2 * this.layout.nVaSlots);
  }

  /**
   * Instruction fetches are ordered in program order (ESOP 2020 "fpo"): running the entry fetched
   * at rank r squashes the entries fetched before it; a fresh fetch (rank 0) squashes them all.
   */
  private squashOlder(t: Uint8Array, c: number, rank: number): void {
    const b = this.base(c);
    for (let va = 0; va < this.layout.nVaSlots; va++) {
      if (t[b + this.o.pipe + va] === NONE) continue;
      if (rank === 0 || t[b + this.o.prank + va] < rank) {
        t[b + this.o.pipe + va] = NONE;
        t[b + this.o.prank + va] = 0;
      }
    }
  }

  /** Exception entry + return on CPU c (interrupt, IPI, fault): context sync where the arch says. */
  private exceptionSyncs(s: Uint8Array, c: number): void {
    const e = this.layout.arch.exceptions;
    if (e.entrySyncs || e.returnSyncs) this.flushPipe(s, c);
  }

  // ---- transitions -------------------------------------------------------------------------

  successors(s: Uint8Array, emit: Emit): void {
    const L = this.layout;
    const a = L.arch;
    if (this.partialOrder) {
      // An ample set of one local step (always enabled, independent of every other transition,
      // invisible until the end; forward only, so no cycle can postpone the others forever).
      for (let c = 0; c < this.nCpu; c++) {
        const b = this.base(c);
        const pc = s[b + PC];
        const st = L.cpus[c].steps[pc];
        if (!st || (s[b + STOPF] & 1) !== 0 || !this.isLocal(s, c, st, pc)) continue;
        if (this.waitsForLoad(s, c, st) || this.branchOnPending(s, c, st)) continue;
        const t = this.scratch(s);
        this.instructionStep(t, c, st);
        emit(label(c, K.prog, 0), this.canonical(t));
        return;
      }
    }
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      const cpu = L.cpus[c];
      const pc = s[b + PC];
      const isDone = pc >= cpu.steps.length;
      const inStop = (s[b + STOPF] & 1) !== 0;
      // A call is one instruction stream: interrupts and IPIs are taken at its boundaries, or
      // between its lines when the region declares each line an instruction (interruptible).
      const cur = cpu.steps[pc];
      const midCall =
        s[b + CSLOT] > 0 && !(cur?.k === "call" && L.regions[cur.region].interruptible);
      // Program step (not while the CPU spins in a stop_machine() handler).
      if (
        !isDone &&
        !inStop &&
        !this.waitsForLoad(s, c, cpu.steps[pc]) &&
        !this.acquireWaits(s, c, cpu.steps[pc])
      )
        this.programStep(s, c, cpu.steps[pc], emit);
      // A pending load is performed (reads memory or its own newest buffered store).
      if (!a.loadsInOrder && s[b + this.o.pload] !== 0) {
        const t = this.scratch(s);
        if (this.performLoad(t, c)) emit(label(c, K.load, 0), this.canonical(t));
      }
      // Store-buffer drains (MODEL.md mechanism 5).
      const n = s[b + SBLEN];
      for (let i = 0; i < n; i++) {
        if (a.tso && i > 0) break;
        if (!this.drainable(s, b, i)) continue;
        const t = this.scratch(s);
        this.drain(t, c, i);
        emit(label(c, K.drain, i), this.canonical(t));
      }
      // An IPI written to the interrupt controller arrives once the stores it is ordered after
      // have drained (riscv64: a device write, ordered by fence w,o).
      if (s[b + IPIQ] !== 0 && s[b + IPIW] === 0 && !this.ipiInFlight(s, c)) {
        const t = this.scratch(s);
        this.postIpi(t, c, s[b + IPIQ]);
        t[b + IPIQ] = 0;
        emit(label(c, K.ipipost, 0), this.canonical(t));
      }
      // IPI delivery (also to CPUs that finished their program).
      if (s[b + IPIP] !== 0 && !midCall && (!a.exceptions.drainsStores || n === 0)) {
        const h = IPI_HANDLERS[s[b + IPIP] - 1];
        if (h === "stop_isb" || h === "stop_fence.i") this.stopMachineStep(s, c, h, emit);
        else if (!(handlerNeedsDrain(h) && n > 0)) {
          const t = this.scratch(s);
          this.exceptionSyncs(t, c);
          this.runHandler(t, c, h);
          t[b + IPIP] = 0;
          t[b + IPIF] = 0;
          emit(label(c, K.ipi, 0), this.canonical(t));
        }
      }
      // Pending IC IVAU reaching every I-cache (it may complete before the DSB).
      if (!a.dic)
        for (let cl = 0; cl < L.nCl; cl++) {
          if (!s[b + this.o.pinval + cl]) continue;
          const t = this.scratch(s);
          this.completeInvalidate(t, c, cl);
          emit(label(c, K.icomplete, cl), this.canonical(t));
        }
      if (isDone || inStop) continue;
      // Interrupts that may arrive anywhere.
      if (s[b + INTR] > 0 && !midCall && (!a.exceptions.drainsStores || n === 0)) {
        const t = this.scratch(s);
        t[b + INTR]--;
        this.exceptionSyncs(t, c);
        emit(label(c, K.irq, 0), this.canonical(t));
      }
      const live = this.liveness ? cpu.liveRegions[pc] : L.regions.map((r) => r.index);
      // Speculative fetch into the pipeline (MODEL.md mechanism 3).
      for (const ri of cpu.speculate) {
        if (!live.includes(ri)) continue;
        const r = L.regions[ri];
        const base = L.pages[r.page].vaBase + r.offset;
        for (let i = 0; i < r.lines; i++) {
          const va = base + i;
          if (s[b + this.o.pipe + va] !== NONE) continue;
          let top = 0;
          for (let x = 0; x < L.nVaSlots; x++) top = Math.max(top, s[b + this.o.prank + x]);
          const fetched = this.fetchOptions(s, c, va);
          // The litmus front-end (exec) keeps the ESOP 2020 model: no UNPRED there.
          for (const o of cpu.faultReg >= 0 ? fetched : this.withUnpredictable(ri, fetched)) {
            const faulted = o.v === FAULT || o.v === FAULT_PROT || o.v === UNPRED;
            const combos = faulted ? [[]] : this.coFetch(s, c, va, live);
            for (const [k, co] of combos.entries()) {
              const t = this.scratch(s);
              this.applyFill(t, c, va, o.fill);
              t[b + this.o.pipe + va] = o.v;
              t[b + this.o.prank + va] = top + 1;
              for (const [x, v] of co) {
                t[b + this.o.pipe + x] = v;
                t[b + this.o.prank + x] = top + 1;
              }
              emit(label(c, K.spec, va | (o.v << 8), k), this.canonical(t));
            }
          }
        }
      }
      // TLB fill and eviction (MODEL.md mechanism 4).
      for (const p of this.livePages(live)) {
        const e = s[b + this.o.tlb + p];
        const pte = s[L.pages[p].pteLoc];
        if (e === NONE && (pte !== 0 || a.tlbCachesInvalid)) {
          const t = this.scratch(s);
          t[b + this.o.tlb + p] = pte;
          emit(label(c, K.tlbfill, p), this.canonical(t));
        }
        if (e !== NONE && e !== pte) {
          const t = this.scratch(s);
          t[b + this.o.tlb + p] = NONE;
          emit(label(c, K.tlbevict, p), this.canonical(t));
        }
      }
    }
  }

  /** Another CPU than c still has an IPI to take. */
  private ipiInFlight(s: Uint8Array, c: number): boolean {
    for (let d = 0; d < this.nCpu; d++) if (d !== c && s[this.base(d) + IPIP] !== 0) return true;
    return false;
  }

  /** Every other CPU has IPI handler h (+1) pending from c. */
  private postIpi(t: Uint8Array, c: number, h: number): void {
    for (let d = 0; d < this.nCpu; d++) {
      if (d === c) continue;
      t[this.base(d) + IPIP] = h;
      t[this.base(d) + IPIF] = c + 1;
    }
  }

  /** Registers a step reads and writes (instruction-level steps). */
  private regsOf(c: number, st: Step): { reads: number[]; writes: number[] } {
    const f = this.layout.cpus[c].flagsReg;
    const r = (...xs: number[]) => xs.filter((x) => x >= 0);
    switch (st.k) {
      case "mov":
        return { reads: r(st.src), writes: r(st.dst) };
      case "alu":
        return { reads: r(st.a, st.b), writes: r(st.dst) };
      case "flags":
        return { reads: r(st.a, st.b), writes: r(f) };
      case "cset":
        return { reads: r(f), writes: r(st.dst) };
      case "ldr":
        return { reads: r(st.addr), writes: r(st.dst) };
      case "str":
        return { reads: r(st.src, st.addr), writes: [] };
      case "jump": {
        const reads = st.when === "always" ? [] : st.when.startsWith("cb") ? r(st.reg) : r(f);
        return { reads, writes: r(st.link) };
      }
      case "br":
        return { reads: r(st.reg), writes: r(st.link) };
      case "effect-reg":
        return { reads: r(st.addr), writes: [] };
      default:
        return { reads: [], writes: [] };
    }
  }

  /**
   * While a late fetch is pending, what it executed may not reach memory or steer the CPU:
   * a step reading a register written since then waits, unless it only moves values between
   * registers (those stay tainted). Returns false when the step must wait.
   */
  private lateFetchAllows(t: Uint8Array, c: number, st: Step): boolean {
    const b = this.base(c);
    if (t[b + PROPH] === 0) return true;
    const taint = t[b + TAINT] | (t[b + TAINT + 1] << 8);
    const { reads, writes } = this.regsOf(c, st);
    const tainted = reads.some((x) => taint & (1 << x));
    const local = st.k === "mov" || st.k === "alu" || st.k === "flags" || st.k === "cset";
    if (tainted && !local) return false;
    let m = taint;
    for (const w of writes) m |= 1 << w;
    t[b + TAINT] = m & 255;
    t[b + TAINT + 1] = m >> 8;
    return true;
  }

  private livePages(live: number[]): number[] {
    const out: number[] = [];
    for (const ri of live) {
      const p = this.layout.regions[ri].page;
      if (!out.includes(p)) out.push(p);
    }
    return out;
  }

  private drainable(s: Uint8Array, b: number, i: number): boolean {
    const loc = s[b + SB + 3 * i];
    const ep = s[b + SB + 3 * i + 2] & 127;
    for (let j = 0; j < i; j++) {
      if (s[b + SB + 3 * j] === loc) return false; // same location: in order (coherence)
      if ((s[b + SB + 3 * j + 2] & 127) !== ep) return false; // store barrier / release between
    }
    return true;
  }

  private drain(t: Uint8Array, c: number, i: number): void {
    const L = this.layout;
    const b = this.base(c);
    const loc = t[b + SB + 3 * i];
    t[loc] = t[b + SB + 3 * i + 1];
    const n = t[b + SBLEN];
    t.copyWithin(b + SB + 3 * i, b + SB + 3 * (i + 1), b + SB + 3 * n);
    t.fill(0, b + SB + 3 * (n - 1), b + SB + 3 * n);
    t[b + SBLEN] = n - 1;
    if (i < t[b + WOM]) t[b + WOM]--;
    if (i < t[b + IPIW]) t[b + IPIW]--;
    if (loc >= L.codeBase && loc < L.codeBase + L.nCode) {
      // A late fetch of this version by another CPU is performed now.
      for (let d = 0; d < this.nCpu; d++) {
        const bd = this.base(d);
        if (d !== c && t[bd + PROPH] === loc - L.codeBase + 1 && t[bd + PVER] === t[loc]) {
          t[bd + PROPH] = 0;
          t[bd + PVER] = 0;
          t[bd + TAINT] = 0;
          t[bd + TAINT + 1] = 0;
        }
      }
      // The new version may now be presented by the PoU, and so fetched into any I-cache.
      const ci = loc - L.codeBase;
      const bit = this.bit(ci, t[loc]);
      if (!L.arch.idc) {
        t[this.pouOff + ci] |= bit;
        // A DC CVAU is ordered after this CPU's own earlier stores to the same line.
        for (let d = 0; d < this.nCpu; d++)
          if (d === c) t[this.base(d) + this.o.dcseen + ci] = bit;
          else t[this.base(d) + this.o.dcseen + ci] |= bit;
      }
      if (!L.arch.dic)
        for (let d = 0; d < this.nCpu; d++) t[this.base(d) + this.o.icache + ci] |= bit;
    }
    // arm64 CMODX: a write that becomes visible while another CPU is executing that line's
    // function is a concurrent modification (Arm ARM B2.2.5).
    if (L.arch.cmodxSafe && loc >= L.codeBase && loc < L.codeBase + L.nCode) {
      for (let d = 0; d < this.nCpu; d++) {
        const bd = this.base(d);
        const st = L.cpus[d].steps[t[bd + PC]];
        if (!st || st.k !== "call" || t[bd + CACC] === 0) continue;
        if (this.regionMapsLoc(t, d, st.region, loc)) t[bd + CFLAGS] |= 1;
      }
    }
  }

  private regionMapsLoc(s: Uint8Array, _c: number, ri: number, loc: number): boolean {
    const L = this.layout;
    const r = L.regions[ri];
    const p = L.pages[r.page];
    for (const fi of p.frames) {
      const f = L.frames[fi];
      if (loc >= f.slotLoc + r.offset && loc < f.slotLoc + r.offset + r.lines) return true;
    }
    void s;
    return false;
  }

  private storePending(s: Uint8Array, loc: number): boolean {
    for (let d = 0; d < this.nCpu; d++) {
      const b = this.base(d);
      for (let i = 0; i < s[b + SBLEN]; i++) if (s[b + SB + 3 * i] === loc) return true;
    }
    return false;
  }

  /**
   * stop_machine() on a receiving CPU: enter the handler (exception entry) and spin; once the
   * patching CPU releases it, ISB or fence.i, then exception return.
   */
  private stopMachineStep(s: Uint8Array, c: number, h: IpiHandler, emit: Emit): void {
    const b = this.base(c);
    const f = s[b + STOPF];
    const t = this.scratch(s);
    if ((f & 1) === 0) {
      if (this.layout.arch.exceptions.entrySyncs) this.flushPipe(t, c);
      t[b + STOPF] = 1;
    } else if (f & 2) {
      if (h === "stop_fence.i") {
        if (t[b + SBLEN] > 0) return;
        this.runHandler(t, c, "fence.i");
      } else this.flushPipe(t, c);
      if (this.layout.arch.exceptions.returnSyncs) this.flushPipe(t, c);
      t[b + STOPF] = 0;
      t[b + IPIP] = 0;
      t[b + IPIF] = 0;
    } else return;
    emit(label(c, K.ipi, 0), this.canonical(t));
  }

  private runHandler(t: Uint8Array, c: number, h: IpiHandler): void {
    const b = this.base(c);
    switch (h) {
      case "sync_core":
        this.flushPipe(t, c);
        break;
      case "fence.i":
        this.flushPipe(t, c);
        this.icacheReset(t, c, null);
        break;
      case "tlb_flush":
        // x86 flush_tlb_kernel_range(): INVLPG in the handler, which serialises.
        if (this.layout.arch.tlbFlushSerialises) this.flushPipe(t, c);
        t.fill(NONE, b + this.o.tlb, b + this.o.tlb + this.layout.pages.length);
        break;
      case "none":
        break;
    }
  }

  private programStep(s: Uint8Array, c: number, st: Step, emit: Emit): void {
    const L = this.layout;
    const a = L.arch;
    const b = this.base(c);
    const n = s[b + SBLEN];
    const lbl = label(c, K.prog, 0);
    if (st.k === "jump" && this.branchOnPending(s, c, st)) {
      this.speculateBranch(s, c, st, emit);
      return;
    }
    switch (st.k) {
      case "store": {
        if (n >= L.sbMax) return;
        const t = this.scratch(s);
        let ep = t[b + EPOCH];
        if (st.release && !a.tso) ep = ++t[b + EPOCH] | 128; // release: after every earlier store
        const e = b + SB + 3 * n;
        t[e] = st.loc;
        t[e + 1] = st.value;
        t[e + 2] = ep;
        t[b + SBLEN] = n + 1;
        // SDM 9.1.3: a store to a linear address invalidates this CPU's prefetched instruction there.
        if (a.smcSnoopLinear && st.vaSlot >= 0) t[b + this.o.pipe + st.vaSlot] = NONE;
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "load": {
        const t = this.scratch(s);
        t[b + this.o.regs + st.reg] = this.read(s, c, st.loc);
        if (this.feedsClean[c][s[b + PC]]) this.cleansFromHere(t, c);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        if (this.deferrable[c][s[b + PC]] && s[b + this.o.pload] === 0)
          this.deferLoad(s, c, st.reg, st.loc, emit);
        return;
      }
      case "await": {
        if (this.read(s, c, st.loc) !== st.value) return;
        const t = this.scratch(s);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "interrupt": {
        if (a.exceptions.drainsStores && n > 0) return;
        const t = this.scratch(s);
        this.exceptionSyncs(t, c);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "ipi-send":
      case "stop-send": {
        if (st.k === "ipi-send" && a.ipiOrder === "device-barrier") {
          // The IPI is a device write: it waits only for the stores a device barrier ordered.
          if (s[b + IPIQ] !== 0) return;
          const t = this.scratch(s);
          t[b + IPIQ] = IPI_HANDLERS.indexOf(st.handler) + 1;
          t[b + IPIW] = t[b + WOM];
          t[b + PC]++;
          emit(lbl, this.canonical(t));
          return;
        }
        // smp_call_function() publishes its request with a full barrier before the IPI.
        if (n > 0) return;
        for (let d = 0; d < this.nCpu; d++) if (d !== c && s[this.base(d) + IPIP] !== 0) return;
        const t = this.scratch(s);
        const h = IPI_HANDLERS.indexOf(st.handler) + 1;
        for (let d = 0; d < this.nCpu; d++) {
          if (d === c) continue;
          t[this.base(d) + IPIP] = h;
          t[this.base(d) + IPIF] = c + 1;
        }
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "ipi-local": {
        if (handlerNeedsDrain(st.handler) && n > 0) return;
        const t = this.scratch(s);
        this.runHandler(t, c, st.handler);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "stop-arrived": {
        for (let d = 0; d < this.nCpu; d++) {
          const bd = this.base(d);
          if (s[bd + IPIF] === c + 1 && (s[bd + STOPF] & 1) === 0) return;
        }
        const t = this.scratch(s);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "stop-release": {
        const t = this.scratch(s);
        for (let d = 0; d < this.nCpu; d++) {
          const bd = this.base(d);
          if (t[bd + IPIF] === c + 1) t[bd + STOPF] |= 2;
        }
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "ipi-wait": {
        if (s[b + IPIQ] !== 0) return;
        for (let d = 0; d < this.nCpu; d++) if (s[this.base(d) + IPIF] === c + 1) return;
        const t = this.scratch(s);
        t[b + PC]++;
        emit(lbl, this.canonical(t));
        return;
      }
      case "effect":
        this.effectStep(s, c, st, emit);
        return;
      case "call":
        this.callStep(s, c, st.region, st.reg, emit);
        return;
      case "exec":
        this.callStep(s, c, st.region, -1, emit, st);
        return;
      case "effect-reg": {
        const sym = this.symbolAt(s[b + this.o.regs + st.addr], st.text);
        if (sym.kind !== "code") throw new Error(`${st.text}: the address ${sym.name} is not code`);
        this.effectStep(
          s,
          c,
          {
            k: "effect",
            effect: st.effect,
            insn: st.insn,
            region: sym.region,
            line: sym.line,
            frame: -1,
            text: st.text,
            sync: true,
          },
          emit,
        );
        return;
      }
      default: {
        const t = this.scratch(s);
        if (!this.instructionStep(t, c, st)) return;
        if (st.k === "ldr" && this.feedsClean[c][s[b + PC]]) this.cleansFromHere(t, c);
        emit(lbl, this.canonical(t));
        if (st.k === "ldr" && this.deferrable[c][s[b + PC]] && s[b + this.o.pload] === 0) {
          const R = b + this.o.regs;
          const loc = this.locOfSymbol(s, this.symbolAt(s[R + st.addr], st.text), st.text);
          this.deferLoad(s, c, st.dst, loc, emit);
        }
      }
    }
  }

  /** Leaves a load pending: later steps run first, performLoad() reads memory later. */
  private deferLoad(s: Uint8Array, c: number, reg: number, loc: number, emit: Emit): void {
    const b = this.base(c);
    const t = this.scratch(s);
    // Bit 7: the load feeds a DC CVAU's address (feedsClean); registers are fewer than 127.
    t[b + this.o.pload] = (reg + 1) | (this.feedsClean[c][s[b + PC]] ? 128 : 0);
    t[b + this.o.pload + 1] = loc;
    t[b + PC]++;
    emit(label(c, K.prog, 1), this.canonical(t));
  }

  /** Performs CPU c's pending load; false when the value contradicts a branch's prediction. */
  private performLoad(t: Uint8Array, c: number): boolean {
    const b = this.base(c);
    const reg = (t[b + this.o.pload] & 127) - 1;
    const loc = t[b + this.o.pload + 1];
    const raw = this.read(t, c, loc);
    const v = this.isCode(loc) ? this.layout.versionSymbol[raw] : raw;
    const pred = t[b + this.o.pload + 2];
    if ((pred === 1 && v !== 0) || (pred === 2 && v === 0)) return false;
    t[b + this.o.regs + reg] = v;
    if (t[b + this.o.pload] & 128) this.cleansFromHere(t, c);
    t[b + this.o.pload] = 0;
    t[b + this.o.pload + 1] = 0;
    t[b + this.o.pload + 2] = 0;
    return true;
  }

  /**
   * A load-acquire waits until this CPU's buffered store-releases are visible, where the arch
   * orders a release before a later acquire (arm64: Arm ARM B2.3, "[L]; po; [A]" in herd7's
   * aarch64.cat bob).
   */
  private acquireWaits(s: Uint8Array, c: number, st: Step): boolean {
    if (!this.layout.arch.acquireAfterRelease) return false;
    if ((st.k !== "ldr" && st.k !== "load") || !st.acquire) return false;
    const b = this.base(c);
    for (let i = 0; i < s[b + SBLEN]; i++) if (s[b + SB + 3 * i + 2] & 128) return true;
    return false;
  }

  /** A CBZ/CBNZ on CPU c's pending load (taken speculatively by programStep). */
  private branchOnPending(s: Uint8Array, c: number, st: Step): boolean {
    if (this.layout.arch.loadsInOrder || st.k !== "jump") return false;
    if (st.when !== "cbz" && st.when !== "cbnz") return false;
    const p = s[this.base(c) + this.o.pload];
    return p !== 0 && (p & 127) - 1 === st.reg;
  }

  /**
   * A conditional branch on a pending load: both ways, each predicting the load's value (zero or
   * not). Later loads may then run ahead of the load; later stores and ISB wait for it (Arm ARM
   * B2.3: a control dependency orders later stores, with an ISB later loads), and the load is
   * performed only with a value matching the prediction — otherwise the execution does not
   * exist (acceptable()).
   */
  private speculateBranch(
    s: Uint8Array,
    c: number,
    st: Extract<Step, { k: "jump" }>,
    emit: Emit,
  ): void {
    const b = this.base(c);
    for (const take of [true, false]) {
      const t = this.scratch(s);
      const zero = st.when === "cbz" ? take : !take;
      t[b + this.o.pload + 2] = zero ? 1 : 2;
      t[b + PC] = take ? st.target : t[b + PC] + 1;
      emit(label(c, K.prog, take ? 2 : 3), this.canonical(t));
    }
  }

  /**
   * Whether step st must wait for CPU c's pending load (Arm ARM B2.3): it reads or writes the
   * load's register (address, data and control dependencies), accesses its location
   * (coherence), is a store-release, or is a barrier or any other step the model keeps in order.
   */
  private waitsForLoad(s: Uint8Array, c: number, st: Step): boolean {
    if (this.layout.arch.loadsInOrder) return false;
    const b = this.base(c);
    const p = s[b + this.o.pload];
    if (p === 0) return false;
    const r = (p & 127) - 1;
    const loc = s[b + this.o.pload + 1];
    const predicted = s[b + this.o.pload + 2] !== 0;
    const R = b + this.o.regs;
    const at = (reg: number) => {
      const v = s[R + reg];
      const sym = this.layout.symbols[v - SYMBOL_BASE];
      return v >= SYMBOL_BASE && sym && sym.kind !== "insn" && sym.kind !== "label"
        ? this.locOfSymbol(s, sym, st.text)
        : -1;
    };
    switch (st.k) {
      case "mov":
        return st.dst === r || st.src === r;
      case "alu":
      case "flags":
        return ("dst" in st && st.dst === r) || st.a === r || st.b === r;
      case "cset":
        return st.dst === r;
      case "ldr":
        return st.dst === r || st.addr === r || at(st.addr) === loc;
      case "load":
        return st.reg === r || st.loc === loc;
      case "str":
        return predicted || st.release || st.src === r || st.addr === r || at(st.addr) === loc;
      case "store":
        return predicted || st.release || st.loc === loc;
      case "jump":
        // A CBZ/CBNZ on the load is taken speculatively (speculateBranch), once.
        return (
          ((st.when === "cbz" || st.when === "cbnz") && st.reg === r && predicted) || st.link === r
        );
      case "br":
        return st.reg === r || st.link === r;
      case "effect":
        // After a predicted branch an ISB waits too (ctrl; ISB orders later loads).
        return (
          predicted ||
          !(st.effect === "store-barrier" || st.effect === "none" || st.effect === "context-sync")
        );
      default:
        return true;
    }
  }

  private symbolAt(v: number, where: string): ValueSymbol {
    const sym = this.layout.symbols[v - SYMBOL_BASE];
    if (v < SYMBOL_BASE || !sym) throw new Error(`${where}: ${v} is not an address`);
    return sym;
  }

  /** Location a data access to an address symbol reaches (code through the current mapping). */
  private locOfSymbol(s: Uint8Array, sym: ValueSymbol, where: string): number {
    const L = this.layout;
    if (sym.kind === "data") return sym.loc;
    if (sym.kind === "code") {
      const r = L.regions[sym.region];
      return this.locOfVa(s, -1, L.pages[r.page].vaBase + r.offset + sym.line);
    }
    throw new Error(`${where}: ${sym.name} is not a memory address`);
  }

  /** Registers, ALU, flags, loads, stores and branches; false when not enabled. */
  private instructionStep(t: Uint8Array, c: number, st: Step): boolean {
    const L = this.layout;
    const a = L.arch;
    const b = this.base(c);
    const R = b + this.o.regs;
    const cpu = L.cpus[c];
    if (!this.lateFetchAllows(t, c, st)) return false;
    switch (st.k) {
      case "mov":
        t[R + st.dst] = st.src >= 0 ? t[R + st.src] : st.value;
        break;
      case "alu":
        t[R + st.dst] = alu(st.fn, t[R + st.a], st.b >= 0 ? t[R + st.b] : st.value, st.text);
        break;
      case "flags": {
        const x = t[R + st.a];
        const y = st.b >= 0 ? t[R + st.b] : st.value;
        t[R + cpu.flagsReg] = flags(st.fn, x, y);
        break;
      }
      case "cset":
        t[R + st.dst] = condHolds(st.cond, t[R + cpu.flagsReg]) ? 1 : 0;
        break;
      case "ldr": {
        const loc = this.locOfSymbol(t, this.symbolAt(t[R + st.addr], st.text), st.text);
        const v = this.read(t, c, loc);
        t[R + st.dst] = this.isCode(loc) ? L.versionSymbol[v] : v;
        break;
      }
      case "str": {
        const n = t[b + SBLEN];
        if (n >= L.sbMax) return false;
        const sym = this.symbolAt(t[R + st.addr], st.text);
        const loc = this.locOfSymbol(t, sym, st.text);
        let v = t[R + st.src];
        if (this.isCode(loc)) {
          const vs = L.symbols[v - SYMBOL_BASE];
          if (v < SYMBOL_BASE || !vs || vs.kind !== "insn")
            throw new Error(`${st.text}: storing ${v} into code; only instruction values can be`);
          v = vs.version;
        }
        let ep = t[b + EPOCH];
        if (st.release && !a.tso) ep = ++t[b + EPOCH] | 128; // bit 7: a release (acquireWaits)
        const e = b + SB + 3 * n;
        t[e] = loc;
        t[e + 1] = v;
        t[e + 2] = ep;
        t[b + SBLEN] = n + 1;
        if (a.smcSnoopLinear && sym.kind === "code") {
          const r = L.regions[sym.region];
          t[b + this.o.pipe + L.pages[r.page].vaBase + r.offset + sym.line] = NONE;
        }
        break;
      }
      case "jump": {
        let take = true;
        if (st.when === "cbz") take = t[R + st.reg] === 0;
        else if (st.when === "cbnz") take = t[R + st.reg] !== 0;
        else if (st.when !== "always") take = condHolds(st.when, t[R + cpu.flagsReg]);
        if (st.link >= 0) t[R + st.link] = st.linkValue;
        t[b + PC] = take ? st.target : t[b + PC] + 1;
        return true;
      }
      case "br": {
        const sym = this.symbolAt(t[R + st.reg], st.text);
        if (sym.kind !== "label" || sym.cpu !== c)
          throw new Error(`${st.text}: ${sym.name} is not a label of P${c}`);
        if (st.link >= 0) t[R + st.link] = st.linkValue;
        t[b + PC] = sym.pc;
        return true;
      }
      default:
        throw new Error(`step ${st.k} is not an instruction-level step`);
    }
    t[b + PC]++;
    return true;
  }

  private isLocal(s: Uint8Array, c: number, st: Step, pc: number): boolean {
    if (s[this.base(c) + PROPH] !== 0) return false;
    switch (st.k) {
      case "mov":
      case "alu":
      case "flags":
      case "cset":
        return true;
      case "jump":
        return st.target > pc;
      case "br": {
        const v = s[this.base(c) + this.o.regs + st.reg];
        const sym = this.layout.symbols[v - SYMBOL_BASE];
        return (
          v >= SYMBOL_BASE &&
          sym !== undefined &&
          sym.kind === "label" &&
          sym.cpu === c &&
          sym.pc > pc
        );
      }
      default:
        return false;
    }
  }

  private isCode(loc: number): boolean {
    return loc >= this.layout.codeBase && loc < this.layout.codeBase + this.layout.nCode;
  }

  private effectStep(
    s: Uint8Array,
    c: number,
    st: Extract<Step, { k: "effect" }>,
    emit: Emit,
  ): void {
    const L = this.layout;
    const a = L.arch;
    const b = this.base(c);
    const n = s[b + SBLEN];
    const t = this.scratch(s);
    switch (st.effect) {
      case "serialise":
        if (n > 0) return; // SDM 9.3: buffered writes drain before the next instruction
        this.flushPipe(t, c);
        break;
      case "context-sync":
        this.flushPipe(t, c);
        break;
      case "full-barrier":
        if (n > 0) return;
        // Arm ARM D7.5.9.15: a DMB orders DC CVAU before later loads and stores.
        if (!a.idc) this.completeCleans(t, c);
        break;
      case "store-fence":
        if (n > 0) return;
        break;
      case "load-barrier":
        break; // earlier loads are performed (waitsForLoad)
      case "store-barrier":
        if (!a.tso) t[b + EPOCH]++;
        break;
      case "device-barrier":
        // Later device writes (IPIs) wait for every store buffered now.
        t[b + WOM] = n;
        break;
      case "dsb":
        if (n > 0) return;
        // Arm ARM D7.5.9.15: maintenance is complete after a DSB (of loads and stores).
        if (!a.idc) this.completeCleans(t, c);
        if (!a.dic)
          for (let cl = 0; cl < L.nCl; cl++)
            if (t[b + this.o.pinval + cl]) this.completeInvalidate(t, c, cl);
        break;
      case "dsb-local":
        // DSB NSH: complete for this CPU only; other CPUs may still see the invalidation late.
        if (n > 0) return;
        if (!a.idc) this.completeCleans(t, c);
        if (!a.dic)
          for (let cl = 0; cl < L.nCl; cl++)
            if (t[b + this.o.pinval + cl]) this.icacheReset(t, c, L.codeOfCl[cl]);
        break;
      case "clean-to-pou": {
        if (a.idc) break;
        const cl = this.lineOf(s, st.region, st.line, st.frame);
        // Ordered after this CPU's earlier stores to the same line.
        for (let i = 0; i < n; i++) if (L.codeOfCl[cl].includes(s[b + SB + 3 * i])) return;
        // One successor per combination of captured versions of the line's slots.
        let combos: number[][] = [[]];
        for (const loc of L.codeOfCl[cl]) {
          const ci = loc - L.codeBase;
          const opts = this.versionsOf(ci, s[b + this.o.dcseen + ci] | this.bit(ci, s[loc]));
          combos = combos.flatMap((xs) => opts.map((v) => [...xs, v]));
        }
        combos.forEach((vs, k) => {
          const u = this.scratch(s);
          L.codeOfCl[cl].forEach((loc, j) => {
            const ci = loc - L.codeBase;
            u[b + this.o.pclean + ci] |= this.bit(ci, vs[j]);
          });
          u[b + PC]++;
          emit(label(c, K.prog, k), this.canonical(u));
        });
        return;
      }
      case "icache-invalidate-line": {
        // Arm ARM D7.5.9.15: the invalidation completes at any time, and surely by this CPU's
        // next DSB; until then other CPUs may still fetch the versions it removes.
        if (a.dic) break;
        t[b + this.o.pinval + this.lineOf(s, st.region, st.line, st.frame)] = 1;
        break;
      }
      case "icache-invalidate-local":
        this.icacheReset(t, c, null);
        break;
      case "icache-invalidate-all":
        for (let d = 0; d < this.nCpu; d++) this.icacheReset(t, d, null);
        break;
      case "fence.i":
        // Zifencei: this hart's fetches see the stores already visible to it. herd7 (and
        // riscv64) also order its earlier stores before everything after: it waits for them.
        if (n > 0 && a.fenceIWaitsForStores !== false) return;
        this.icacheReset(t, c, null);
        if (!a.dic)
          for (let i = 0; i < n; i++) {
            const loc = t[b + SB + 3 * i];
            if (this.isCode(loc))
              t[b + this.o.icache + loc - L.codeBase] = this.bit(
                loc - L.codeBase,
                t[b + SB + 3 * i + 1],
              );
          }
        this.flushPipe(t, c);
        break;
      case "tlb-flush-local":
        // INVLPG is serialising on x86-64 (SDM vol. 3A 9.3).
        if (a.tlbFlushSerialises) {
          if (n > 0) return;
          this.flushPipe(t, c);
        }
        t.fill(NONE, b + this.o.tlb, b + this.o.tlb + L.pages.length);
        break;
      case "tlb-flush-broadcast":
        if (n > 0) return;
        for (let d = 0; d < this.nCpu; d++)
          t.fill(NONE, this.base(d) + this.o.tlb, this.base(d) + this.o.tlb + L.pages.length);
        break;
      case "none":
        break;
    }
    t[b + PC]++;
    emit(label(c, K.prog, 0), this.canonical(t));
  }

  /** Global cache line of a region line through the current mapping (or its own frame). */
  private lineOf(s: Uint8Array, ri: number, line: number, frame: number): number {
    const L = this.layout;
    const r = L.regions[ri];
    const p = L.pages[r.page];
    const pte = s[p.pteLoc];
    const f =
      frame >= 0 ? L.frames[frame] : pte !== 0 ? L.frames[pteFrame(pte)] : L.frames[p.frames[0]];
    return f.clBase + p.lineOfSlot[r.offset + line];
  }

  /** One line of a call: fetch through the pipeline, take a fault, or finish the run. */
  private callStep(
    s: Uint8Array,
    c: number,
    ri: number,
    reg: number,
    emit: Emit,
    exec?: Extract<Step, { k: "exec" }>,
  ): void {
    const L = this.layout;
    const b = this.base(c);
    const r = L.regions[ri];
    const i = exec ? exec.line : s[b + CSLOT];
    const va = L.pages[r.page].vaBase + r.offset + i;
    const entry = s[b + this.o.pipe + va];
    if (entry !== NONE) {
      const o = { v: entry, fill: -1, rank: s[b + this.o.prank + va], co: [], combo: 0 };
      this.callWith(s, c, ri, reg, emit, exec, i, va, o);
      return;
    }
    const cpu = L.cpus[c];
    const live = this.liveness ? cpu.liveRegions[s[b + PC]] : L.regions.map((x) => x.index);
    // The litmus front-end's exec keeps the ESOP 2020 model (herd7 agreement): no UNPRED there.
    const opts = this.fetchOptions(s, c, va);
    for (const o of exec ? opts : this.withUnpredictable(ri, opts)) {
      const faulted = o.v === FAULT || o.v === FAULT_PROT || o.v === UNPRED;
      const combos = faulted ? [[]] : this.coFetch(s, c, va, live);
      for (const [k, co] of combos.entries())
        this.callWith(s, c, ri, reg, emit, exec, i, va, { ...o, rank: 0, co, combo: k });
    }
    if (exec && L.arch.lateFetch && s[b + PROPH] === 0) this.lateFetch(s, c, exec, va, opts, emit);
  }

  /**
   * RISC-V without Ziccid: the fetch of an instruction acting on registers only may be performed
   * after later loads and stores. The CPU runs a version that its fetch cannot return yet; the
   * state records that the fetch is pending, and a drain of that version by another CPU performs
   * it. An execution where it never is does not exist (acceptable()).
   */
  private lateFetch(
    s: Uint8Array,
    c: number,
    exec: Extract<Step, { k: "exec" }>,
    va: number,
    now: { v: number }[],
    emit: Emit,
  ): void {
    const L = this.layout;
    const b = this.base(c);
    const r = L.regions[exec.region];
    const { ci } = this.lookup(s, c, va);
    if (ci < 0) return;
    for (const v of r.registerOnly) {
      if (now.some((o) => o.v === v) || exec.dispatch[v] === undefined || exec.dispatch[v] < 0)
        continue;
      const t = this.scratch(s);
      this.squashOlder(t, c, 0);
      t[b + PROPH] = ci + 1;
      t[b + PVER] = v;
      t[b + TAINT] = 0;
      t[b + TAINT + 1] = 0;
      t[b + CSF] = 0;
      t[b + PC] = exec.dispatch[v];
      emit(label(c, K.prog, 200 + v), this.canonical(t));
    }
  }

  private callWith(
    s: Uint8Array,
    c: number,
    ri: number,
    reg: number,
    emit: Emit,
    exec: Extract<Step, { k: "exec" }> | undefined,
    i: number,
    va: number,
    o: { v: number; fill: number; rank: number; co: number[][]; combo: number },
  ): void {
    const L = this.layout;
    const a = L.arch;
    const b = this.base(c);
    const r = L.regions[ri];
    const t = this.scratch(s);
    this.squashOlder(t, c, o.rank);
    t[b + this.o.pipe + va] = NONE;
    t[b + this.o.prank + va] = 0;
    this.applyFill(t, c, va, o.fill);
    // The rest of the line, fetched with it (after the squash: it is the newest fetch).
    for (const [x, v] of o.co) {
      t[b + this.o.pipe + x] = v;
      t[b + this.o.prank + x] = 1;
    }
    let v = o.v;
    const lbl = label(c, K.prog, v + 1, o.combo);
    if (v === UNPRED) {
      this.finishCall(t, c, reg, CLS_UNPRED);
      emit(lbl, this.canonical(t));
      return;
    }
    if (v === FAULT || v === FAULT_PROT) {
      if (a.exceptions.drainsStores && t[b + SBLEN] > 0) return;
      const page = L.pages[r.page];
      const pte = t[page.pteLoc];
      // The faulting page's TLB entry is gone after the fault: x86 drops it on delivery (SDM
      // 4.10.4.1); riscv's handler flushes it (arch/riscv/mm/fault.c, local_flush_tlb_page);
      // arm64 caches no translation that faults.
      t[b + this.o.tlb + r.page] = NONE;
      const permits = pte !== 0 && (ptePerm(pte) & PERM_X) !== 0;
      // Which faults the handler retries: handle_mm_fault() for user pages; on kernel text only
      // those the architecture's fault.c treats as spurious (ArchVariant.spuriousFetchFault).
      const rules = a.spuriousFetchFault;
      const spurious =
        permits && (page.user || (v === FAULT ? rules.notPresent : rules.permission));
      if (permits && !spurious && !exec) {
        // The page table permits the fetch now, but the kernel does not take this fault for a
        // spurious one: the handler dies (an oops).
        this.finishCall(t, c, reg, CLS_OOPS);
        emit(lbl, this.canonical(t));
        return;
      }
      if (spurious && t[b + CSF] < 8) {
        // Spurious: the page table permits the fetch now. The handler returns; the line is retried.
        t[b + CSF]++;
        this.exceptionSyncs(t, c);
        const e = a.exceptions;
        if (!(e.entrySyncs || e.returnSyncs) && o.rank > 0) {
          // Without a context synchronisation the later prefetched lines stay: the refetch of
          // the faulting line takes its place in fetch order.
          const base = t.slice();
          for (const x of this.fetchOptions(base, c, va)) {
            const u = this.scratch(base);
            this.applyFill(u, c, va, x.fill);
            u[b + this.o.pipe + va] = x.v;
            u[b + this.o.prank + va] = o.rank;
            emit(label(c, K.prog, (v + 1) | ((x.v + 1) << 8)), this.canonical(u));
          }
          return;
        }
      } else if (exec) {
        // A real fault on an instruction-level program ends it; observed as P:fault=1.
        t[b + this.o.regs + L.cpus[c].faultReg] = 1;
        t[b + CSF] = 0;
        t[b + PC] = L.cpus[c].steps.length;
      } else {
        this.finishCall(t, c, reg, CLS_FAULT);
      }
      emit(lbl, this.canonical(t));
      return;
    }
    if (exec) {
      const cpu = L.cpus[c];
      if (
        a.cmodxSafe &&
        this.storePending(t, this.locOfVa(t, c, va)) &&
        !this.cmodxSafe(r, v + 1, t, va)
      ) {
        t[b + this.o.regs + cpu.unpredReg] = 1;
      }
      const next = exec.dispatch[v];
      if (next === undefined || next < 0)
        throw new Error(
          `${exec.text}: fetched ${L.versions[v]}, which the program does not dispatch`,
        );
      t[b + CSF] = 0;
      t[b + CFLAGS] = 0;
      t[b + PC] = next;
      emit(lbl, this.canonical(t));
      return;
    }
    // arch/x86/kernel/alternative.c poke_int3_handler(): while text_poke_bp() patches this
    // site, the int3 traps and the handler emulates the new instruction, then returns.
    // The emulated instruction is the whole site: execution resumes after it.
    let emulated = false;
    if (v === L.trapVersion && L.bpLoc >= 0 && this.read(t, c, L.bpLoc) === ri + 1) {
      if (a.exceptions.drainsStores && t[b + SBLEN] > 0) return;
      this.exceptionSyncs(t, c);
      v = r.versions[r.versions.length - 1];
      emulated = true;
    }
    // arm64 CMODX: fetching a line whose write is still in flight is a concurrent modification.
    if (a.cmodxSafe && this.storePending(t, this.locOfVa(t, c, va))) t[b + CFLAGS] |= 1;
    const acc = t[b + CACC];
    t[b + CACC] = acc === 0 ? v + 1 : acc === v + 1 ? acc : TORN;
    if (v === L.trapVersion || emulated || i + 1 === r.lines) {
      const accNow = t[b + CACC];
      let cls: number;
      if (t[b + CFLAGS] & 1 && !this.cmodxSafe(r, accNow, t, va)) cls = CLS_UNPRED;
      else if (accNow === TORN) cls = CLS_TORN;
      else if (accNow - 1 === L.trapVersion) cls = CLS_TRAP;
      else if (accNow - 1 === r.versions[r.versions.length - 1]) cls = CLS_NEW;
      else cls = CLS_STALE;
      this.finishCall(t, c, reg, cls);
    } else {
      t[b + CSLOT] = i + 1;
    }
    emit(lbl, this.canonical(t));
  }

  private locOfVa(s: Uint8Array, c: number, va: number): number {
    const L = this.layout;
    const p = L.pages[L.vaPage[va]];
    const pte = s[p.pteLoc];
    const f = pte !== 0 ? L.frames[pteFrame(pte)] : L.frames[p.frames[0]];
    void c;
    return f.slotLoc + L.vaSlotInPage[va];
  }

  /** Both the executed and the written instruction are among the CMODX-safe ones. */
  private cmodxSafe(
    r: { insn: Map<number, string>; versions: number[] },
    acc: number,
    s: Uint8Array,
    va: number,
  ): boolean {
    const safe = this.layout.arch.cmodxSafe!;
    const kind = (v: number) => r.insn.get(v) ?? "code";
    if (acc === TORN) return false;
    const ran = acc - 1;
    const now = s[this.locOfVa(s, -1, va)];
    return safe.includes(kind(ran)) && safe.includes(kind(now));
  }

  private finishCall(t: Uint8Array, c: number, reg: number, cls: number): void {
    const b = this.base(c);
    t[b + this.o.regs + reg] = 1 + cls + (t[b + CSF] > 0 ? 8 : 0);
    t[b + CSLOT] = 0;
    t[b + CACC] = 0;
    t[b + CSF] = 0;
    t[b + CFLAGS] = 0;
    t[b + PC]++;
  }

  // ---- canonical form (reductions) ---------------------------------------------------------

  /** Normalises a state: epochs relative, dead entries erased, symmetric CPUs sorted. */
  canonical(t: Uint8Array): Uint8Array {
    const L = this.layout;
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      const n = t[b + SBLEN];
      if (n === 0) t[b + EPOCH] = 0;
      else {
        const m = t[b + SB + 2] & 127;
        if (m > 0) {
          for (let i = 0; i < n; i++) t[b + SB + 3 * i + 2] -= m; // bit 7 (release) is kept
          t[b + EPOCH] -= m;
        }
      }
      if (!this.liveness) continue;
      const cpu = L.cpus[c];
      const pc = t[b + PC];
      const live = cpu.liveRegions[Math.min(pc, cpu.steps.length)];
      if (live.length === 0) {
        t.fill(NONE, b + this.o.tlb, b + this.o.prank);
        t.fill(0, b + this.o.prank, b + this.o.prank + L.nVaSlots);
        continue;
      }
      // Pipeline entries of regions this CPU will not run again are dead.
      for (let va = 0; va < L.nVaSlots; va++) {
        if (t[b + this.o.pipe + va] === NONE) continue;
        if (!this.vaLive(va, live)) {
          t[b + this.o.pipe + va] = NONE;
          t[b + this.o.prank + va] = 0;
        }
      }
    }
    // Fetch ranks keep only their order.
    for (let c = 0; c < this.nCpu; c++) this.compressRanks(t, this.base(c) + this.o.prank);
    if (this.liveness && !L.arch.idc) {
      // Nothing will fetch again: the point of unification no longer matters.
      let anyLive = false;
      for (let c = 0; c < this.nCpu && !anyLive; c++) anyLive = !this.done(t, c);
      if (!anyLive)
        for (let i = 0; i < L.nCode; i++) t[this.pouOff + i] = this.bit(i, t[L.codeBase + i]);
    }
    for (const g of this.symmetryGroups) this.sortGroup(t, g);
    return t;
  }

  private compressRanks(t: Uint8Array, off: number): void {
    const n = this.layout.nVaSlots;
    // Fast path: ranks already 1..k.
    let count = 0;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const r = t[off + i];
      if (r) {
        count++;
        if (r > max) max = r;
      }
    }
    if (max === count) return;
    let next = 1;
    for (;;) {
      let min = 256;
      for (let i = 0; i < n; i++) if (t[off + i] >= next && t[off + i] < min) min = t[off + i];
      if (min === 256) return;
      if (min !== next) for (let i = 0; i < n; i++) if (t[off + i] === min) t[off + i] = next;
      next++;
    }
  }

  private vaLive(va: number, live: number[]): boolean {
    const L = this.layout;
    for (const ri of live) {
      const r = L.regions[ri];
      const base = L.pages[r.page].vaBase + r.offset;
      if (va >= base && va < base + r.lines) return true;
    }
    return false;
  }

  private sortGroup(t: Uint8Array, g: number[]): void {
    // Insertion sort of the CPU blocks of a symmetric group (lexicographic on bytes).
    const size = this.cpuSize;
    for (let i = 1; i < g.length; i++) {
      for (let j = i; j > 0; j--) {
        const a = this.base(g[j - 1]);
        const bb = this.base(g[j]);
        let cmp = 0;
        for (let k = 0; k < size && cmp === 0; k++) cmp = t[a + k] - t[bb + k];
        if (cmp <= 0) break;
        const tmp = t.slice(a, a + size);
        t.copyWithin(a, bb, bb + size);
        t.set(tmp, bb);
      }
    }
  }

  // ---- observing -----------------------------------------------------------------------------

  /** Observed values of a final state: every register, and the data locations. */
  observe(s: Uint8Array): Record<string, string> {
    const L = this.layout;
    const out: Record<string, string> = {};
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      const cpu = L.cpus[c];
      cpu.regs.forEach((r, i) => {
        const v = s[b + this.o.regs + i];
        if (r.startsWith("_")) {
          if (i !== cpu.flagsReg && v) out[`${c}:${r.slice(1)}`] = "1";
          return;
        }
        out[`${c}:${r}`] = cpu.regKind[i] === "call" ? callResultText(v) : this.valueName(v);
      });
    }
    L.dataNames.forEach((d, i) => (out[d] = this.valueName(s[i])));
    const hung = [...Array(this.nCpu).keys()].filter((c) => !this.done(s, c));
    if (hung.length) out["hang"] = hung.map((c) => `P${c}`).join(",");
    return out;
  }

  /** Text of a register or data value: an integer, or a symbol's name. */
  valueName(v: number): string {
    if (v < SYMBOL_BASE) return String(v);
    return this.layout.symbols[v - SYMBOL_BASE]?.name ?? String(v);
  }

  /** What each CPU's pipeline, I-cache, D-cache view and TLB hold (for the residency chart). */
  residency(s: Uint8Array): ResidencyCell[] {
    const L = this.layout;
    const a = L.arch;
    const cells: ResidencyCell[] = [];
    const vname = (v: number) =>
      v === FAULT || v === FAULT_PROT
        ? "fault"
        : v === UNPRED
          ? "unpredictable"
          : (L.versions[v] ?? String(v));
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      for (let va = 0; va < L.nVaSlots; va++) {
        const v = s[b + this.o.pipe + va];
        if (v !== NONE)
          cells.push({ cpu: c, structure: "pipeline", line: L.vaName[va], version: vname(v) });
      }
      for (let ci = 0; ci < L.nCode; ci++) {
        const loc = L.codeBase + ci;
        const ic = a.dic
          ? a.fetchSeesOwnStores
            ? this.bit(ci, s[loc])
            : this.pouMask(s, ci)
          : s[b + this.o.icache + ci];
        if (ic !== NONE && ic !== 0)
          cells.push({
            cpu: c,
            structure: "icache",
            line: L.locName[loc],
            version: this.setName(ci, ic),
          });
        cells.push({
          cpu: c,
          structure: "dcache",
          line: L.locName[loc],
          version: vname(this.read(s, c, loc)),
        });
      }
      for (let p = 0; p < L.pages.length; p++) {
        const e = s[b + this.o.tlb + p];
        if (e !== NONE)
          cells.push({
            cpu: c,
            structure: "tlb",
            line: L.pages[p].name,
            version: e === 0 ? "invalid" : permText(ptePerm(e)),
          });
      }
    }
    return cells;
  }

  /** Name of a set of versions: "old", or "old|new" when the I-side may present either. */
  setName(ci: number, mask: number): string {
    return this.versionsOf(ci, mask)
      .map((v) => this.layout.versions[v])
      .join("|");
  }

  /** Rows of the residency chart: code lines (VA names and frame lines), then pages. */
  residencyLines(): string[] {
    const L = this.layout;
    const out: string[] = [];
    for (const n of [
      ...L.vaName,
      ...L.locName.slice(L.codeBase, L.codeBase + L.nCode),
      ...L.pages.map((p) => p.name),
    ]) {
      if (!out.includes(n)) out.push(n);
    }
    return out;
  }

  /** Describe a transition in the kernel's words. */
  describe(
    lbl: number,
    before: Uint8Array,
  ): { cpu: number; kind: "program" | "hardware"; action: string; sync: boolean } {
    const L = this.layout;
    const c = labelCpu(lbl);
    const k = labelKind(lbl);
    const arg = labelArg(lbl);
    const cpu = c < 0 ? -1 : c;
    switch (k) {
      case K.prog: {
        const st = L.cpus[c].steps[before[this.base(c) + PC]];
        let action = st.text;
        if (st.k === "call")
          action = `${st.text}: fetch ${L.regions[st.region].name}+${before[this.base(c) + CSLOT]}`;
        if ((st.k === "ldr" || st.k === "load") && arg === 1)
          action = `${st.text} (left pending: later steps may run first)`;
        if (st.k === "jump" && arg >= 2)
          action = `${st.text} (${arg === 2 ? "taken" : "not taken"}, predicted: its load is pending)`;
        if (st.k === "exec" && arg >= 200)
          action = `${st.text}: runs ${L.versions[arg - 200]} before its fetch is performed (late fetch)`;
        const sync =
          st.k === "effect"
            ? st.sync
            : st.k.startsWith("ipi") || st.k.startsWith("stop") || st.k === "interrupt";
        return { cpu, kind: "program", action, sync };
      }
      case K.drain: {
        const b = this.base(c) + SB + 3 * arg;
        const loc = before[b];
        const v = before[b + 1];
        return {
          cpu,
          kind: "hardware",
          action: `store buffer drains ${L.locName[loc]} = ${this.valueText(loc, v)}`,
          sync: false,
        };
      }
      case K.spec:
        return {
          cpu,
          kind: "hardware",
          action: `speculative fetch ${L.vaName[arg & 255]}`,
          sync: false,
        };
      case K.tlbfill:
        return { cpu, kind: "hardware", action: `TLB fill ${L.pages[arg].name}`, sync: false };
      case K.icomplete:
        return {
          cpu,
          kind: "hardware",
          action: `IC IVAU ${L.codeOfCl[arg].map((l) => L.locName[l]).join("|")} completes`,
          sync: false,
        };
      case K.tlbevict:
        return { cpu, kind: "hardware", action: `TLB evicts ${L.pages[arg].name}`, sync: false };
      case K.irq:
        return { cpu, kind: "hardware", action: "interrupt delivered", sync: true };
      case K.load: {
        const b = this.base(c) + this.o.pload;
        const reg = L.cpus[c].regs[(before[b] & 127) - 1];
        return {
          cpu,
          kind: "hardware",
          action: `pending load ${reg} = [${L.locName[before[b + 1]]}] performed`,
          sync: false,
        };
      }
      case K.ipipost: {
        const h = IPI_HANDLERS[before[this.base(c) + IPIQ] - 1];
        return { cpu, kind: "hardware", action: `IPI (${h}) reaches the other CPUs`, sync: false };
      }
      case K.ipi: {
        const h = IPI_HANDLERS[before[this.base(c) + IPIP] - 1];
        return { cpu, kind: "hardware", action: `IPI taken (${h})`, sync: true };
      }
    }
    return { cpu, kind: "hardware", action: `?${k}`, sync: false };
  }

  /** Human text of the difference between two states (for witness tables). */
  diff(before: Uint8Array, after: Uint8Array): string {
    const L = this.layout;
    const parts: string[] = [];
    const vname = (v: number) =>
      v === NONE
        ? "-"
        : v === FAULT || v === FAULT_PROT
          ? "fault"
          : v === UNPRED
            ? "unpredictable"
            : (L.versions[v] ?? String(v));
    for (let i = 0; i < L.nLoc; i++)
      if (before[i] !== after[i])
        parts.push(
          `${L.locName[i]}: ${this.valueText(i, before[i])} -> ${this.valueText(i, after[i])}`,
        );
    if (!L.arch.idc)
      for (let i = 0; i < L.nCode; i++)
        if (before[this.pouOff + i] !== after[this.pouOff + i])
          parts.push(
            `PoU ${L.locName[L.codeBase + i]}: {${this.setName(i, before[this.pouOff + i])}} -> {${this.setName(i, after[this.pouOff + i])}}`,
          );
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      for (let va = 0; va < L.nVaSlots; va++) {
        const x = before[b + this.o.pipe + va];
        const y = after[b + this.o.pipe + va];
        if (x !== y) parts.push(`pipeline[${c}] ${L.vaName[va]}: ${vname(x)} -> ${vname(y)}`);
      }
      if (!L.arch.dic)
        for (let ci = 0; ci < L.nCode; ci++) {
          const x = before[b + this.o.icache + ci];
          const y = after[b + this.o.icache + ci];
          if (x !== y)
            parts.push(
              `icache[${c}] ${L.locName[L.codeBase + ci]}: {${this.setName(ci, x)}} -> {${this.setName(ci, y)}}`,
            );
        }
      for (let p = 0; p < L.pages.length; p++) {
        const x = before[b + this.o.tlb + p];
        const y = after[b + this.o.tlb + p];
        if (x !== y)
          parts.push(
            `tlb[${c}] ${L.pages[p].name}: ${x === NONE ? "-" : x === 0 ? "invalid" : permText(ptePerm(x))} -> ${y === NONE ? "-" : y === 0 ? "invalid" : permText(ptePerm(y))}`,
          );
      }
      const cpu = L.cpus[c];
      for (let i = 0; i < cpu.regs.length; i++) {
        const x = before[b + this.o.regs + i];
        const y = after[b + this.o.regs + i];
        if (x !== y)
          parts.push(`${c}:${cpu.regs[i]} = ${cpu.regKind[i] === "call" ? callResultText(y) : y}`);
      }
    }
    return parts.join("; ");
  }

  valueText(loc: number, v: number): string {
    const L = this.layout;
    if (loc >= L.codeBase && loc < L.codeBase + L.nCode) return L.versions[v] ?? String(v);
    if (loc >= L.codeBase + L.nCode) {
      if (v === 0) return "none";
      return `${L.frames[pteFrame(v)].name} ${permText(ptePerm(v))}`;
    }
    return this.valueName(v);
  }
}

function alu(fn: AluFn, x: number, y: number, where: string): number {
  if (fn === "eor" && x === y) return 0;
  if (x < SYMBOL_BASE && y < SYMBOL_BASE) {
    const r =
      fn === "add"
        ? x + y
        : fn === "sub"
          ? x - y
          : fn === "eor"
            ? x ^ y
            : fn === "and"
              ? x & y
              : x | y;
    return ((r % SYMBOL_BASE) + SYMBOL_BASE) % SYMBOL_BASE;
  }
  // An address plus or minus zero is the address (address dependencies: EOR X4,X0,X0; ADD X4,X4,X3).
  if ((fn === "add" || fn === "orr" || fn === "eor") && y === 0) return x;
  if ((fn === "add" || fn === "orr" || fn === "eor") && x === 0) return y;
  if (fn === "sub" && y === 0) return x;
  if (fn === "and" && (x === 0 || y === 0)) return 0;
  throw new Error(`${where}: arithmetic on addresses or instructions is not supported`);
}

const FLAG_Z = 1,
  FLAG_N = 2,
  FLAG_C = 4,
  FLAG_V = 8;

function flags(fn: "cmp" | "tst", x: number, y: number): number {
  if (x >= SYMBOL_BASE || y >= SYMBOL_BASE) return x === y ? FLAG_Z | FLAG_C : 0;
  if (fn === "tst") {
    const r = x & y;
    return (r === 0 ? FLAG_Z : 0) | (r & 64 ? FLAG_N : 0);
  }
  const d = x - y;
  return (d === 0 ? FLAG_Z : 0) | (d < 0 ? FLAG_N : 0) | (x >= y ? FLAG_C : 0);
}

/** Arm ARM C1.2.4 condition codes. */
function condHolds(cond: string, f: number): boolean {
  const Z = !!(f & FLAG_Z),
    N = !!(f & FLAG_N),
    C = !!(f & FLAG_C),
    V = !!(f & FLAG_V);
  switch (cond) {
    case "EQ":
      return Z;
    case "NE":
      return !Z;
    case "CS":
    case "HS":
      return C;
    case "CC":
    case "LO":
      return !C;
    case "MI":
      return N;
    case "PL":
      return !N;
    case "VS":
      return V;
    case "VC":
      return !V;
    case "HI":
      return C && !Z;
    case "LS":
      return !C || Z;
    case "GE":
      return N === V;
    case "LT":
      return N !== V;
    case "GT":
      return !Z && N === V;
    case "LE":
      return Z || N !== V;
    default:
      return true;
  }
}

function handlerNeedsDrain(h: IpiHandler): boolean {
  return h === "sync_core" || h === "fence.i" || h === "tlb_flush";
}

/** Text of a call result register: "new", "stale", ..., "spurious-fault+new". */
export function callResultText(v: number): string {
  if (v === 0) return "none";
  const cls = RESULT_CLASSES[(v - 1) & 7];
  return v - 1 >= 8 ? `spurious-fault+${cls}` : cls;
}

/** CPUs with identical programs, speculation targets and interrupts, that send no IPI. */
function symmetryGroups(L: Layout): number[][] {
  const sig = (c: number) => {
    const cpu = L.cpus[c];
    if (cpu.steps.some((s) => s.k === "ipi-send")) return null;
    return JSON.stringify([cpu.steps, cpu.speculate, cpu.interrupts, cpu.regs]);
  };
  const groups = new Map<string, number[]>();
  for (let c = 0; c < L.cpus.length; c++) {
    const k = sig(c);
    if (k === null) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(c);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

export { encodePte };

/**
 * Whether the load at step i may be left pending: some later memory access could then be
 * performed before it (Arm ARM B2.3). Otherwise leaving it pending only adds states: the steps
 * up to the next one that waits for it commute with it.
 */
function deferrable(steps: Step[], i: number): boolean {
  const st = steps[i];
  if ((st.k !== "load" && st.k !== "ldr") || st.acquire) return false;
  const r = st.k === "load" ? st.reg : st.dst;
  const seen = new Set<number>();
  // [step, past a predicted branch on the load (then only loads may overtake it)]
  const work: [number, boolean][] = [[i + 1, false]];
  while (work.length) {
    const [j, spec] = work.pop()!;
    const key = j * 2 + (spec ? 1 : 0);
    if (j >= steps.length || seen.has(key) || seen.size > 64) continue;
    seen.add(key);
    const x = steps[j];
    switch (x.k) {
      case "load":
        if (x.reg !== r) return true;
        break;
      case "ldr":
        if (x.dst !== r && x.addr !== r) return true;
        break;
      case "store":
        if (!x.release && !spec) return true;
        break;
      case "str":
        if (!x.release && !spec && x.src !== r && x.addr !== r) return true;
        break;
      case "mov":
        if (x.dst !== r && x.src !== r) work.push([j + 1, spec]);
        break;
      case "alu":
      case "flags":
        if (!("dst" in x && x.dst === r) && x.a !== r && x.b !== r) work.push([j + 1, spec]);
        break;
      case "cset":
        if (x.dst !== r) work.push([j + 1, spec]);
        break;
      case "jump": {
        if (x.link === r) break;
        const onLoad = (x.when === "cbz" || x.when === "cbnz") && x.reg === r;
        if (onLoad && spec) break;
        if (x.target > j) work.push([x.target, spec || onLoad]);
        if (x.when !== "always") work.push([j + 1, spec || onLoad]);
        break;
      }
      case "effect":
        if (
          !spec &&
          (x.effect === "store-barrier" || x.effect === "none" || x.effect === "context-sync")
        )
          work.push([j + 1, spec]);
        break;
    }
  }
  return false;
}

/**
 * Whether the register the load at step i writes reaches, through moves and ALU operations, the
 * address of a later DC CVAU (an address dependency from the load to the clean).
 */
function feedsClean(steps: Step[], i: number): boolean {
  const st = steps[i];
  if (st.k !== "load" && st.k !== "ldr") return false;
  const seen = new Set<number>();
  const work: [number, Set<number>][] = [[i + 1, new Set([st.k === "load" ? st.reg : st.dst])]];
  while (work.length) {
    const [j, taint] = work.pop()!;
    if (j >= steps.length || seen.has(j) || seen.size > 64) continue;
    seen.add(j);
    const x = steps[j];
    const next = new Set(taint);
    switch (x.k) {
      case "mov":
        if (x.src >= 0 && taint.has(x.src)) next.add(x.dst);
        else next.delete(x.dst);
        break;
      case "alu":
        if (taint.has(x.a) || (x.b >= 0 && taint.has(x.b))) next.add(x.dst);
        else next.delete(x.dst);
        break;
      case "ldr":
      case "load":
        next.delete(x.k === "load" ? x.reg : x.dst);
        break;
      case "effect-reg":
        if (x.effect === "clean-to-pou" && taint.has(x.addr)) return true;
        break;
      case "jump":
        if (x.target > j) work.push([x.target, next]);
        if (x.when === "always") continue;
        break;
      case "br":
        continue;
    }
    if (next.size) work.push([j + 1, next]);
  }
  return false;
}
