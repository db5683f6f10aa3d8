/**
 * Scenario -> machine -> engine -> results. Runs the exhaustive search (or the seeded sampler),
 * groups final states by outcome, evaluates the final condition and rebuilds one shortest
 * witness per outcome with the residency of every step.
 */
import { Machine, diffText, type MachineOptions } from "../machine/machine";
import { progress } from "../display";
import type { Layout } from "../machine/layout";
import { compile } from "../machine/layout";
import { evalCondition, observation, parseCondition, type Condition } from "../scenario/condition";
import type { ScenarioSpec } from "../scenario/spec";
import { bfs, pathTo, sampleWalks, type Bounds } from "./engine";
import type { ExplorationResult, OutcomeResult, Witness } from "../model";

export interface ExploreOptions extends Bounds, MachineOptions {
  /** Show a progress bar (in a notebook it updates in place); the text is its label. */
  progress?: boolean | string;
  /** Sample this many seeded random walks instead of exhausting the state space. */
  sample?: { runs: number; seed: number };
  /** Skip witness reconstruction (faster sweeps). */
  witnesses?: boolean;
  /**
   * States the expansion of one symmetric outcome into its CPU permutations may visit (default
   * 20,000). A search whose expansion runs out of it is incomplete: it may miss a permutation.
   */
  expansionBudget?: number;
}

export function outcomeKey(values: Record<string, string>, names?: string[]): string {
  const ks = names ?? Object.keys(values);
  return ks
    .filter((k) => values[k] !== undefined)
    .map((k) => `${k}=${values[k]}`)
    .join(" ");
}

/** The names an outcome is made of: every register, the locations the condition reads, hang. */
function observedNames(
  layout: Layout,
  cond: Condition | null,
): (values: Record<string, string>) => string[] {
  const regs = layout.cpus.flatMap((c, i) => c.regs.map((r) => `${i}:${r}`));
  const locs = cond ? collect(cond).filter((n) => !n.includes(":")) : [];
  return (values) => [...regs, ...locs, ...(values.hang ? ["hang"] : [])];
}

function collect(c: Condition): string[] {
  const out: string[] = [];
  const walk = (e: Condition["expr"]) => {
    if (e.k === "atom") out.push(e.lhs);
    else if (e.k === "not") walk(e.e);
    else if (e.k === "and" || e.k === "or") {
      walk(e.a);
      walk(e.b);
    }
  };
  walk(c.expr);
  return out;
}

/**
 * Explore every interleaving of a scenario's CPUs and hardware steps (or, with `opts.sample`,
 * that many seeded random walks) and group the final states by outcome, with the condition's
 * verdict and one shortest witness per outcome.
 *
 * Bounds: `maxStates` (default 5,000,000 states), `maxMs` (milliseconds, default 60,000) and
 * `maxHeapBytes` (bytes, default 2 GiB); when one is hit `stats.complete` is false and the
 * result is a lower bound (no verdict of absence can be drawn from it). So it is when the
 * expansion of a symmetric outcome into its CPU permutations runs out of `expansionBudget`.
 * @throws {ScenarioError} for a scenario that does not compile (see {@link compile}).
 * @throws {Error} when the condition reads a register or location the scenario lacks.
 */
export function explore(spec: ScenarioSpec, opts: ExploreOptions = {}): ExplorationResult {
  const b = opts.expansionBudget;
  if (b !== undefined && !(Number.isInteger(b) && b > 0)) {
    throw new Error(`explore: expansionBudget must be a positive integer, not ${String(b)}`);
  }
  const layout = compile(spec);
  const cond = spec.condition ? parseCondition(spec.condition) : null;
  if (cond) {
    const regs = new Set(layout.cpus.flatMap((c, i) => c.regs.map((r) => `${i}:${r}`)));
    for (const n of collect(cond)) {
      if (n.includes(":") ? !regs.has(n) : !layout.dataNames.includes(n)) {
        throw new Error(
          `${spec.name}: the condition reads "${n}", which the scenario does not have`,
        );
      }
    }
  }
  const m = new Machine(layout, {
    liveness: opts.liveness,
    symmetry: opts.symmetry ?? true,
    partialOrder: opts.partialOrder,
    twins: !opts.sample,
  });
  const names = observedNames(layout, cond);
  // Witnesses replay on the unreduced machine, so their residency shows every structure.
  const replay =
    opts.witnesses === false ? null : new Machine(layout, { liveness: false, symmetry: false });
  let bar: ReturnType<typeof progress> | undefined;
  if (opts.progress) {
    const limit = opts.maxStates ?? 5_000_000;
    bar = progress(
      typeof opts.progress === "string" ? opts.progress : `exploring ${spec.name}`,
      limit,
    );
    const user = opts.onProgress;
    opts = {
      ...opts,
      onProgress: (p) => {
        bar!.update(
          p.states,
          `${p.states} states, ${p.frontier} to visit, ${(p.ms / 1000).toFixed(1)} s`,
        );
        user?.(p);
      },
    };
  }
  const t0 = performance.now();
  const groups = new Map<
    string,
    { values: Record<string, string>; count: number; labels: number[] }
  >();
  let states = 0;
  let transitions = 0;
  let finals = 0;
  let complete = true;
  const budget = opts.expansionBudget ?? EXPANSION_BUDGET;
  let stoppedBy: ExplorationResult["stats"]["stoppedBy"];
  let searchMs = 0;
  if (opts.sample) {
    // Only counts and one shortest walk per outcome are kept, whatever the number of runs.
    const done = sampleWalks(
      m,
      opts.sample.runs,
      opts.sample.seed,
      (w) => {
        if (!m.acceptable(w.final)) return;
        const values = m.observe(w.final);
        const key = outcomeKey(values, names(values));
        const g = groups.get(key);
        if (g) {
          g.count++;
          if (w.labels.length < g.labels.length) g.labels = [...w.labels];
        } else groups.set(key, { values, count: 1, labels: [...w.labels] });
        states += w.labels.length;
        transitions += w.labels.length;
      },
      {
        maxMs: opts.maxMs,
        maxHeapBytes: opts.maxHeapBytes,
        onProgress: opts.onProgress,
      },
    );
    finals = done.runs;
    complete = false;
    stoppedBy = done.stoppedBy ?? "sample";
    if (m.symmetryGroups.length) {
      // Symmetry: a walk's labels and final state are canonical; each canonical outcome stands
      // for every permutation of the symmetric CPUs, expanded with concrete walks as below (past
      // the time bound, into its first concrete outcome only).
      const concrete = concreteMachine(layout, opts);
      const deadline = t0 + (opts.maxMs ?? 60_000);
      const canonical = [...groups.values()];
      groups.clear();
      for (const c of canonical) {
        const { out } = concretise(m, concrete, along(m, c.labels), names, budget, deadline);
        for (const [key, e] of out) {
          const g = groups.get(key);
          if (g) g.count += c.count;
          else groups.set(key, { values: e.values, count: c.count, labels: e.labels });
        }
      }
    }
  } else {
    const g = bfs(m, opts);
    searchMs = g.ms;
    states = g.store.count;
    transitions = g.transitions;
    finals = g.finals.length;
    complete = g.complete;
    stoppedBy = g.stoppedBy;
    const expanded = new Map<string, string[]>();
    const concrete = m.symmetryGroups.length ? concreteMachine(layout, opts) : null;
    for (const f of g.finals) {
      // A final state no execution reaches (a late fetch never performed) is no outcome.
      if (!m.acceptable(g.store.get(f))) continue;
      if (concrete) {
        // Symmetry: one canonical final state stands for every permutation of the symmetric CPUs.
        const cv = m.observe(g.store.get(f));
        const ck = outcomeKey(cv, names(cv));
        let keys = expanded.get(ck);
        if (!keys) {
          keys = [];
          const path: Uint8Array[] = [];
          for (let j = f; j >= 0; j = g.parent[j]) path.push(g.store.get(j));
          const { out, cut } = concretise(m, concrete, path.reverse(), names, budget);
          if (cut && complete) {
            complete = false;
            stoppedBy = "expansion";
          }
          for (const [key, { values, labels }] of out) {
            keys.push(key);
            if (!groups.has(key)) groups.set(key, { values, count: 0, labels });
          }
          expanded.set(ck, keys);
        }
        for (const key of keys) groups.get(key)!.count++;
        continue;
      }
      const s = g.store.get(f);
      const values = m.observe(s);
      const key = outcomeKey(values, names(values));
      const e = groups.get(key);
      if (e) e.count++;
      else groups.set(key, { values, count: 1, labels: pathTo(g, f) });
    }
    g.store.release();
  }
  const ms = performance.now() - t0;
  bar?.finish(`${states} states${complete ? ", complete" : `, incomplete (${stoppedBy})`}`);
  const outcomes: OutcomeResult[] = [];
  let sat = 0;
  let total = 0;
  for (const [key, g] of groups) {
    const satisfies = cond ? evalCondition(cond.expr, g.values) : null;
    if (satisfies) sat += g.count;
    total += g.count;
    const values: Record<string, string> = {};
    for (const n of names(g.values)) values[n] = g.values[n];
    outcomes.push({
      key,
      values,
      count: g.count,
      satisfies,
      witness: replay ? witness(replay, g.labels) : emptyWitness(m),
    });
  }
  outcomes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Satisfaction is counted over outcomes (herd7 counts final states; so do we, per outcome).
  const obs = cond ? observation(sat, total) : null;
  return {
    scenario: spec.name,
    arch: layout.arch.name,
    outcomes,
    stats: {
      states,
      transitions,
      finalStates: finals,
      ms,
      statesPerSecond: Math.round((states / Math.max(searchMs || ms, 1e-3)) * 1000),
      complete,
      stoppedBy,
      ...(stoppedBy ? { limit: limitText(stoppedBy, opts) } : {}),
      reduction:
        [
          opts.liveness === false ? null : "liveness",
          m.symmetryGroups.length ? "symmetry" : null,
          opts.partialOrder === false ? null : "partial-order",
        ]
          .filter(Boolean)
          .join("+") || "none",
    },
    condition: cond ? cond.text : null,
    observation: complete ? obs : null,
    expected: spec.expect ?? null,
    matchesExpectation: spec.expect && obs && complete ? spec.expect === obs : null,
    ...(spec.handled?.length ? { handled: [...spec.handled] } : {}),
  };
}

/** The bound that stopped a search, in words (the defaults are the engine's). */
function limitText(
  stoppedBy: NonNullable<ExplorationResult["stats"]["stoppedBy"]>,
  opts: ExploreOptions,
): string {
  switch (stoppedBy) {
    case "states":
      return `the state limit of ${opts.maxStates ?? 5_000_000} states`;
    case "time":
      return `the time limit of ${opts.maxMs ?? 60_000} ms`;
    case "memory":
      return `the memory limit of ${Math.round((opts.maxHeapBytes ?? 2 * 1024 ** 3) / 1024 ** 2)} MiB`;
    case "sample":
      return `sampling ${opts.sample?.runs ?? 0} random executions`;
    case "expansion":
      return `the expansion budget of ${opts.expansionBudget ?? EXPANSION_BUDGET} states per symmetric outcome (raise it with expansionBudget or --expansion-budget, or turn symmetry off)`;
  }
}

/** The machine canonical outcomes are expanded on: the same reductions, symmetry off. */
function concreteMachine(layout: Layout, opts: ExploreOptions): Machine {
  return new Machine(layout, {
    liveness: opts.liveness,
    symmetry: false,
    partialOrder: opts.partialOrder,
  });
}

const EXPANSION_BUDGET = 20_000;

/**
 * The concrete outcomes a canonical (symmetry-reduced) path of states stands for, each with a
 * concrete path: a depth-first search over the unreduced transitions whose canonical form follows
 * the path. Past the deadline (ms, performance.now()) it stops at the first concrete outcome found.
 * `cut`: the search ran out of its budget of states (an outcome may be missing).
 */
function concretise(
  sym: Machine,
  conc: Machine,
  canon: Uint8Array[],
  names: (v: Record<string, string>) => string[],
  budget: number,
  deadline = Infinity,
): { out: Map<string, { values: Record<string, string>; labels: number[] }>; cut: boolean } {
  const perms = sym.symmetryGroups.reduce((n, grp) => n * factorial(grp.length), 1);
  const out = new Map<string, { values: Record<string, string>; labels: number[] }>();
  let cut = false;
  const same = (a: Uint8Array, b: Uint8Array) => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const work = new Uint8Array(canon[0].length);
  // A concrete state met again at the same step was searched from there already: the outcomes
  // below it are found, each with the first path to it.
  const seen = new Set<string>();
  const dfs = (s: Uint8Array, j: number, labels: number[]) => {
    if (out.size >= perms) return;
    if (budget-- <= 0) {
      cut = true;
      return;
    }
    if (out.size > 0 && performance.now() > deadline) return;
    const here = `${j}:${String.fromCharCode(...s)}`;
    if (seen.has(here)) return;
    seen.add(here);
    if (j === canon.length - 1) {
      const values = conc.observe(s);
      const key = outcomeKey(values, names(values));
      if (!out.has(key)) out.set(key, { values, labels: [...labels] });
      return;
    }
    const next: { l: number; n: Uint8Array }[] = [];
    conc.successors(s, (l, n) => {
      work.set(n);
      if (same(sym.canonical(work), canon[j + 1])) next.push({ l, n: n.slice() });
    });
    for (const x of next) {
      labels.push(x.l);
      dfs(x.n, j + 1, labels);
      labels.pop();
    }
  };
  dfs(conc.initial(), 0, []);
  return { out, cut };
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

function emptyWitness(m: Machine): Witness {
  return { steps: [], initial: [], lines: m.residencyLines(), cpus: m.nCpu };
}

/** The states a path of labels goes through from the initial state, the initial one first. */
function along(m: Machine, labels: number[]): Uint8Array[] {
  const states = [m.initial()];
  labels.forEach((l, i) => {
    let next: Uint8Array | undefined;
    m.successors(states[i], (ll, n) => {
      if (ll === l && next === undefined) next = n.slice();
    });
    if (!next) throw new Error(`witness replay failed at step ${i + 1}`);
    states.push(next);
  });
  return states;
}

/** Replays a path of labels from the initial state, describing each step. */
export function witness(m: Machine, labels: number[]): Witness {
  const path = along(m, labels);
  const initial = m.residency(path[0]);
  const steps: Witness["steps"] = [];
  labels.forEach((l, i) => {
    const s = path[i];
    const next = path[i + 1];
    const d = m.describe(l, s);
    const changes = m.diff(s, next);
    steps.push({
      step: i + 1,
      cpu: d.cpu,
      kind: d.kind,
      action: d.action,
      changes,
      effect: diffText(changes),
      sync: d.sync,
      residency: m.residency(next),
    });
  });
  return { steps, initial, lines: m.residencyLines(), cpus: m.nCpu };
}
