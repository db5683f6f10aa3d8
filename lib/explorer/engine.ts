/**
 * The exploration engine: breadth-first search over every enabled transition of a transition
 * system, with a visited set over the compact state encoding. It knows nothing of machines or
 * architectures (the herd7 split: model apart from engine).
 */
import { prng } from "../model";

export interface TransitionSystem {
  initial(): Uint8Array;
  /**
   * Emits each transition of s; may return a number of further transitions it left out because
   * each leads to a state it emitted (they count as transitions, nothing else).
   */
  successors(s: Uint8Array, emit: (label: number, next: Uint8Array) => void): number | void;
}

export interface Progress {
  states: number;
  frontier: number;
  ms: number;
  finals: number;
}

export interface Bounds {
  /** Stop after this many states (default 5,000,000). */
  maxStates?: number;
  /** Stop after this many milliseconds (default 60,000). */
  maxMs?: number;
  /** Stop when the heap grows past this many bytes (default 2 GiB). */
  maxHeapBytes?: number;
  onProgress?: (p: Progress) => void;
  /** Call onProgress every this many states (default 50,000). */
  progressEvery?: number;
}

export interface Graph {
  /** Every visited state, in BFS order. */
  store: StateStore;
  /** Parent index and label of the transition that first reached each state. */
  parent: Int32Array;
  label: Int32Array;
  /** Indices of final states (no enabled transition). */
  finals: number[];
  transitions: number;
  complete: boolean;
  stoppedBy?: "states" | "time" | "memory";
  ms: number;
}

/**
 * The visited-state set: states of one fixed size stored back to back in one growing arena,
 * with an open-addressing hash table of indices. No per-state objects or strings. Each state
 * takes a whole number of 32-bit words (the bytes past its end are zero), so hashing and
 * comparing go a word at a time. A state whose buffer is exactly those words long (as the
 * machine's successor buffer is) is read in place, without a copy.
 */
export class StateStore {
  /** Words per state. */
  private readonly words: number;
  /** Mask of the state's bytes in its last word (the rest of that word is padding). */
  private readonly lastMask: number;
  private arena32: Int32Array;
  private arena8: Uint8Array;
  /** The state being looked up, padded to whole words. */
  private readonly key8: Uint8Array;
  private readonly key32: Int32Array;
  /** The last state looked up in place (a buffer reused for each successor), and its words. */
  private viewOf: Uint8Array | null = null;
  private view: Int32Array;
  count = 0;
  /** Open addressing: per slot, the state's index (-1: empty) and its hash. */
  private table: Int32Array;
  /** States the arena holds. */
  private cap: number;
  private mask: number;
  constructor(
    readonly size: number,
    initial = 1 << 10,
  ) {
    this.words = Math.max(1, Math.ceil(size / 4));
    const last = new Uint8Array(4);
    last.fill(255, 0, size - (this.words - 1) * 4);
    this.lastMask = new Int32Array(last.buffer)[0];
    const spare = StateStore.spare;
    if (spare && spare.table.length === initial * 4 && spare.arena.length >= this.words * initial) {
      // A released store's buffers: no fresh zeroed allocation per search.
      StateStore.spare = null;
      this.arena32 = spare.arena.subarray(0, this.words * initial);
      this.table = spare.table.fill(-1);
    } else {
      this.arena32 = new Int32Array(this.words * initial);
      this.table = new Int32Array(initial * 4).fill(-1);
    }
    this.arena8 = new Uint8Array(this.arena32.buffer, 0, this.arena32.byteLength);
    this.key32 = new Int32Array(this.words);
    this.key8 = new Uint8Array(this.key32.buffer);
    this.view = this.key32;
    this.cap = initial;
    this.mask = initial * 2 - 1;
  }
  /** Buffers of a released small store, for the next one (searches repeated in a loop or sweep). */
  private static spare: { arena: Int32Array; table: Int32Array } | null = null;
  /** The most bytes of arena kept for reuse. */
  private static readonly SPARE_MAX = 1 << 20;
  /**
   * Hands this store's buffers to the next store built (when small enough); the store must not be
   * used afterwards.
   */
  release(): void {
    const arena = this.arena32;
    if (arena.buffer.byteLength <= StateStore.SPARE_MAX)
      StateStore.spare = { arena: new Int32Array(arena.buffer), table: this.table };
    this.arena32 = new Int32Array(0);
    this.arena8 = new Uint8Array(0);
    this.table = new Int32Array(0);
    this.count = 0;
    this.cap = 0;
  }
  /** A 32-bit hash of `n` words (multiply-xorshift per word, murmur3's finaliser). */
  static hash(w: Int32Array, n: number): number {
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < n; i++) {
      h = Math.imul(h ^ w[i], 0x5bd1e995);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
  /** View of state i (do not modify). */
  get(i: number): Uint8Array {
    const off = i * this.words * 4;
    return this.arena8.subarray(off, off + this.size);
  }
  /** A buffer for read(): the state as bytes, over whole words. */
  buffer(): { bytes: Uint8Array; words: Int32Array } {
    const words = new Int32Array(this.words);
    return { bytes: new Uint8Array(words.buffer, 0, this.size), words };
  }
  /** Copies state i into a buffer() (cheaper than a view per state). */
  read(i: number, out: { words: Int32Array }): void {
    const n = this.words;
    const src = this.arena32;
    const dst = out.words;
    for (let k = 0, off = i * n; k < n; k++) dst[k] = src[off + k];
  }
  /** Copy of state i. */
  copy(i: number): Uint8Array {
    const off = i * this.words * 4;
    return this.arena8.slice(off, off + this.size);
  }
  /** The words of s: its own buffer when that is exactly the state's words, else a copy. */
  private keyOf(s: Uint8Array): Int32Array {
    if (s === this.viewOf) return this.view;
    if (s.byteOffset === 0 && s.buffer.byteLength === this.words * 4 && s.length === this.size) {
      this.viewOf = s;
      this.view = new Int32Array(s.buffer);
      return this.view;
    }
    this.key8.set(s);
    return this.key32;
  }
  /** Index of s if present, else adds it and returns -(index + 1). */
  add(s: Uint8Array): number {
    const words = this.words;
    const key = this.keyOf(s);
    const n1 = words - 1;
    const lastKey = key[n1] & this.lastMask;
    // Four lanes (words i mod 4) make four independent multiply chains; the padding of the last
    // word is masked off.
    let h1 = 0x811c9dc5 ^ words;
    let h2 = 0x9747b28c | 0;
    let h3 = 0x1b873593;
    let h4 = 0x27d4eb2f;
    let i = 0;
    for (; i + 3 < n1; i += 4) {
      h1 = Math.imul(h1 ^ key[i], 0x5bd1e995);
      h2 = Math.imul(h2 ^ key[i + 1], 0x5bd1e995);
      h3 = Math.imul(h3 ^ key[i + 2], 0x5bd1e995);
      h4 = Math.imul(h4 ^ key[i + 3], 0x5bd1e995);
      h1 ^= h1 >>> 13;
      h2 ^= h2 >>> 13;
      h3 ^= h3 >>> 13;
      h4 ^= h4 >>> 13;
    }
    // The last (up to three) words and the masked last one, one per lane.
    if (i < n1) h1 = Math.imul(h1 ^ key[i], 0x5bd1e995);
    if (i + 1 < n1) h2 = Math.imul(h2 ^ key[i + 1], 0x5bd1e995);
    if (i + 2 < n1) h3 = Math.imul(h3 ^ key[i + 2], 0x5bd1e995);
    h4 = Math.imul(h4 ^ lastKey, 0x5bd1e995);
    h1 ^= h1 >>> 13;
    h4 ^= h4 >>> 13;
    let h = h1 ^ Math.imul(h2, 0xcc9e2d51) ^ Math.imul(h3, 0x1b873593) ^ Math.imul(h4, 0xe6546b64);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    const mask = this.mask;
    let slot = h & mask;
    const arena = this.arena32;
    const table = this.table;
    for (;;) {
      // Index and hash side by side: a probe reads one cache line.
      const j = table[2 * slot];
      if (j < 0) break;
      if (table[2 * slot + 1] === h) {
        const off = j * words;
        let k = 0;
        while (k + 1 < n1 && arena[off + k] === key[k] && arena[off + k + 1] === key[k + 1]) k += 2;
        while (k < n1 && arena[off + k] === key[k]) k++;
        if (k === n1 && arena[off + n1] === lastKey) return j;
      }
      slot = (slot + 1) & mask;
    }
    const idx = this.count;
    if (idx >= this.cap) {
      this.grow();
      return this.add(s);
    }
    this.count = idx + 1;
    const off = idx * words;
    // key spans exactly the state's words: one set() beats a loop past a few words.
    if (n1 > 8) arena.set(key, off);
    else for (let k = 0; k < n1; k++) arena[off + k] = key[k];
    arena[off + n1] = lastKey;
    table[2 * slot] = idx;
    table[2 * slot + 1] = h;
    return -(idx + 1);
  }
  private grow(): void {
    const n = this.cap * 2;
    const arena = new Int32Array(this.words * n);
    arena.set(this.arena32);
    this.arena32 = arena;
    this.arena8 = new Uint8Array(arena.buffer);
    this.cap = n;
    // Rehash in the old table's slot order: the new slots follow nearly in order too.
    const old = this.table;
    const table = new Int32Array(n * 4).fill(-1);
    this.table = table;
    const mask = n * 2 - 1;
    this.mask = mask;
    for (let o = 0; o < old.length; o += 2) {
      const i = old[o];
      if (i < 0) continue;
      const h = old[o + 1];
      let slot = h & mask;
      while (table[2 * slot] >= 0) slot = (slot + 1) & mask;
      table[2 * slot] = i;
      table[2 * slot + 1] = h;
    }
  }
  /** States the store holds before it next doubles. */
  get capacity(): number {
    return this.cap;
  }
  bytes(): number {
    return this.arena32.byteLength + this.table.byteLength;
  }
}

/**
 * Breadth-first search of a transition system's state space within `bounds` (states, time in
 * milliseconds, heap in bytes). Returns every visited state with the transition that first
 * reached it (so paths to final states are shortest) and whether the search was complete.
 */
export function bfs(ts: TransitionSystem, bounds: Bounds = {}): Graph {
  const maxStates = bounds.maxStates ?? 5_000_000;
  const maxMs = bounds.maxMs ?? 60_000;
  const maxHeap = bounds.maxHeapBytes ?? 2 * 1024 ** 3;
  const every = bounds.progressEvery ?? 50_000;
  const t0 = performance.now();
  const init = ts.initial();
  const store = new StateStore(init.length);
  let parent = new Int32Array(1 << 10);
  let label = new Int32Array(1 << 10);
  const finals: number[] = [];
  let transitions = 0;
  store.add(init);
  const state = store.buffer();
  parent[0] = -1;
  let head = 0;
  let stoppedBy: Graph["stoppedBy"];
  let cur = 0;
  let any = false;
  const emit = (l: number, next: Uint8Array) => {
    any = true;
    transitions++;
    const r = store.add(next);
    if (r < 0) {
      const i = -r - 1;
      if (i >= parent.length) {
        const np = new Int32Array(parent.length * 2);
        np.set(parent);
        parent = np;
        const nl = new Int32Array(label.length * 2);
        nl.set(label);
        label = nl;
      }
      parent[i] = cur;
      label[i] = l;
    }
  };
  while (head < store.count) {
    if (store.count >= maxStates) {
      stoppedBy = "states";
      break;
    }
    if ((head & 4095) === 0 && head > 0) {
      const ms = performance.now() - t0;
      if (ms > maxMs) {
        stoppedBy = "time";
        break;
      }
      // Every store counts: the heap, the state arena and tables (array buffers, outside the
      // heap), and the doubling of the store and parent/label arrays when it comes next.
      const mem = process.memoryUsage();
      const growing =
        store.count > store.capacity * 0.9 ? 2 * (store.bytes() + parent.byteLength * 2) : 0;
      if (mem.heapUsed + mem.arrayBuffers + growing > maxHeap) {
        stoppedBy = "memory";
        break;
      }
    }
    if (bounds.onProgress && head % every === 0 && head > 0) {
      bounds.onProgress({
        states: store.count,
        frontier: store.count - head,
        ms: performance.now() - t0,
        finals: finals.length,
      });
    }
    cur = head++;
    any = false;
    store.read(cur, state);
    const left = ts.successors(state.bytes, emit);
    if (left) transitions += left;
    if (!any) finals.push(cur);
  }
  const ms = performance.now() - t0;
  bounds.onProgress?.({
    states: store.count,
    frontier: store.count - head,
    ms,
    finals: finals.length,
  });
  return {
    store,
    parent: parent.subarray(0, store.count),
    label: label.subarray(0, store.count),
    finals,
    transitions,
    complete: stoppedBy === undefined,
    stoppedBy,
    ms,
  };
}

/** Labels of the path from the initial state to state i. */
export function pathTo(g: Graph, i: number): number[] {
  const labels: number[] = [];
  for (let j = i; j > 0; j = g.parent[j]) labels.push(g.label[j]);
  return labels.reverse();
}

export interface Walk {
  labels: number[];
  final: Uint8Array;
}

/** Seeded random walks from the initial state to a final state (for scenarios too large to exhaust). */
export function randomWalks(
  ts: TransitionSystem,
  runs: number,
  seed: number,
  maxSteps = 10_000,
): Walk[] {
  const out: Walk[] = [];
  sampleWalks(ts, runs, seed, (w) => void out.push({ labels: [...w.labels], final: w.final }), {
    maxSteps,
    maxMs: Infinity,
    maxHeapBytes: Infinity,
  });
  return out;
}

/** The most walks one sample may ask for. */
export const MAX_SAMPLE_RUNS = 100_000_000;

export interface SampleBounds {
  /** Stop after this many milliseconds (default 60,000, as bfs). */
  maxMs?: number;
  /** Stop when the heap and array buffers grow past this many bytes (default 2 GiB). */
  maxHeapBytes?: number;
  maxSteps?: number;
  onProgress?: (p: Progress) => void;
  /** Call onProgress every this many walks (default 10,000). */
  progressEvery?: number;
}

/**
 * Seeded random walks handed one at a time to `onWalk` (its labels array is reused: copy what
 * you keep), so memory does not grow with the number of runs. Stops early at the time or memory
 * bound; returns how many walks were done and why it stopped early.
 */
export function sampleWalks(
  ts: TransitionSystem,
  runs: number,
  seed: number,
  onWalk: (w: Walk) => void,
  bounds: SampleBounds = {},
): { runs: number; stoppedBy?: "time" | "memory" } {
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_SAMPLE_RUNS)
    throw new RangeError(`sample runs must be an integer in 1..${MAX_SAMPLE_RUNS}, got ${runs}`);
  const maxSteps = bounds.maxSteps ?? 10_000;
  const maxMs = bounds.maxMs ?? 60_000;
  const maxHeap = bounds.maxHeapBytes ?? 2 * 1024 ** 3;
  const every = bounds.progressEvery ?? 10_000;
  const t0 = performance.now();
  const rnd = prng(seed);
  const succ: { l: number; s: Uint8Array }[] = [];
  const emit = (l: number, s: Uint8Array) => void succ.push({ l, s: s.slice() });
  const labels: number[] = [];
  let steps = 0;
  let lastCheck = 0;
  for (let r = 0; r < runs; r++) {
    // Checked every 64 walks and every 4096 steps (a walk may be long).
    if ((r & 63) === 0 || steps - lastCheck > 4096) {
      lastCheck = steps;
      if (performance.now() - t0 > maxMs) return { runs: r, stoppedBy: "time" };
      const mem = process.memoryUsage();
      if (mem.heapUsed + mem.arrayBuffers > maxHeap) return { runs: r, stoppedBy: "memory" };
    }
    if (bounds.onProgress && r % every === 0 && r > 0)
      bounds.onProgress({
        states: steps,
        frontier: runs - r,
        ms: performance.now() - t0,
        finals: r,
      });
    let s = ts.initial();
    labels.length = 0;
    for (let step = 0; step < maxSteps; step++) {
      succ.length = 0;
      ts.successors(s, emit);
      if (succ.length === 0) break;
      const pick = succ[Math.floor(rnd() * succ.length)];
      labels.push(pick.l);
      s = pick.s;
    }
    steps += labels.length;
    onWalk({ labels, final: s });
  }
  bounds.onProgress?.({ states: steps, frontier: 0, ms: performance.now() - t0, finals: runs });
  return { runs };
}
