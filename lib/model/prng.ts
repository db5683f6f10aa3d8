// Small seeded PRNG (mulberry32) and the samplers the workloads and cost model use.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive), like get_random_u32_inclusive(). */
  int(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** exp(N(log(median), sigma)): log-normal with the given median and log-space spread. */
  logNormal(median: number, sigma: number): number;
  pick<T>(xs: readonly T[]): T;
}

/**
 * A seeded pseudo-random generator (mulberry32): the same seed (a 32-bit integer; other numbers
 * are truncated to 32 bits) gives the same sequence, so workloads and samples are reproducible.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

/** The uniform [0, 1) stream of mulberry32(seed) alone, for callers that draw nothing else. */
export function prng(seed: number): () => number {
  return mulberry32(seed).next;
}

/** Sample from a quantile table by inverse CDF, interpolating log-linearly between quantiles. */
export function sampleQuantiles(rng: Rng, table: readonly { p: number; v: number }[]): number {
  const u = rng.next();
  for (let i = 1; i < table.length; i++) {
    const a = table[i - 1];
    const b = table[i];
    if (u <= b.p) {
      const f = b.p === a.p ? 0 : (u - a.p) / (b.p - a.p);
      const lo = Math.max(1, a.v);
      const hi = Math.max(1, b.v);
      return Math.round(lo * Math.pow(hi / lo, f));
    }
  }
  return table[table.length - 1].v;
}
