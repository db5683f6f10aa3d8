/**
 * Store buffers: which entry may drain, and what a drain makes visible (memory, the point of
 * unification, I-caches, a pending late fetch, concurrent modification of code being run).
 */
import { FetchSide } from "./fetch";
import { F } from "./state";

export abstract class StoreBuffers extends FetchSide {
  protected drainable(s: Uint8Array, b: number, i: number): boolean {
    const loc = s[b + F.SB + 3 * i];
    const ep = s[b + F.SB + 3 * i + 2] & 127;
    for (let j = 0; j < i; j++) {
      if (s[b + F.SB + 3 * j] === loc) return false; // same location: in order (coherence)
      if ((s[b + F.SB + 3 * j + 2] & 127) !== ep) return false; // store barrier / release between
    }
    return true;
  }

  protected drain(t: Uint8Array, c: number, i: number): void {
    const L = this.layout;
    const b = this.base(c);
    const loc = t[b + F.SB + 3 * i];
    t[loc] = t[b + F.SB + 3 * i + 1];
    const n = t[b + F.SBLEN];
    // The later entries move up one (loops rather than copyWithin() and fill(): a few bytes).
    for (let k = b + F.SB + 3 * i, end = b + F.SB + 3 * (n - 1); k < end; k++) t[k] = t[k + 3];
    for (let k = b + F.SB + 3 * (n - 1), end = k + 3; k < end; k++) t[k] = 0;
    t[b + F.SBLEN] = n - 1;
    if (i < t[b + F.WOM]) t[b + F.WOM]--;
    if (i < t[b + F.IPIW]) t[b + F.IPIW]--;
    if (loc >= L.codeBase && loc < L.codeBase + L.nCode) {
      // A late fetch of this version by another CPU is performed now.
      for (let d = 0; d < this.nCpu; d++) {
        const bd = this.base(d);
        if (d !== c && t[bd + F.PROPH] === loc - L.codeBase + 1 && t[bd + F.PVER] === t[loc]) {
          t[bd + F.PROPH] = 0;
          t[bd + F.PVER] = 0;
          t[bd + F.TAINT] = 0;
          t[bd + F.TAINT + 1] = 0;
        }
      }
      // The new version may now be presented by the PoU, and so fetched into any I-cache.
      const ci = loc - L.codeBase;
      const bit = this.bit(ci, t[loc]);
      if (!this.a.idc) {
        t[this.pouOff + ci] |= bit;
        // A DC CVAU is ordered after this CPU's own earlier stores to the same line.
        for (let d = 0; d < this.nCpu; d++)
          if (d === c) t[this.base(d) + this.o.dcseen + ci] = bit;
          else t[this.base(d) + this.o.dcseen + ci] |= bit;
      }
      if (!this.a.dic)
        for (let d = 0; d < this.nCpu; d++) t[this.base(d) + this.o.icache + ci] |= bit;
    }
    // arm64 CMODX: a write that becomes visible while another CPU is executing that line's
    // function is a concurrent modification (Arm ARM B2.2.5).
    if (this.a.cmodxSafe && loc >= L.codeBase && loc < L.codeBase + L.nCode) {
      for (let d = 0; d < this.nCpu; d++) {
        const bd = this.base(d);
        const st = this.sites[d][t[bd + F.PC]].step;
        if (!st || st.k !== "call" || t[bd + F.CACC] === 0) continue;
        if (this.regionMapsLoc(t, d, st.region, loc)) t[bd + F.CFLAGS] |= 1;
      }
    }
  }

  protected regionMapsLoc(s: Uint8Array, _c: number, ri: number, loc: number): boolean {
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

  protected storePending(s: Uint8Array, loc: number): boolean {
    for (let d = 0; d < this.nCpu; d++) {
      const b = this.base(d);
      for (let i = 0; i < s[b + F.SBLEN]; i++) if (s[b + F.SB + 3 * i] === loc) return true;
    }
    return false;
  }
}
