/**
 * The exploration engine: breadth-first search over every enabled transition of a transition
 * system, with a visited set over the compact state encoding. It knows nothing of machines or
 * architectures (the herd7 split: model apart from engine).
 */

export interface TransitionSystem {
  initial(): Uint8Array;
  successors(s: Uint8Array, emit: (label: number, next: Uint8Array) => void): void;
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
  /** Key (latin1 string of the state bytes) of every visited state, in BFS order. */
  keys: string[];
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

export function keyOf(s: Uint8Array): string {
  // latin1 keeps one char per byte; faster than join and collision-free.
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString("latin1");
}

export function stateOf(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, "latin1"));
}

export function bfs(ts: TransitionSystem, bounds: Bounds = {}): Graph {
  const maxStates = bounds.maxStates ?? 5_000_000;
  const maxMs = bounds.maxMs ?? 60_000;
  const maxHeap = bounds.maxHeapBytes ?? 2 * 1024 ** 3;
  const every = bounds.progressEvery ?? 50_000;
  const t0 = performance.now();
  const keys: string[] = [];
  const index = new Map<string, number>();
  let parent = new Int32Array(1024);
  let label = new Int32Array(1024);
  const finals: number[] = [];
  let transitions = 0;
  const add = (k: string, p: number, l: number) => {
    const i = keys.length;
    if (i >= parent.length) {
      const np = new Int32Array(parent.length * 2);
      np.set(parent);
      parent = np;
      const nl = new Int32Array(label.length * 2);
      nl.set(label);
      label = nl;
    }
    keys.push(k);
    index.set(k, i);
    parent[i] = p;
    label[i] = l;
  };
  add(keyOf(ts.initial()), -1, 0);
  let head = 0;
  let stoppedBy: Graph["stoppedBy"];
  let cur = 0;
  let any = false;
  const emit = (l: number, next: Uint8Array) => {
    any = true;
    transitions++;
    const k = keyOf(next);
    if (!index.has(k)) add(k, cur, l);
  };
  while (head < keys.length) {
    if (keys.length >= maxStates) {
      stoppedBy = "states";
      break;
    }
    if ((head & 4095) === 0 && head > 0) {
      const ms = performance.now() - t0;
      if (ms > maxMs) {
        stoppedBy = "time";
        break;
      }
      if (process.memoryUsage().heapUsed > maxHeap) {
        stoppedBy = "memory";
        break;
      }
    }
    if (bounds.onProgress && head % every === 0 && head > 0) {
      bounds.onProgress({ states: keys.length, frontier: keys.length - head, ms: performance.now() - t0, finals: finals.length });
    }
    cur = head++;
    any = false;
    ts.successors(stateOf(keys[cur]), emit);
    if (!any) finals.push(cur);
  }
  const ms = performance.now() - t0;
  bounds.onProgress?.({ states: keys.length, frontier: keys.length - head, ms, finals: finals.length });
  return {
    keys,
    parent: parent.subarray(0, keys.length),
    label: label.subarray(0, keys.length),
    finals,
    transitions,
    complete: stoppedBy === undefined,
    stoppedBy,
    ms,
  };
}

/** Path of labels and state keys from the initial state to state i. */
export function pathTo(g: Graph, i: number): { labels: number[]; keys: string[] } {
  const labels: number[] = [];
  const keys: string[] = [];
  for (let j = i; j > 0; j = g.parent[j]) {
    labels.push(g.label[j]);
    keys.push(g.keys[j]);
  }
  labels.reverse();
  keys.reverse();
  return { labels, keys: [g.keys[0], ...keys] };
}

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Walk {
  labels: number[];
  final: Uint8Array;
}

/** Seeded random walks from the initial state to a final state (for scenarios too large to exhaust). */
export function randomWalks(ts: TransitionSystem, runs: number, seed: number, maxSteps = 10_000): Walk[] {
  const rnd = prng(seed);
  const out: Walk[] = [];
  const succ: { l: number; s: Uint8Array }[] = [];
  const emit = (l: number, s: Uint8Array) => void succ.push({ l, s });
  for (let r = 0; r < runs; r++) {
    let s = ts.initial();
    const labels: number[] = [];
    for (let step = 0; step < maxSteps; step++) {
      succ.length = 0;
      ts.successors(s, emit);
      if (succ.length === 0) break;
      const pick = succ[Math.floor(rnd() * succ.length)];
      labels.push(pick.l);
      s = pick.s;
    }
    out.push({ labels, final: s });
  }
  return out;
}
