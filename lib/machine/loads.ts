/**
 * Loads performed out of order (ArchVariant.loadsInOrder false): a load left pending while
 * later steps run, what must wait for it, and branches predicting its value.
 */
import { Instructions } from "./insn";
import { F, K, label, type Emit } from "./state";
import type { Step } from "./layout/types";
import { SYMBOL_BASE } from "./layout/encoding";

export abstract class Loads extends Instructions {
  /**
   * A load-acquire waits until this CPU's buffered store-releases are visible, where the arch
   * orders a release before a later acquire (arm64: Arm ARM B2.3, "[L]; po; [A]" in herd7's
   * aarch64.cat bob).
   */
  protected acquireWaits(s: Uint8Array, c: number, st: Step): boolean {
    if (!this.a.acquireAfterRelease) return false;
    if ((st.k !== "ldr" && st.k !== "load") || !st.acquire) return false;
    const b = this.base(c);
    for (let i = 0; i < s[b + F.SBLEN]; i++) if (s[b + F.SB + 3 * i + 2] & 128) return true;
    return false;
  }

  /** Leaves a load pending: later steps run first, performLoad() reads memory later. */
  protected deferLoad(s: Uint8Array, c: number, reg: number, loc: number, emit: Emit): void {
    const b = this.base(c);
    const t = this.scratch(s);
    // Bit 7: the load feeds a DC CVAU's address (feedsClean); registers are fewer than 127.
    t[b + this.o.pload] = (reg + 1) | (this.feedsClean[c][s[b + F.PC]] ? 128 : 0);
    t[b + this.o.pload + 1] = loc;
    t[b + F.PC]++;
    emit(label(c, K.prog, 1), this.canonical(t, c));
  }

  /** Performs CPU c's pending load; false when the value contradicts a branch's prediction. */
  protected performLoad(t: Uint8Array, c: number): boolean {
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

  /** A CBZ/CBNZ on CPU c's pending load (taken speculatively by programStep). */
  protected branchOnPending(s: Uint8Array, c: number, st: Step): boolean {
    if (this.a.loadsInOrder || st.k !== "jump") return false;
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
  protected speculateBranch(
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
      t[b + F.PC] = take ? st.target : t[b + F.PC] + 1;
      emit(label(c, K.prog, take ? 2 : 3), this.canonical(t, c));
    }
  }

  /**
   * Whether step st must wait for CPU c's pending load (Arm ARM B2.3): it reads or writes the
   * load's register (address, data and control dependencies), accesses its location
   * (coherence), is a store-release, or is a barrier or any other step the model keeps in order.
   */
  protected waitsForLoad(s: Uint8Array, c: number, st: Step): boolean {
    if (this.a.loadsInOrder) return false;
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
}
