/**
 * What a CPU reads at one program counter, built once per machine: successors() and canonical()
 * read a state's CPU there with one lookup, and every step has the one shape (a read of a step's
 * field is monomorphic, whatever kinds of steps the programs of the process have).
 */
import type { Layout, Step } from "./layout/types";

/** What a CPU reads at one program counter. */
export interface Site {
  /** The step there (undefined at the end of the program), of the shape every step has. */
  step: Step | undefined;
  /** A kind of step that may be local (isLocal decides). */
  mayBeLocal: boolean;
  /** A load-acquire that waits for earlier store-releases (acquireWaits). */
  acquire: boolean;
  /**
   * The lines it may fetch speculatively (its speculation targets that are live there), as pairs
   * of region and VA slot, in the order successors tries them.
   */
  spec: Int32Array;
  /** Pages of the regions it may still run. */
  pages: Int32Array;
  /** No region is live: nothing will be fetched again. */
  dead: boolean;
  /** Per VA slot, 1 when live. */
  liveVa: Uint8Array;
}

export interface Sites {
  /** Per CPU, one per byte value of the program counter (past the end of the program, the end's). */
  sites: Site[][];
  /** Flat copies for canonical(), at i = c * 256 + pc: bit 0 a step there, bit 1 no region live. */
  flags: Uint8Array;
  /** ... and the site's liveVa at i * nVaSlots. */
  liveVa: Uint8Array;
}

const LOCAL_KINDS = ["mov", "alu", "flags", "cset", "jump", "br"];

/**
 * The sites of every CPU of L, from what it may still run at each program counter (`liveAt`:
 * regions, their VA slots and pages).
 */
export function buildSites(
  L: Layout,
  liveAt: { regions: number[]; va: Uint8Array; pages: number[] }[][],
  acquireAfterRelease: boolean,
): Sites {
  const sites = L.cpus.map((cpu, c) => {
    const at = liveAt[c].map(({ regions, va, pages }, pc): Site => {
      const st = pc < cpu.steps.length ? uniformStep(cpu.steps[pc]) : undefined;
      const spec: number[] = [];
      for (const ri of cpu.speculate) {
        if (!regions.includes(ri)) continue;
        const r = L.regions[ri];
        const base = L.pages[r.page].vaBase + r.offset;
        for (let i = 0; i < r.lines; i++) spec.push(ri, base + i);
      }
      return {
        step: st,
        mayBeLocal: st !== undefined && LOCAL_KINDS.includes(st.k),
        acquire:
          st !== undefined &&
          acquireAfterRelease &&
          (st.k === "ldr" || st.k === "load") &&
          st.acquire,
        spec: Int32Array.from(spec),
        pages: Int32Array.from(pages),
        dead: regions.length === 0,
        liveVa: va,
      };
    });
    const all: Site[] = [];
    for (let pc = 0; pc < 256; pc++) all.push(at[Math.min(pc, at.length - 1)]);
    return all;
  });
  const nVa = L.nVaSlots;
  const flags = new Uint8Array(sites.length * 256);
  const liveVa = new Uint8Array(sites.length * 256 * nVa);
  for (let i = 0; i < flags.length; i++) {
    const x = sites[i >> 8][i & 255];
    flags[i] = (x.step !== undefined ? 1 : 0) | (x.dead ? 2 : 0);
    for (let v = 0; v < nVa; v++) liveVa[i * nVa + v] = x.liveVa[v];
  }
  return { sites, flags, liveVa };
}

/** A copy of st with every field any step has (Step), in one order; undefined where st has none. */
function uniformStep(st: Step): Step {
  const x = st as Record<string, unknown>;
  return {
    k: x.k,
    text: x.text,
    loc: x.loc,
    value: x.value,
    release: x.release,
    vaSlot: x.vaSlot,
    reg: x.reg,
    acquire: x.acquire,
    effect: x.effect,
    insn: x.insn,
    region: x.region,
    line: x.line,
    frame: x.frame,
    sync: x.sync,
    handler: x.handler,
    dst: x.dst,
    src: x.src,
    fn: x.fn,
    a: x.a,
    b: x.b,
    cond: x.cond,
    addr: x.addr,
    target: x.target,
    when: x.when,
    link: x.link,
    linkValue: x.linkValue,
    dispatch: x.dispatch,
  } as unknown as Step;
}
