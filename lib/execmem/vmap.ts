// Free kernel VA space as sorted, coalesced extents; first fit in address order within
// [vstart, vend) with alignment, as mm/vmalloc.c alloc_vmap_area()/__alloc_vmap_area() finds the
// lowest suitable address. Addresses are Va offsets (types.ts); extents are [start, end).
import { alignUp } from "../arch/execmem";

/**
 * Free extents of a virtual address space, [start, end) in bytes, allocated lowest-address
 * first like the vmap allocator's alloc_vmap_area() (mm/vmalloc.c).
 */
export class VmapSpace {
  /** Sorted starts and ends of free extents. */
  private s: number[] = [];
  private e: number[] = [];

  constructor(start?: number, end?: number) {
    if (start !== undefined && end !== undefined && end > start) {
      this.s.push(start);
      this.e.push(end);
    }
  }

  get count(): number {
    return this.s.length;
  }

  /** Total free bytes and largest extent intersecting [lo, hi). */
  summary(lo: number, hi: number): { total: number; largest: number; count: number } {
    let total = 0;
    let largest = 0;
    let count = 0;
    for (let i = this.firstEndingAfter(lo); i < this.s.length && this.s[i] < hi; i++) {
      const n = Math.min(this.e[i], hi) - Math.max(this.s[i], lo);
      total += n;
      if (n > largest) largest = n;
      count++;
    }
    return { total, largest, count };
  }

  /** The free extent containing addr, or null. */
  containing(addr: number): { start: number; end: number } | null {
    const i = this.firstEndingAfter(addr);
    if (i < this.s.length && this.s[i] <= addr) return { start: this.s[i], end: this.e[i] };
    return null;
  }

  /** Index of the first free extent whose end is > addr. */
  private firstEndingAfter(addr: number): number {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.e[m] <= addr) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  /** Lowest aligned address a with [a, a+size) free and inside [vstart, vend); -1 if none. Pure. */
  find(size: number, align: number, vstart: number, vend: number): number {
    const s = this.s;
    const e = this.e;
    for (let i = this.firstEndingAfter(vstart); i < s.length; i++) {
      const st = s[i];
      if (st >= vend) break;
      const lo = st > vstart ? st : vstart;
      const lim = e[i] < vend ? e[i] : vend;
      if (lim - lo < size) continue; // too small before any alignment
      const a = align === 1 || lo % align === 0 ? lo : alignUp(lo, align);
      if (a + size <= lim) return a;
    }
    return -1;
  }

  /**
   * Start of the first extent in address order at least `size` long whose start satisfies
   * `accept`; -1 if none. Pure. (The ROX cache's mas_for_each() over free_areas.)
   */
  firstFit(size: number, accept: (start: number) => boolean): number {
    for (let i = 0; i < this.s.length; i++)
      if (this.e[i] - this.s[i] >= size && accept(this.s[i])) return this.s[i];
    return -1;
  }

  /** Take [a, a+size), which must be free. */
  take(a: number, size: number): void {
    const i = this.firstEndingAfter(a);
    const st = this.s[i];
    const en = this.e[i];
    if (i >= this.s.length || st > a || en < a + size)
      throw new Error(`vmap: [${a}, +${size}) is not free`);
    const left = a > st;
    const right = a + size < en;
    if (left && right) {
      this.e[i] = a;
      this.s.splice(i + 1, 0, a + size);
      this.e.splice(i + 1, 0, en);
    } else if (left) this.e[i] = a;
    else if (right) this.s[i] = a + size;
    else {
      this.s.splice(i, 1);
      this.e.splice(i, 1);
    }
  }

  /** Return [a, a+size), merging with neighbours. */
  release(a: number, size: number): void {
    const end = a + size;
    const i = this.firstEndingAfter(a); // first extent ending after a: must start at or after end
    if (i < this.s.length && this.s[i] < end)
      throw new Error(`vmap: [${a}, +${size}) overlaps free space`);
    const mergeLeft = i > 0 && this.e[i - 1] === a;
    const mergeRight = i < this.s.length && this.s[i] === end;
    if (mergeLeft && mergeRight) {
      this.e[i - 1] = this.e[i];
      this.s.splice(i, 1);
      this.e.splice(i, 1);
    } else if (mergeLeft) this.e[i - 1] = end;
    else if (mergeRight) this.s[i] = a;
    else {
      this.s.splice(i, 0, a);
      this.e.splice(i, 0, end);
    }
  }

  /** Free extents intersecting [lo, hi), clipped to it. */
  extents(lo: number, hi: number): { start: number; end: number }[] {
    const out: { start: number; end: number }[] = [];
    for (let i = this.firstEndingAfter(lo); i < this.s.length && this.s[i] < hi; i++) {
      out.push({ start: Math.max(this.s[i], lo), end: Math.min(this.e[i], hi) });
    }
    return out;
  }

  snapshot(): [number, number][] {
    return this.s.map((s, i) => [s, this.e[i]]);
  }
}
