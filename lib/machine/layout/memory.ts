/**
 * The memory of a scenario as the machine numbers it: data locations, then the slots of every
 * frame (each page's code regions, line by line), then one PTE per page; the cache line of each
 * code slot; the VA slots of each page.
 */
import type { SourcePos } from "../../model";
import type { Compilation } from "./compilation";
import { MAX_VALUE } from "../../scenario/spec";
import { encodePte, permBits, PERM_R, PERM_X } from "./encoding";
import type { FrameLayout, Layout, PageLayout, RegionLayout } from "./types";
import { usesBp } from "./sequences";

const MAX_FRAMES = 31;
/** Locations of the state vector (values above are the machine's marks). */
const MAX_LOCATIONS = 250;

/** The part of the Layout that describes memory (compile() adds the CPUs and symbols). */
export type MemoryLayout = Omit<
  Layout,
  "spec" | "arch" | "versions" | "trapVersion" | "cpus" | "sbMax" | "symbols" | "versionSymbol"
>;

/** Data locations: the declared ones, plus bp_desc when a routine publishes it. */
function dataLocations(cx: Compilation): string[] {
  const { spec, arch } = cx;
  const dataNames = Object.keys(spec.data ?? {});
  // text_poke_bp publishes a descriptor that the int3 handler reads: reserve its location.
  if (
    spec.cpus?.some((c) => c.program?.some((op) => op.op === "macro" && usesBp(arch, op.name))) &&
    !dataNames.includes("bp_desc")
  ) {
    dataNames.push("bp_desc");
  }
  for (const d of dataNames) {
    const v = spec.data[d] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > MAX_VALUE)
      throw cx.err(
        `data location "${d}": initial value must be an integer 0..${MAX_VALUE}, got ${v}`,
      );
  }
  return dataNames;
}

/** Regions by page, in declaration order, after checking each region on its own. */
function regionsByPage(cx: Compilation, dataNames: string[]): Map<string, string[]> {
  const pageRegions = new Map<string, string[]>();
  const seenRegion = new Set<string>();
  for (const r of cx.spec.regions ?? []) {
    if (!r.name || !/^[A-Za-z_][\w.]*$/.test(r.name))
      throw cx.err(`region name "${r.name}" is not an identifier`);
    if (seenRegion.has(r.name)) throw cx.err(`region "${r.name}" is declared twice`);
    if (dataNames.includes(r.name))
      throw cx.err(`"${r.name}" is both a data location and a region`);
    seenRegion.add(r.name);
    if (!Number.isInteger(r.lines) || r.lines < 1 || r.lines > 16)
      throw cx.err(`region "${r.name}": lines must be 1..16, got ${r.lines}`);
    if (!r.versions || r.versions.length === 0)
      throw cx.err(`region "${r.name}": needs at least one version`);
    if (r.versions.includes("trap"))
      throw cx.err(`region "${r.name}": "trap" is the trap fill, not a program version`);
    const p = r.page ?? r.name;
    if (!pageRegions.has(p)) pageRegions.set(p, []);
    pageRegions.get(p)!.push(r.name);
  }
  for (const ps of cx.spec.pages ?? []) {
    if (!pageRegions.has(ps.name)) throw cx.err(`page "${ps.name}" holds no region`);
  }
  return pageRegions;
}

/**
 * Lays out the pages: each region's slots and cache lines within its page, and the VA slots.
 * Returns the initial content of each page's slots.
 */
function layoutPages(
  cx: Compilation,
  pageRegions: Map<string, string[]>,
  m: MemoryLayout,
): Map<string, (slot: number) => number> {
  const { spec, arch } = cx;
  const regionSpecs = spec.regions ?? [];
  const frameInit = new Map<string, (slot: number) => number>();
  for (const [pi, pname] of [...pageRegions.keys()].entries()) {
    let offset = 0;
    const lineOfSlot: number[] = [];
    let cl = -1;
    const slotInit: number[] = [];
    for (const rn of pageRegions.get(pname)!) {
      const r = regionSpecs.find((x) => x.name === rn)!;
      const startsShared = r.sharesLineWith !== undefined;
      if (startsShared) {
        const prev = m.regions.find((x) => x.name === r.sharesLineWith);
        if (!prev)
          throw cx.err(
            `region "${r.name}": sharesLineWith "${r.sharesLineWith}" must name a region declared before it`,
          );
        if (prev.page !== pi)
          throw cx.err(
            `region "${r.name}" shares a cache line with "${prev.name}", so both must be on one page`,
          );
        if (prev.offset + prev.lines !== offset)
          throw cx.err(
            `region "${r.name}" must directly follow "${prev.name}" on page "${pname}" to share its last line`,
          );
      }
      const vs = r.versions.map((v) => cx.vid(v));
      const init = Array.isArray(r.initial)
        ? r.initial
        : new Array<string>(r.lines).fill(r.initial);
      if (init.length !== r.lines)
        throw cx.err(`region "${r.name}": initial has ${init.length} entries for ${r.lines} lines`);
      for (const v of init) {
        if (v !== "trap" && !r.versions.includes(v))
          throw cx.err(
            `region "${r.name}": initial content "${v}" is not one of its versions (${r.versions.join(", ")}) or "trap"`,
          );
      }
      const insn = new Map<number, string>();
      insn.set(0, arch.trapInsn);
      for (const [v, k] of Object.entries(r.insn ?? {})) {
        if (!r.versions.includes(v))
          throw cx.err(`region "${r.name}": insn given for unknown version "${v}"`);
        insn.set(cx.vid(v), k);
      }
      for (const v of r.registerOnly ?? [])
        if (!r.versions.includes(v))
          throw cx.err(`region "${r.name}": registerOnly names unknown version "${v}"`);
      m.regions.push({
        name: r.name,
        index: m.regions.length,
        page: pi,
        offset,
        lines: r.lines,
        versions: vs,
        insn,
        registerOnly: (r.registerOnly ?? []).map((v) => cx.vid(v)),
        interruptible: r.interruptible === true,
      });
      for (let i = 0; i < r.lines; i++) {
        // A sub-line site's parts share its first part's cache line.
        if (!(i === 0 && startsShared) && !(i > 0 && r.subline)) cl++;
        lineOfSlot.push(cl);
        slotInit.push(cx.vid(init[i]));
        m.vaName.push(`${r.name}+${i}`);
        m.vaPage.push(pi);
        m.vaSlotInPage.push(offset + i);
      }
      offset += r.lines;
    }
    m.pages.push({
      name: pname,
      index: pi,
      slots: offset,
      lineOfSlot,
      cacheLines: cl + 1,
      pteLoc: -1,
      vaBase: m.nVaSlots,
      frames: [],
      user: (spec.pages ?? []).some((x) => x.name === pname && x.user === true),
    });
    m.nVaSlots += offset;
    frameInit.set(pname, (s) => slotInit[s]);
  }
  return frameInit;
}

/** Frames: one per page with the page's name, plus the declared extra frames; their slots. */
function layoutFrames(
  cx: Compilation,
  frameInit: Map<string, (slot: number) => number>,
  m: MemoryLayout,
): void {
  const { pages, regions, frames } = m;
  const frameDecls: { name: string; page: number; init: (s: number) => number }[] = pages.map(
    (p) => ({ name: p.name, page: p.index, init: frameInit.get(p.name)! }),
  );
  for (const f of cx.spec.frames ?? []) {
    const p = pages.find((x) => x.name === f.like);
    if (!p) throw cx.err(`frame "${f.name}": like "${f.like}" is not a page`);
    if (frameDecls.some((x) => x.name === f.name))
      throw cx.err(`frame "${f.name}" is declared twice (pages have a frame of their own name)`);
    const pageRegs = regions.filter((r) => r.page === p.index);
    if (
      f.initial !== "trap" &&
      !pageRegs.some((r) => r.versions.includes(cx.versions.indexOf(f.initial)))
    ) {
      throw cx.err(
        `frame "${f.name}": initial "${f.initial}" is not a version of page "${p.name}" or "trap"`,
      );
    }
    const v = cx.vid(f.initial);
    frameDecls.push({ name: f.name, page: p.index, init: () => v });
  }
  if (frameDecls.length > MAX_FRAMES) throw cx.err(`at most ${MAX_FRAMES} frames are supported`);
  let loc = m.nLoc;
  for (const fd of frameDecls) {
    const p = pages[fd.page];
    const f: FrameLayout = {
      name: fd.name,
      index: frames.length,
      page: fd.page,
      slotLoc: loc,
      clBase: m.nCl,
    };
    frames.push(f);
    p.frames.push(f.index);
    for (let c = 0; c < p.cacheLines; c++) m.codeOfCl.push([]);
    for (let s = 0; s < p.slots; s++) {
      const regionAt = regions.find(
        (r) => r.page === p.index && s >= r.offset && s < r.offset + r.lines,
      )!;
      m.locName.push(
        fd.name === p.name
          ? `${regionAt.name}+${s - regionAt.offset}`
          : `${fd.name}:${regionAt.name}+${s - regionAt.offset}`,
      );
      m.initialMem.push(fd.init(s));
      m.clOfCode.push(m.nCl + p.lineOfSlot[s]);
      m.codeOfCl[m.nCl + p.lineOfSlot[s]].push(loc);
      loc++;
    }
    m.nCl += p.cacheLines;
  }
  m.nCode = loc - m.codeBase;
  m.nLoc = loc;
}

/** One PTE location per page, mapping the page's frame (or the declared one) initially. */
function layoutPtes(cx: Compilation, m: MemoryLayout): void {
  for (const p of m.pages) {
    p.pteLoc = m.nLoc++;
    const ps = (cx.spec.pages ?? []).find((x) => x.name === p.name);
    const perm = ps ? permBits(ps.perm) : PERM_R | PERM_X;
    const frameName = ps && ps.frame !== undefined ? ps.frame : p.name;
    let pte = 0;
    if (frameName !== null && perm !== 0) {
      const f = m.frames.find((x) => x.name === frameName);
      if (!f) throw cx.err(`page "${p.name}": frame "${frameName}" is not declared`);
      if (f.page !== p.index)
        throw cx.err(
          `page "${p.name}": frame "${frameName}" has the layout of page "${m.pages[f.page].name}"`,
        );
      pte = encodePte(f.index, perm);
    }
    m.initialMem.push(pte);
    m.locName.push(`pte(${p.name})`);
  }
  if (m.nLoc > MAX_LOCATIONS)
    throw cx.err(`the scenario needs ${m.nLoc} locations; at most ${MAX_LOCATIONS} are supported`);
}

/** Numbers the scenario's memory (interning the versions its regions and frames hold). */
export function layoutMemory(cx: Compilation): MemoryLayout {
  const dataNames = dataLocations(cx);
  const pageRegions = regionsByPage(cx, dataNames);
  const m: MemoryLayout = {
    dataNames,
    regions: [],
    pages: [],
    frames: [],
    nLoc: dataNames.length,
    codeBase: dataNames.length,
    nCode: 0,
    clOfCode: [],
    codeOfCl: [],
    nCl: 0,
    nVaSlots: 0,
    vaPage: [],
    vaSlotInPage: [],
    locName: [...dataNames],
    vaName: [],
    initialMem: dataNames.map((d) => cx.spec.data[d] ?? 0),
    bpLoc: dataNames.indexOf("bp_desc"),
  };
  const frameInit = layoutPages(cx, pageRegions, m);
  layoutFrames(cx, frameInit, m);
  layoutPtes(cx, m);
  return m;
}

/** Name lookups over a laid-out memory, with the errors a statement gets for a wrong name. */
export class Names {
  private readonly regionByName: Map<string, RegionLayout>;

  constructor(
    private readonly cx: Compilation,
    readonly mem: MemoryLayout,
  ) {
    this.regionByName = new Map(mem.regions.map((r) => [r.name, r]));
  }

  isData(n: string): boolean {
    return this.mem.dataNames.includes(n);
  }

  regionNamed(n: string): RegionLayout | undefined {
    return this.regionByName.get(n);
  }

  dataLoc(n: string, pos?: SourcePos): number {
    const i = this.mem.dataNames.indexOf(n);
    if (i < 0) {
      if (this.regionByName.has(n))
        throw this.cx.err(`"${n}" is a code region, not a data location`, pos);
      throw this.cx.err(`unknown data location "${n}" (declare it in the initial state)`, pos);
    }
    return i;
  }

  region(n: string | undefined, what: string, pos?: SourcePos): RegionLayout {
    if (n === undefined) throw this.cx.err(`${what} needs a code region`, pos);
    const r = this.regionByName.get(n);
    if (!r) {
      if (this.isData(n)) throw this.cx.err(`${what}: "${n}" is a data location, not code`, pos);
      throw this.cx.err(`${what}: unknown code region "${n}"`, pos);
    }
    return r;
  }

  /** The version names a region declares. */
  versionsOf(r: RegionLayout): string[] {
    return (this.cx.spec.regions ?? []).find((x) => x.name === r.name)!.versions;
  }

  /**
   * The frame `name` for a statement on page `page` (`owner` starts the error); `layoutOf`
   * says the page in the mismatch error ("of page "f"" or "this page's").
   */
  frame(
    name: string,
    page: PageLayout,
    owner: string,
    pos: SourcePos | undefined,
    layoutOf = `the layout of page "${page.name}"`,
  ): FrameLayout {
    const f = this.mem.frames.find((x) => x.name === name);
    if (!f) throw this.cx.err(`${owner}: unknown frame "${name}"`, pos);
    if (f.page !== page.index)
      throw this.cx.err(`${owner}: frame "${name}" does not have ${layoutOf}`, pos);
    return f;
  }

  /** The location of the text_poke_bp descriptor (arch/x86/kernel/alternative.c bp_desc). */
  bpLoc(): number {
    if (this.mem.bpLoc < 0) throw this.cx.err("internal: bp_desc was not reserved");
    return this.mem.bpLoc;
  }
}
