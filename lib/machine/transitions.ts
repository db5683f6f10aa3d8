/**
 * Every enabled transition of a state: program steps and hardware steps (drains, pending
 * loads, IPIs, maintenance completing, interrupts, speculative fetch, TLB fill and eviction).
 */
import { Calls } from "./call";
import { handlerNeedsDrain } from "./ipi";
import { F, K, label, type Emit } from "./state";
import { E, IPI_HANDLERS, type Step } from "./layout/types";

/** One combination of nothing else fetched (a fetch that faults). */
const ALONE: readonly (readonly number[][])[] = [[]];

export abstract class Transitions extends Calls {
  /** Per CPU: the CPU before it in its symmetry group (-1: none, or twins off). */
  private readonly twinOf = this.twinsOf();
  /** Twins on, and some CPU has one. */
  private readonly anyTwin = this.twinOf.some((d) => d >= 0);
  /** Partial-order reduction on, and some step may be local. */
  private readonly anyLocal =
    this.partialOrder && this.sites.some((at) => at.some((x) => x.mayBeLocal));
  /** Per CPU: the transitions it had in the current successors() call. */
  private readonly emittedBy = new Int32Array(this.nCpu);
  private emitted = 0;
  private outer: Emit = () => {};
  private readonly counted: Emit = (l, next) => {
    this.emitted++;
    this.outer(l, next);
  };

  private twinsOf(): Int32Array {
    const of = new Int32Array(this.nCpu).fill(-1);
    if (this.twins)
      for (const g of this.symmetryGroups) for (let i = 1; i < g.length; i++) of[g[i]] = g[i - 1];
    return of;
  }

  /** CPUs c and d have the same block in s. */
  private sameBlock(s: Uint8Array, c: number, d: number): boolean {
    const bc = this.base(c);
    const bd = this.base(d);
    for (let k = 0; k < this.cpuSize; k++) if (s[bc + k] !== s[bd + k]) return false;
    return true;
  }

  /**
   * Emits every enabled transition of s. With twins (MachineOptions.twins), a CPU whose block
   * equals the one before it in its symmetry group has, up to that symmetry, the transitions of
   * that CPU, each leading to a state already emitted: they are left out, and the number left
   * out is returned (else 0).
   */
  successors(s: Uint8Array, emit: Emit): number {
    if (this.anyLocal) {
      // An ample set of one local step (always enabled, independent of every other transition,
      // invisible until the end; forward only, so no cycle can postpone the others forever).
      for (let c = 0; c < this.nCpu; c++) {
        const b = this.base(c);
        const pc = s[b + F.PC];
        const st = this.sites[c][pc].step;
        if (st === undefined || !this.sites[c][pc].mayBeLocal) continue;
        if ((s[b + F.STOPF] & 1) !== 0 || !this.isLocal(s, c, st, pc)) continue;
        if (this.waitsForLoad(s, c, st) || this.branchOnPending(s, c, st)) continue;
        const t = this.scratch(s);
        this.instructionStep(t, c, st);
        emit(label(c, K.prog, 0), this.canonical(t, c));
        return 0;
      }
    }
    if (!this.anyTwin) {
      for (let c = 0; c < this.nCpu; c++) this.cpuSuccessors(s, c, emit);
      return 0;
    }
    let skipped = 0;
    const counts = this.emittedBy;
    this.outer = emit;
    for (let c = 0; c < this.nCpu; c++) {
      const d = this.twinOf[c];
      if (d >= 0 && this.sameBlock(s, c, d)) {
        counts[c] = counts[d];
        skipped += counts[d];
        continue;
      }
      const before = this.emitted;
      this.cpuSuccessors(s, c, this.counted);
      counts[c] = this.emitted - before;
    }
    return skipped;
  }

  /** The transitions of CPU c (its program and hardware steps) from s. */
  protected cpuSuccessors(s: Uint8Array, c: number, emit: Emit): void {
    const L = this.layout;
    const a = this.a;
    const b = this.base(c);
    const cpu = L.cpus[c];
    const pc = s[b + F.PC];
    const site = this.sites[c][pc];
    const cur = site.step;
    const isDone = cur === undefined;
    const inStop = (s[b + F.STOPF] & 1) !== 0;
    // A call is one instruction stream: interrupts and IPIs are taken at its boundaries, or
    // between its lines when the region declares each line an instruction (interruptible).
    const midCall =
      s[b + F.CSLOT] > 0 && !(cur?.k === "call" && L.regions[cur.region].interruptible);
    // Program step (not while the CPU spins in a stop_machine() handler).
    if (
      cur !== undefined &&
      !inStop &&
      !this.waitsForLoad(s, c, cur) &&
      (!site.acquire || !this.acquireWaits(s, c, cur))
    )
      this.programStep(s, c, cur, emit);
    // A pending load is performed (reads memory or its own newest buffered store).
    if (!a.loadsInOrder && s[b + this.o.pload] !== 0) {
      const t = this.scratch(s);
      if (this.performLoad(t, c)) emit(label(c, K.load, 0), this.canonical(t, c));
    }
    // Store-buffer drains (docs/model.md §Store buffer).
    const n = s[b + F.SBLEN];
    for (let i = 0; i < n; i++) {
      if (a.tso && i > 0) break;
      if (!this.drainable(s, b, i)) continue;
      const t = this.scratch(s);
      this.drain(t, c, i);
      emit(label(c, K.drain, i), this.canonical(t, c));
    }
    // An IPI written to the interrupt controller arrives once the stores it is ordered after
    // have drained (riscv64: a device write, ordered by fence w,o).
    if (s[b + F.IPIQ] !== 0 && s[b + F.IPIW] === 0 && !this.ipiInFlight(s, c)) {
      const t = this.scratch(s);
      this.postIpi(t, c, s[b + F.IPIQ]);
      t[b + F.IPIQ] = 0;
      emit(label(c, K.ipipost, 0), this.canonical(t, c));
    }
    // IPI delivery (also to CPUs that finished their program).
    if (s[b + F.IPIP] !== 0 && !midCall && (!a.exceptions.drainsStores || n === 0)) {
      const h = IPI_HANDLERS[s[b + F.IPIP] - 1];
      if (h === "stop_isb" || h === "stop_fence.i") this.stopMachineStep(s, c, h, emit);
      else if (!(handlerNeedsDrain(h) && n > 0)) {
        const t = this.scratch(s);
        this.exceptionSyncs(t, c);
        this.runHandler(t, c, h);
        t[b + F.IPIP] = 0;
        t[b + F.IPIF] = 0;
        emit(label(c, K.ipi, 0), this.canonical(t, c));
      }
    }
    // Pending IC IVAU reaching every I-cache (it may complete before the DSB).
    if (!a.dic)
      for (let cl = 0; cl < L.nCl; cl++) {
        if (!s[b + this.o.pinval + cl]) continue;
        const t = this.scratch(s);
        this.completeInvalidate(t, c, cl);
        emit(label(c, K.icomplete, cl), this.canonical(t, c));
      }
    if (isDone || inStop) return;
    // Interrupts that may arrive anywhere.
    if (s[b + F.INTR] > 0 && !midCall && (!a.exceptions.drainsStores || n === 0)) {
      const t = this.scratch(s);
      t[b + F.INTR]--;
      this.exceptionSyncs(t, c);
      emit(label(c, K.irq, 0), this.canonical(t, c));
    }
    // Speculative fetch into the pipeline (docs/model.md §Fetch pipeline).
    let top = -1;
    const spec = site.spec;
    for (let x = 0; x < spec.length; x += 2) {
      const ri = spec[x];
      const va = spec[x + 1];
      if (s[b + this.o.pipe + va] !== E.NONE) continue;
      if (top < 0) {
        top = 0;
        for (let y = 0; y < L.nVaSlots; y++) top = Math.max(top, s[b + this.o.prank + y]);
      }
      const fetched = this.fetchOptions(s, c, va);
      const fill = this.fill;
      // The litmus front-end (exec) keeps the ESOP 2020 model: no UNPRED there.
      const all = cpu.faultReg >= 0 ? fetched : this.withUnpredictable(ri, fetched);
      for (let j = 0; j < all.length; j++) {
        const v = all[j];
        const faulted = v === E.FAULT || v === E.FAULT_PROT || v === E.UNPRED;
        const combos = faulted ? ALONE : this.coFetch(s, c, va);
        for (let k = 0; k < combos.length; k++) {
          const co = combos[k];
          const t = this.scratch(s);
          this.applyFill(t, c, va, fill);
          t[b + this.o.pipe + va] = v;
          t[b + this.o.prank + va] = top + 1;
          for (let m = 0; m < co.length; m++) {
            t[b + this.o.pipe + co[m][0]] = co[m][1];
            t[b + this.o.prank + co[m][0]] = top + 1;
          }
          emit(label(c, K.spec, va | (v << 8), k), this.canonical(t, c));
        }
      }
    }
    // TLB fill and eviction (docs/model.md §TLB).
    const pages = site.pages;
    for (let x = 0; x < pages.length; x++) {
      const p = pages[x];
      const e = s[b + this.o.tlb + p];
      const pte = s[this.pteLoc[p]];
      if (e === E.NONE && (pte !== 0 || a.tlbCachesInvalid)) {
        const t = this.scratch(s);
        t[b + this.o.tlb + p] = pte;
        emit(label(c, K.tlbfill, p), this.canonical(t, c));
      }
      if (e !== E.NONE && e !== pte) {
        const t = this.scratch(s);
        t[b + this.o.tlb + p] = E.NONE;
        emit(label(c, K.tlbevict, p), this.canonical(t, c));
      }
    }
  }

  protected programStep(s: Uint8Array, c: number, st: Step, emit: Emit): void {
    const L = this.layout;
    const a = this.a;
    const b = this.base(c);
    const n = s[b + F.SBLEN];
    const lbl = label(c, K.prog, 0);
    if (st.k === "jump" && this.branchOnPending(s, c, st)) {
      this.speculateBranch(s, c, st, emit);
      return;
    }
    switch (st.k) {
      case "store": {
        if (n >= L.sbMax) return;
        const t = this.scratch(s);
        let ep = t[b + F.EPOCH];
        if (st.release && !a.tso) ep = ++t[b + F.EPOCH] | 128; // release: after every earlier store
        const e = b + F.SB + 3 * n;
        t[e] = st.loc;
        t[e + 1] = st.value;
        t[e + 2] = ep;
        t[b + F.SBLEN] = n + 1;
        // SDM 9.1.3: a store to a linear address invalidates this CPU's prefetched instruction there.
        if (a.smcSnoopLinear && st.vaSlot >= 0) t[b + this.o.pipe + st.vaSlot] = E.NONE;
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "load": {
        const t = this.scratch(s);
        t[b + this.o.regs + st.reg] = this.read(s, c, st.loc);
        if (this.feedsClean[c][s[b + F.PC]]) this.cleansFromHere(t, c);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        if (this.deferrable[c][s[b + F.PC]] && s[b + this.o.pload] === 0)
          this.deferLoad(s, c, st.reg, st.loc, emit);
        return;
      }
      case "await": {
        if (this.read(s, c, st.loc) !== st.value) return;
        const t = this.scratch(s);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "interrupt": {
        if (a.exceptions.drainsStores && n > 0) return;
        const t = this.scratch(s);
        this.exceptionSyncs(t, c);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "ipi-send":
      case "stop-send": {
        if (st.k === "ipi-send" && a.ipiOrder === "device-barrier") {
          // The IPI is a device write: it waits only for the stores a device barrier ordered.
          if (s[b + F.IPIQ] !== 0) return;
          const t = this.scratch(s);
          t[b + F.IPIQ] = IPI_HANDLERS.indexOf(st.handler) + 1;
          t[b + F.IPIW] = t[b + F.WOM];
          t[b + F.PC]++;
          emit(lbl, this.canonical(t, c));
          return;
        }
        // smp_call_function() publishes its request with a full barrier before the IPI.
        if (n > 0) return;
        for (let d = 0; d < this.nCpu; d++) if (d !== c && s[this.base(d) + F.IPIP] !== 0) return;
        const t = this.scratch(s);
        const h = IPI_HANDLERS.indexOf(st.handler) + 1;
        for (let d = 0; d < this.nCpu; d++) {
          if (d === c) continue;
          t[this.base(d) + F.IPIP] = h;
          t[this.base(d) + F.IPIF] = c + 1;
        }
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "ipi-local": {
        if (handlerNeedsDrain(st.handler) && n > 0) return;
        const t = this.scratch(s);
        this.runHandler(t, c, st.handler);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "stop-arrived": {
        for (let d = 0; d < this.nCpu; d++) {
          const bd = this.base(d);
          if (s[bd + F.IPIF] === c + 1 && (s[bd + F.STOPF] & 1) === 0) return;
        }
        const t = this.scratch(s);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "stop-release": {
        const t = this.scratch(s);
        for (let d = 0; d < this.nCpu; d++) {
          const bd = this.base(d);
          if (t[bd + F.IPIF] === c + 1) t[bd + F.STOPF] |= 2;
        }
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
        return;
      }
      case "ipi-wait": {
        if (s[b + F.IPIQ] !== 0) return;
        for (let d = 0; d < this.nCpu; d++) if (s[this.base(d) + F.IPIF] === c + 1) return;
        const t = this.scratch(s);
        t[b + F.PC]++;
        emit(lbl, this.canonical(t, c));
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
        if (st.k === "ldr" && this.feedsClean[c][s[b + F.PC]]) this.cleansFromHere(t, c);
        emit(lbl, this.canonical(t, c));
        if (st.k === "ldr" && this.deferrable[c][s[b + F.PC]] && s[b + this.o.pload] === 0) {
          const R = b + this.o.regs;
          const loc = this.locOfSymbol(s, this.symbolAt(s[R + st.addr], st.text), st.text);
          this.deferLoad(s, c, st.dst, loc, emit);
        }
      }
    }
  }
}
