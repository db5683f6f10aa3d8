/**
 * Canonical form of a state (docs/model.md §Reductions and bounds): store-barrier epochs made
 * relative, dead pipeline, I-cache and TLB entries erased, fetch ranks compressed, symmetric CPUs
 * sorted.
 */
import { MachineState } from "./state";
import { F } from "./state";
import { E } from "./layout/types";

export abstract class Canonical extends MachineState {
  initial(): Uint8Array {
    const L = this.layout;
    const s = new Uint8Array(this.gSize + this.nCpu * this.cpuSize);
    for (let i = 0; i < L.nLoc; i++) s[i] = L.initialMem[i];
    if (!this.a.idc)
      for (let i = 0; i < L.nCode; i++)
        s[this.pouOff + i] = this.bit(i, L.initialMem[L.codeBase + i]);
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      s[b + F.INTR] = L.cpus[c].interrupts;
      s.fill(E.NONE, b + this.o.tlb, b + this.o.icache);
      s.fill(E.NONE, b + this.o.pipe, b + this.o.prank);
      if (!this.a.dic)
        for (let i = 0; i < L.nCode; i++)
          s[b + this.o.icache + i] = this.bit(i, L.initialMem[L.codeBase + i]);
      if (!this.a.idc)
        for (let i = 0; i < L.nCode; i++)
          s[b + this.o.dcseen + i] = this.bit(i, L.initialMem[L.codeBase + i]);
    }
    return this.canonical(s);
  }

  /** False for a final state that no execution can reach: a late fetch never performed. */
  acceptable(s: Uint8Array): boolean {
    for (let c = 0; c < this.nCpu; c++) if (s[this.base(c) + F.PROPH] !== 0) return false;
    // A load left pending whose value never matched its branch's prediction (mis-speculation).
    if (!this.a.loadsInOrder)
      for (let c = 0; c < this.nCpu; c++) if (s[this.base(c) + this.o.pload] !== 0) return false;
    return true;
  }

  /**
   * Normalises a state: epochs relative, dead entries erased, symmetric CPUs sorted. `actor` is
   * the CPU whose transition made t from a canonical state (-1: not known). A transition changes
   * other CPUs' blocks only in fields nothing normalises but a dead CPU's erased entries (IPIs,
   * I-cache and TLB maintenance, a late fetch, drains), so only those are normalised for them.
   */
  canonical(t: Uint8Array, actor = -1): Uint8Array {
    const L = this.layout;
    const nVa = L.nVaSlots;
    const nCpu = this.nCpu;
    const gSize = this.gSize;
    const cpuSize = this.cpuSize;
    const liveness = this.liveness;
    const o = this.o;
    const flags = this.siteFlags;
    const liveVa = this.liveVaAt;
    let anyLive = false;
    for (let c = 0; c < nCpu; c++) {
      const b = gSize + c * cpuSize;
      if (actor >= 0 && c !== actor) {
        if (!liveness) continue;
        const f = flags[(c << 8) | t[b + F.PC]];
        if ((f & 1) !== 0) anyLive = true;
        if ((f & 2) !== 0) this.erase(t, b);
        continue;
      }
      const n = t[b + F.SBLEN];
      if (n === 0) {
        if (t[b + F.EPOCH] !== 0) t[b + F.EPOCH] = 0;
      } else {
        const m = t[b + F.SB + 2] & 127;
        if (m > 0) {
          for (let i = 0; i < n; i++) t[b + F.SB + 3 * i + 2] -= m; // bit 7 (release) is kept
          t[b + F.EPOCH] -= m;
        }
      }
      const pipe = b + o.pipe;
      const prank = b + o.prank;
      if (liveness) {
        const at = (c << 8) | t[b + F.PC];
        const f = flags[at];
        if ((f & 1) !== 0) anyLive = true;
        if ((f & 2) !== 0) {
          this.erase(t, b);
          continue;
        }
        // Pipeline entries of regions this CPU will not run again are dead.
        const va = at * nVa;
        for (let x = 0; x < nVa; x++) {
          if (t[pipe + x] !== E.NONE && liveVa[va + x] === 0) {
            t[pipe + x] = E.NONE;
            t[prank + x] = 0;
          }
        }
      }
      // Fetch ranks keep only their order (nothing to do when they are 1..k already).
      let count = 0;
      let max = 0;
      for (let x = 0; x < nVa; x++) {
        const r = t[prank + x];
        if (r !== 0) {
          count++;
          if (r > max) max = r;
        }
      }
      if (max !== count) this.compressRanks(t, prank);
    }
    // Nothing will fetch again: the point of unification no longer matters.
    if (liveness && !anyLive && !this.a.idc)
      for (let i = 0; i < L.nCode; i++) t[this.pouOff + i] = this.bit(i, t[L.codeBase + i]);
    const groups = this.symmetryGroups;
    for (let i = 0; i < groups.length; i++) this.sortGroup(t, groups[i]);
    return t;
  }

  /** No region is live for the CPU of block b: its TLB, I-cache and pipeline entries are erased. */
  private erase(t: Uint8Array, b: number): void {
    const prank = b + this.o.prank;
    // Loops rather than fill(): the ranges are a few bytes.
    for (let k = b + this.o.tlb; k < prank; k++) if (t[k] !== E.NONE) t[k] = E.NONE;
    for (let k = prank, end = prank + this.layout.nVaSlots; k < end; k++) if (t[k] !== 0) t[k] = 0;
  }

  protected compressRanks(t: Uint8Array, off: number): void {
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

  private wordsOf?: Uint8Array;
  private words: Uint32Array | null = null;
  private wordOff = 0;
  /** A word view of t's buffer when CPU blocks are word-aligned in it, else null. */
  private wordView(t: Uint8Array): Uint32Array | null {
    if (this.wordsOf !== t) {
      this.wordsOf = t;
      this.words =
        (t.byteOffset | this.gSize | this.cpuSize) & 3
          ? null
          : new Uint32Array(t.buffer, 0, t.buffer.byteLength >> 2);
      this.wordOff = t.byteOffset >> 2;
    }
    return this.words;
  }

  /** Lexicographic comparison of the blocks at a and b (bytes), skipping equal words. */
  private compareBlocks(t: Uint8Array, w: Uint32Array | null, a: number, b: number): number {
    const size = this.cpuSize;
    let k = 0;
    if (w) {
      const a4 = this.wordOff + (a >> 2);
      const b4 = this.wordOff + (b >> 2);
      while (k < size && w[a4 + (k >> 2)] === w[b4 + (k >> 2)]) k += 4;
    }
    for (; k < size; k++) if (t[a + k] !== t[b + k]) return t[a + k] - t[b + k];
    return 0;
  }

  protected sortGroup(t: Uint8Array, g: number[]): void {
    // Insertion sort of the CPU blocks of a symmetric group (lexicographic on bytes).
    const size = this.cpuSize;
    const w = this.wordView(t);
    for (let i = 1; i < g.length; i++) {
      for (let j = i; j > 0; j--) {
        const a = this.base(g[j - 1]);
        const bb = this.base(g[j]);
        if (this.compareBlocks(t, w, a, bb) <= 0) break;
        if (w) {
          const a4 = this.wordOff + (a >> 2);
          const b4 = this.wordOff + (bb >> 2);
          for (let k = 0; k < size >> 2; k++) {
            const x = w[a4 + k];
            w[a4 + k] = w[b4 + k];
            w[b4 + k] = x;
          }
        } else
          for (let k = 0; k < size; k++) {
            const x = t[a + k];
            t[a + k] = t[bb + k];
            t[bb + k] = x;
          }
      }
    }
  }
}
