// A map from kernel addresses to values, shaped by two engine facts. Addresses near 2^48 are not
// small integers to the JS engine, so keys are (va - base) / 64 (a bijection, small for the
// module and BPF ranges). And a Map that deletes and re-adds the same key walks a chain of its
// deleted entries on every operation; first fit hands the same addresses out again and again, so
// a removed entry keeps its key with the value null. The map thereby also remembers every
// address it ever held.
import type { Va } from "../arch/execmem";

export class VaMap<T extends object> {
  private m = new Map<number, T | null>();
  private live = 0;
  constructor(private readonly base: Va) {}

  private key(va: Va): number {
    const k = (va - this.base) / 64;
    // an int32 when it is one, so the engine passes it as a small integer, not a boxed double
    return (k | 0) === k ? k | 0 : k;
  }

  get size(): number {
    return this.live;
  }

  get(va: Va): T | undefined {
    return this.m.get(this.key(va)) ?? undefined;
  }

  has(va: Va): boolean {
    return this.get(va) !== undefined;
  }

  /** Whether va was ever set (live or removed). */
  everHeld(va: Va): boolean {
    return this.m.has(this.key(va));
  }

  set(va: Va, v: T): void {
    const k = this.key(va);
    if (this.m.get(k) == null) this.live++;
    this.m.set(k, v);
  }

  delete(va: Va): boolean {
    const k = this.key(va);
    if (this.m.get(k) == null) return false;
    this.m.set(k, null);
    this.live--;
    return true;
  }

  /** Live values, in insertion order of their addresses. */
  values(): T[] {
    const out: T[] = [];
    for (const v of this.m.values()) if (v !== null) out.push(v);
    return out;
  }

  /** Every address ever set. */
  addresses(): Va[] {
    return [...this.m.keys()].map((k) => k * 64 + this.base);
  }
}
