/**
 * Barriers, cache and TLB maintenance and context synchronisation as program steps.
 */
import { Loads } from "./loads";
import { F, K, label, type Emit } from "./state";
import type { Effect } from "../arch";
import { E, type Step } from "./layout/types";

export abstract class Effects extends Loads {
  protected effectStep(
    s: Uint8Array,
    c: number,
    st: Extract<Step, { k: "effect" }>,
    emit: Emit,
  ): void {
    const L = this.layout;
    const a = this.a;
    const b = this.base(c);
    const n = s[b + F.SBLEN];
    if (n > 0 && this.waitsForStores(st.effect)) return;
    if (st.effect === "clean-to-pou" && !a.idc) {
      this.cleanToPou(s, c, b, n, this.lineOf(s, st.region, st.line, st.frame), emit);
      return;
    }
    const t = this.scratch(s);
    switch (st.effect) {
      case "serialise":
        this.flushPipe(t, c);
        break;
      case "context-sync":
        this.flushPipe(t, c);
        break;
      case "full-barrier":
        // Arm ARM D7.5.9.15: a DMB orders DC CVAU before later loads and stores.
        if (!a.idc) this.completeCleans(t, c);
        break;
      case "store-fence":
        break;
      case "load-barrier":
        break; // earlier loads are performed (waitsForLoad)
      case "store-barrier":
        if (!a.tso) t[b + F.EPOCH]++;
        break;
      case "device-barrier":
        // Later device writes (IPIs) wait for every store buffered now.
        t[b + F.WOM] = n;
        break;
      case "dsb":
      case "dsb-local":
        // Arm ARM D7.5.9.15: maintenance is complete after a DSB (of loads and stores). DSB NSH
        // completes it for this CPU only: other CPUs may still see the invalidation late.
        if (!a.idc) this.completeCleans(t, c);
        if (!a.dic)
          for (let cl = 0; cl < L.nCl; cl++) {
            if (!t[b + this.o.pinval + cl]) continue;
            if (st.effect === "dsb") this.completeInvalidate(t, c, cl);
            else this.icacheReset(t, c, L.codeOfCl[cl]);
          }
        break;
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
        // Zifencei: this hart's fetches see the stores already visible to it.
        this.icacheReset(t, c, null);
        if (!a.dic)
          for (let i = 0; i < n; i++) {
            const loc = t[b + F.SB + 3 * i];
            if (this.isCode(loc))
              t[b + this.o.icache + loc - L.codeBase] = this.bit(
                loc - L.codeBase,
                t[b + F.SB + 3 * i + 1],
              );
          }
        this.flushPipe(t, c);
        break;
      case "tlb-flush-local":
        if (a.tlbFlushSerialises) this.flushPipe(t, c);
        t.fill(E.NONE, b + this.o.tlb, b + this.o.tlb + L.pages.length);
        break;
      case "tlb-flush-broadcast":
        for (let d = 0; d < this.nCpu; d++)
          t.fill(E.NONE, this.base(d) + this.o.tlb, this.base(d) + this.o.tlb + L.pages.length);
        break;
      case "clean-to-pou": // with CTR_EL0.IDC: nothing to clean
      case "clean-to-poc": // data observers only (lib/arch/types.ts)
      case "none":
        break;
    }
    t[b + F.PC]++;
    emit(label(c, K.prog, 0), this.canonical(t, c));
  }

  /**
   * DC CVAU of code line `cl` by CPU `c` (state block at `b`, `n` stores buffered): one successor
   * per combination of versions the clean may capture.
   */
  private cleanToPou(s: Uint8Array, c: number, b: number, n: number, cl: number, emit: Emit) {
    const L = this.layout;
    // Ordered after this CPU's earlier stores to the same line.
    for (let i = 0; i < n; i++) if (L.codeOfCl[cl].includes(s[b + F.SB + 3 * i])) return;
    const slots = L.codeOfCl[cl];
    if (slots.length === 1) {
      // One successor per version the clean may capture.
      const ci = slots[0] - L.codeBase;
      const vs = this.versionSet(ci, s[b + this.o.dcseen + ci] | this.bit(ci, s[slots[0]]));
      for (let k = 0; k < vs.length; k++) {
        const u = this.scratch(s);
        u[b + this.o.pclean + ci] |= this.bit(ci, vs[k]);
        u[b + F.PC]++;
        emit(label(c, K.prog, k), this.canonical(u, c));
      }
      return;
    }
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
      u[b + F.PC]++;
      emit(label(c, K.prog, k), this.canonical(u, c));
    });
  }

  /** The effect waits until this CPU's store buffer has drained. */
  private waitsForStores(e: Effect): boolean {
    switch (e) {
      case "serialise": // SDM 9.3: buffered writes drain before the next instruction
      case "full-barrier":
      case "store-fence":
      case "dsb":
      case "dsb-local":
      case "tlb-flush-broadcast":
        return true;
      case "fence.i":
        // herd7 (and riscv64) order FENCE.I after this hart's earlier stores: it waits for them.
        return this.a.fenceIWaitsForStores;
      case "tlb-flush-local":
        // INVLPG is serialising on x86-64 (SDM vol. 3A 9.3).
        return this.a.tlbFlushSerialises;
      default:
        return false;
    }
  }
}
