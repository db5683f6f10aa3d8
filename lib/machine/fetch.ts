/**
 * The instruction side: translation for fetch, the versions a fetch may return, the line
 * fetched with it, the fetch pipeline, and the I-cache and point-of-unification maintenance that
 * bounds what fetch may see.
 */
import { Canonical } from "./canonical";
import { E } from "./layout/types";
import { PERM_X, pteFrame, ptePerm } from "./layout/encoding";
import { F } from "./state";

/** [v] for each byte value v: one version, as a shared array. */
const ONLY: readonly (readonly number[])[] = Array.from({ length: 256 }, (_, v) => [v]);
const ONLY_FAULT = ONLY[E.FAULT];
const ONLY_FAULT_PROT = ONLY[E.FAULT_PROT];

/** One combination of nothing else fetched (a line alone in its cache line, or a fault). */
const ALONE: readonly (readonly number[][])[] = [[]];

export abstract class FetchSide extends Canonical {
  /** The TLB entry the last lookup() or fetchOptions() walk fills (or -1). */
  protected fill = -1;
  /** Per code slot and set of version bits: the versions, in bit order (shared, read-only). */
  private readonly setCache: (readonly number[])[][] = [];
  /** Per region: withUnpredictable() of each shared set of versions. */
  private readonly unpredictable: Map<readonly number[], readonly number[]>[] = [];
  /** The last withUnpredictable() answer, and what it was asked. */
  private lastOpts: readonly number[] | null = null;
  private lastRegion = -1;
  private lastAll: readonly number[] = [];

  /**
   * Translation for instruction fetch on CPU c (docs/model.md §TLB): the code slot (or -1 for
   * a fault, -2 for a page that forbids fetch); the TLB entry a walk fills is left in `fill`.
   */
  protected lookup(s: Uint8Array, c: number, va: number): number {
    const L = this.layout;
    const p = L.vaPage[va];
    let pte = s[this.base(c) + this.o.tlb + p];
    this.fill = -1;
    if (pte === E.NONE) {
      pte = s[L.pages[p].pteLoc];
      if (pte !== 0 || this.a.tlbCachesInvalid) this.fill = pte;
    }
    if (pte === 0) return -1;
    if ((ptePerm(pte) & PERM_X) === 0) return -2;
    return L.frames[pteFrame(pte)].slotLoc - L.codeBase + L.vaSlotInPage[va];
  }

  /** The versions of set `mask` of code slot ci (a shared array: do not modify). */
  protected versionSet(ci: number, mask: number): readonly number[] {
    const row = (this.setCache[ci] ??= []);
    return (row[mask] ??= this.versionsOf(ci, mask));
  }

  /**
   * The versions a fetch of VA slot va may return on CPU c ([FAULT] or [FAULT_PROT] when
   * translation fails; a shared array: do not modify); the TLB entry its walk fills is left in
   * `fill`. Instruction fetch is not coherent (Simner et al., ESOP 2020): without CTR_EL0.DIC a
   * fetch may return any version this CPU's I-cache may hold, i.e. any version the PoU presented
   * since the last IC IVAU / IC IALLU / fence.i reached this CPU.
   */
  protected fetchOptions(s: Uint8Array, c: number, va: number): readonly number[] {
    const L = this.layout;
    const a = this.a;
    const ci = this.lookup(s, c, va);
    if (ci < 0) return ci === -1 ? ONLY_FAULT : ONLY_FAULT_PROT;
    // SDM 9.1.3: x86 fetch is coherent with memory and with this CPU's own stores.
    if (a.dic && a.fetchSeesOwnStores) return ONLY[this.read(s, c, L.codeBase + ci)];
    let mask = a.dic ? this.pouMask(s, ci) : s[this.base(c) + this.o.icache + ci];
    // Without Ziccid a fetch may take this hart's own store before others see it.
    if (a.fetchMaySeeOwnStores) {
      const own = this.ownBuffered(s, c, L.codeBase + ci);
      if (own >= 0) mask |= this.bit(ci, own);
    }
    return this.versionSet(ci, mask);
  }

  /**
   * What a fetch of va also brings into CPU c's pipeline from the rest of its cache line: one
   * list of [va, version] per combination the I-side may present. Empty pipeline entries of live
   * regions only; nothing when the fetch faults.
   */
  protected coFetch(s: Uint8Array, c: number, va: number): readonly (readonly number[][])[] {
    const others = this.coSlots[va];
    if (others.length === 0) return ALONE;
    let combos: number[][][] = [[]];
    const pipe = this.base(c) + this.o.pipe;
    const live = this.sites[c][s[this.base(c) + F.PC]].liveVa;
    for (const x of others) {
      if (s[pipe + x] !== E.NONE || (this.liveness && live[x] === 0)) continue;
      const opts = this.fetchOptions(s, c, x).filter((v) => v !== E.FAULT && v !== E.FAULT_PROT);
      if (opts.length === 0) continue;
      combos = combos.flatMap((xs) => opts.map((v) => [...xs, [x, v]]));
    }
    return combos;
  }

  /**
   * Arm ARM B2.2.5: concurrent modification and execution of instructions is CONSTRAINED
   * UNPREDICTABLE unless both the old and the new instruction are CMODX-safe. Without the
   * maintenance that makes the new one the only one fetch may see, a fetch that may still return
   * either is such a concurrent execution: it may run something else (UNPRED), as well as either.
   */
  protected withUnpredictable(ri: number, opts: readonly number[]): readonly number[] {
    const safe = this.a.cmodxSafe;
    if (!safe || opts.length < 2) return opts;
    if (opts === this.lastOpts && ri === this.lastRegion) return this.lastAll;
    // opts is a shared array (versionSet()): the answer is kept per region and array.
    const known = (this.unpredictable[ri] ??= new Map());
    let all = known.get(opts);
    if (all === undefined) {
      const r = this.layout.regions[ri];
      all = opts.every((v) => safe.includes(r.insn.get(v) ?? "code")) ? opts : [...opts, E.UNPRED];
      known.set(opts, all);
    }
    this.lastOpts = opts;
    this.lastRegion = ri;
    this.lastAll = all;
    return all;
  }

  protected applyFill(t: Uint8Array, c: number, va: number, fill: number): void {
    if (fill >= 0) t[this.base(c) + this.o.tlb + this.layout.vaPage[va]] = fill;
  }

  /** Reset I-cache sets to what the PoU presents (IC IVAU, IC IALLU, fence.i). */
  protected icacheReset(t: Uint8Array, c: number, slots: readonly number[] | null): void {
    const L = this.layout;
    if (this.a.dic) return;
    const ic = this.base(c) + this.o.icache;
    if (slots === null) for (let ci = 0; ci < L.nCode; ci++) t[ic + ci] = this.pouMask(t, ci);
    else for (const loc of slots) t[ic + loc - L.codeBase] = this.pouMask(t, loc - L.codeBase);
  }

  protected completeInvalidate(t: Uint8Array, c: number, cl: number): void {
    t[this.base(c) + this.o.pinval + cl] = 0;
    for (let d = 0; d < this.nCpu; d++) this.icacheReset(t, d, this.layout.codeOfCl[cl]);
  }

  /**
   * This CPU's DC CVAU reach the PoU: it presents the version each clean captured and the
   * current one. A clean captures a version current at some time since this CPU's last DMB or
   * DSB, as it may be performed before earlier loads (Arm ARM D7.5.9.15).
   */
  protected completeCleans(t: Uint8Array, c: number): void {
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
  protected cleansFromHere(t: Uint8Array, c: number): void {
    const L = this.layout;
    const b = this.base(c);
    for (let ci = 0; ci < L.nCode; ci++)
      t[b + this.o.dcseen + ci] = this.bit(ci, t[L.codeBase + ci]);
  }

  protected flushPipe(s: Uint8Array, c: number): void {
    const p = this.base(c) + this.o.pipe;
    // Loops rather than fill(): a few bytes.
    const n = this.layout.nVaSlots;
    for (let k = 0; k < n; k++) {
      s[p + k] = E.NONE;
      s[p + n + k] = 0;
    }
  }

  /**
   * Instruction fetches are ordered in program order (ESOP 2020 "fpo"): running the entry fetched
   * at rank r squashes the entries fetched before it; a fresh fetch (rank 0) squashes them all.
   */
  protected squashOlder(t: Uint8Array, c: number, rank: number): void {
    const b = this.base(c);
    for (let va = 0; va < this.layout.nVaSlots; va++) {
      if (t[b + this.o.pipe + va] === E.NONE) continue;
      if (rank === 0 || t[b + this.o.prank + va] < rank) {
        t[b + this.o.pipe + va] = E.NONE;
        t[b + this.o.prank + va] = 0;
      }
    }
  }

  /** Exception entry + return on CPU c (interrupt, IPI, fault): context sync where the arch says. */
  protected exceptionSyncs(s: Uint8Array, c: number): void {
    const e = this.a.exceptions;
    if (e.entrySyncs || e.returnSyncs) this.flushPipe(s, c);
  }

  /** Global cache line of a region line through the current mapping (or its own frame). */
  protected lineOf(s: Uint8Array, ri: number, line: number, frame: number): number {
    const L = this.layout;
    const r = L.regions[ri];
    const p = L.pages[r.page];
    const pte = s[p.pteLoc];
    const f =
      frame >= 0 ? L.frames[frame] : pte !== 0 ? L.frames[pteFrame(pte)] : L.frames[p.frames[0]];
    return f.clBase + p.lineOfSlot[r.offset + line];
  }
}
