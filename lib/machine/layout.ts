/**
 * Compiles a ScenarioSpec for one architecture into the machine's layout: numbered locations,
 * lines, pages, frames, and each CPU's program as primitive steps. Every error names the thing
 * that is wrong and where.
 */
import type { ArchVariant, Effect, MacroStep } from "../arch/types";
import { architectures, getArch } from "../arch";
import { ScenarioError, type SourcePos } from "../model";
import type { Alias, Operand, Perm, ScenarioSpec } from "../scenario/spec";

export const NONE = 255;
/** A fetch fault on a not-present translation (pipeline entry). */
export const FAULT = 254;
/** A fetch fault on a present translation without execute permission. */
export const FAULT_PROT = 253;
/** An arm64 fetch of a concurrently modified, non-CMODX-safe instruction (pipeline entry). */
export const UNPRED = 252;
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;

export function permBits(p: Perm): number {
  return (
    (p.includes("R") ? PERM_R : 0) | (p.includes("W") ? PERM_W : 0) | (p.includes("X") ? PERM_X : 0)
  );
}
export function permText(bits: number): string {
  return (
    (bits & PERM_R ? "R" : "") + (bits & PERM_W ? "W" : "") + (bits & PERM_X ? "X" : "") || "-"
  );
}
/** PTE encoding: 0 = not present; else 1 + frame*8 + permission bits. */
export function encodePte(frame: number, perm: number): number {
  return perm === 0 ? 0 : 1 + frame * 8 + perm;
}
export function ptePerm(pte: number): number {
  return pte === 0 ? 0 : (pte - 1) & 7;
}
export function pteFrame(pte: number): number {
  return (pte - 1) >> 3;
}

/** Primitive program steps. */
export type Step =
  | { k: "store"; loc: number; value: number; release: boolean; vaSlot: number; text: string }
  | { k: "load"; reg: number; loc: number; acquire: boolean; text: string }
  | { k: "await"; loc: number; value: number; text: string }
  | {
      k: "effect";
      effect: Effect;
      insn: string;
      region: number;
      line: number;
      frame: number;
      text: string;
      sync: boolean;
    }
  | { k: "ipi-send"; handler: IpiHandler; text: string }
  | { k: "ipi-local"; handler: IpiHandler; text: string }
  | { k: "ipi-wait"; text: string }
  | { k: "stop-send"; handler: IpiHandler; text: string }
  | { k: "stop-arrived"; text: string }
  | { k: "stop-release"; text: string }
  | { k: "call"; reg: number; region: number; text: string }
  | { k: "interrupt"; text: string }
  // Instruction level (values in registers: see Layout.symbols).
  | { k: "mov"; dst: number; src: number; value: number; text: string }
  | { k: "alu"; fn: AluFn; dst: number; a: number; b: number; value: number; text: string }
  | { k: "flags"; fn: "cmp" | "tst"; a: number; b: number; value: number; text: string }
  | { k: "cset"; dst: number; cond: string; text: string }
  | { k: "ldr"; dst: number; addr: number; acquire: boolean; text: string }
  | { k: "str"; src: number; addr: number; release: boolean; text: string }
  /** Jump to target: always, when reg is zero/non-zero (cbz/cbnz), or on a flags condition. */
  | {
      k: "jump";
      target: number;
      when: "always" | "cbz" | "cbnz" | string;
      reg: number;
      link: number;
      linkValue: number;
      text: string;
    }
  | { k: "br"; reg: number; link: number; linkValue: number; text: string }
  | { k: "exec"; region: number; line: number; dispatch: number[]; text: string }
  | { k: "effect-reg"; effect: Effect; insn: string; addr: number; text: string };

export type AluFn = "add" | "sub" | "eor" | "and" | "orr";

/** Register values below this are integers; the others index Layout.symbols. */
export const SYMBOL_BASE = 100;

export type ValueSymbol =
  | { kind: "data"; name: string; loc: number }
  | { kind: "code"; name: string; region: number; line: number }
  | { kind: "insn"; name: string; version: number }
  | { kind: "label"; name: string; cpu: number; pc: number };

export type IpiHandler =
  "sync_core" | "none" | "fence.i" | "tlb_flush" | "stop_isb" | "stop_fence.i";
export const IPI_HANDLERS: IpiHandler[] = [
  "sync_core",
  "none",
  "fence.i",
  "tlb_flush",
  "stop_isb",
  "stop_fence.i",
];

export interface RegionLayout {
  name: string;
  index: number;
  page: number;
  /** First slot of the region within its page. */
  offset: number;
  lines: number;
  /** Version ids, oldest first; the last is the intended one. */
  versions: number[];
  /** Instruction kind of each version id (CMODX), "code" by default. */
  insn: Map<number, string>;
  /** Version ids that act on registers only (RegionSpec.registerOnly). */
  registerOnly: number[];
  /** Interrupts and IPIs may be taken between its lines (RegionSpec.interruptible). */
  interruptible: boolean;
}

export interface PageLayout {
  name: string;
  index: number;
  slots: number;
  /** Cache line (within the page) of each slot. */
  lineOfSlot: number[];
  cacheLines: number;
  /** Location of the PTE. */
  pteLoc: number;
  /** First VA slot of this page in the global VA slot numbering. */
  vaBase: number;
  /** Frames with this page's layout. */
  frames: number[];
  /** A user mapping (faults go through handle_mm_fault()). */
  user: boolean;
}

export interface FrameLayout {
  name: string;
  index: number;
  page: number;
  /** Location of slot 0; slots are consecutive locations. */
  slotLoc: number;
  /** Global cache line id of the frame's line 0. */
  clBase: number;
}

export interface CpuLayout {
  steps: Step[];
  /** Regions each step index may still call (liveness, for the dead-state reduction). */
  liveRegions: number[][];
  speculate: number[];
  interrupts: number;
  regs: string[];
  regKind: ("data" | "call")[];
  /** Index of the flags register (-1 if unused) and of the hidden fault/unpredictable marks. */
  flagsReg: number;
  faultReg: number;
  unpredReg: number;
}

export interface Layout {
  spec: ScenarioSpec;
  arch: ArchVariant;
  dataNames: string[];
  versions: string[];
  trapVersion: number;
  regions: RegionLayout[];
  pages: PageLayout[];
  frames: FrameLayout[];
  cpus: CpuLayout[];
  /** Number of memory locations: data, then frame slots, then PTEs. */
  nLoc: number;
  /** First location of code slots and count (code slots are physical lines' contents). */
  codeBase: number;
  nCode: number;
  /** Global cache line of each code slot (index by loc - codeBase). */
  clOfCode: number[];
  /** Code slots of each global cache line. */
  codeOfCl: number[][];
  nCl: number;
  nVaSlots: number;
  /** For each VA slot: page index and slot within page. */
  vaPage: number[];
  vaSlotInPage: number[];
  /** Names for display. */
  locName: string[];
  vaName: string[];
  /** Maximum store-buffer entries any CPU may need. */
  sbMax: number;
  initialMem: number[];
  /** Values a register or data location may hold besides integers 0..99 (SYMBOL_BASE + index). */
  symbols: ValueSymbol[];
  /** Symbol of each version (instruction value), by version id. */
  versionSymbol: number[];
  /** Location of the text_poke_bp descriptor, or -1. */
  bpLoc: number;
}

const MAX_FRAMES = 31;
/** CPUs a scenario may have. */
export const MAX_CPUS = 8;
/** Registers one CPU may use. */
export const MAX_REGISTERS = 16;
/** Integers a data location or register holds are 0..MAX_VALUE (larger codes are symbols). */
export const MAX_VALUE = 99;

/**
 * Check a scenario and lay it out for the machine: interns versions, places code regions, pages
 * and frames, and numbers registers and data locations.
 * @throws {ScenarioError} naming the scenario (and the file:line:col when the spec came from a
 * file) for an unknown architecture, no CPU or more than 8, or a region, page, frame or operand
 * the scenario does not define.
 */
export function compile(spec: ScenarioSpec): Layout {
  const name = spec.name || "scenario";
  const err = (msg: string, pos?: SourcePos) => new ScenarioError(msg, name, pos);
  let arch: ArchVariant;
  try {
    arch = getArch(spec.arch);
  } catch (e) {
    throw err((e as Error).message);
  }
  if (!spec.cpus || spec.cpus.length === 0) throw err("a scenario needs at least one CPU");
  if (spec.cpus.length > MAX_CPUS)
    throw err(`at most ${MAX_CPUS} CPUs are supported, got ${spec.cpus.length}`);

  // Versions: interned names; "trap" always present.
  const versions: string[] = ["trap"];
  const vid = (v: string) => {
    let i = versions.indexOf(v);
    if (i < 0) {
      i = versions.length;
      versions.push(v);
    }
    return i;
  };

  const dataNames = Object.keys(spec.data ?? {});
  // text_poke_bp publishes a descriptor that the int3 handler reads: reserve its location.
  const usesBp = (name: string, depth = 0): boolean => {
    const m = arch.macros[name as keyof typeof arch.macros];
    if (!m || depth > 8) return false;
    const inSteps = (xs: MacroStep[]): boolean =>
      xs.some(
        (x) =>
          "bp" in x ||
          ("macro" in x && usesBp(x.macro, depth + 1)) ||
          ("stop_machine" in x && inSteps(x.patch)),
      );
    return inSteps(m.steps);
  };
  if (
    spec.cpus?.some((c) => c.program?.some((op) => op.op === "macro" && usesBp(op.name))) &&
    !dataNames.includes("bp_desc")
  ) {
    dataNames.push("bp_desc");
  }
  for (const d of dataNames) {
    const v = spec.data[d] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > MAX_VALUE)
      throw err(`data location "${d}": initial value must be an integer 0..${MAX_VALUE}, got ${v}`);
  }

  // Pages and regions.
  const regionSpecs = spec.regions ?? [];
  const pageNames: string[] = [];
  const pageRegions = new Map<string, string[]>();
  const seenRegion = new Set<string>();
  for (const r of regionSpecs) {
    if (!r.name || !/^[A-Za-z_][\w.]*$/.test(r.name))
      throw err(`region name "${r.name}" is not an identifier`);
    if (seenRegion.has(r.name)) throw err(`region "${r.name}" is declared twice`);
    if (dataNames.includes(r.name)) throw err(`"${r.name}" is both a data location and a region`);
    seenRegion.add(r.name);
    if (!Number.isInteger(r.lines) || r.lines < 1 || r.lines > 16)
      throw err(`region "${r.name}": lines must be 1..16, got ${r.lines}`);
    if (!r.versions || r.versions.length === 0)
      throw err(`region "${r.name}": needs at least one version`);
    if (r.versions.includes("trap"))
      throw err(`region "${r.name}": "trap" is the trap fill, not a program version`);
    const p = r.page ?? r.name;
    if (!pageRegions.has(p)) {
      pageRegions.set(p, []);
      pageNames.push(p);
    }
    pageRegions.get(p)!.push(r.name);
  }
  for (const ps of spec.pages ?? []) {
    if (!pageRegions.has(ps.name)) throw err(`page "${ps.name}" holds no region`);
  }

  const regions: RegionLayout[] = [];
  const pages: PageLayout[] = [];
  const frames: FrameLayout[] = [];
  let nVaSlots = 0;
  let loc = dataNames.length;
  const codeBase = loc;
  const initialMem: number[] = dataNames.map((d) => spec.data[d] ?? 0);
  const locName: string[] = [...dataNames];
  const vaName: string[] = [];
  const vaPage: number[] = [];
  const vaSlotInPage: number[] = [];
  const clOfCode: number[] = [];
  const codeOfCl: number[][] = [];
  const frameInit = new Map<string, (slot: number) => number>();

  for (const [pi, pname] of pageNames.entries()) {
    const names = pageRegions.get(pname)!;
    let offset = 0;
    const lineOfSlot: number[] = [];
    let cl = -1;
    const slotInit: number[] = [];
    for (const rn of names) {
      const r = regionSpecs.find((x) => x.name === rn)!;
      const startsShared = r.sharesLineWith !== undefined;
      if (startsShared) {
        const prev = regions.find((x) => x.name === r.sharesLineWith);
        if (!prev)
          throw err(
            `region "${r.name}": sharesLineWith "${r.sharesLineWith}" must name a region declared before it`,
          );
        if (prev.page !== pi)
          throw err(
            `region "${r.name}" shares a cache line with "${prev.name}", so both must be on one page`,
          );
        if (prev.offset + prev.lines !== offset)
          throw err(
            `region "${r.name}" must directly follow "${prev.name}" on page "${pname}" to share its last line`,
          );
      }
      const vs = r.versions.map(vid);
      const init = Array.isArray(r.initial)
        ? r.initial
        : new Array<string>(r.lines).fill(r.initial);
      if (init.length !== r.lines)
        throw err(`region "${r.name}": initial has ${init.length} entries for ${r.lines} lines`);
      for (const v of init) {
        if (v !== "trap" && !r.versions.includes(v))
          throw err(
            `region "${r.name}": initial content "${v}" is not one of its versions (${r.versions.join(", ")}) or "trap"`,
          );
      }
      const insn = new Map<number, string>();
      insn.set(0, arch.trapInsn === "BRK" ? "BRK" : arch.trapInsn);
      for (const [v, k] of Object.entries(r.insn ?? {})) {
        if (!r.versions.includes(v))
          throw err(`region "${r.name}": insn given for unknown version "${v}"`);
        insn.set(vid(v), k);
      }
      for (const v of r.registerOnly ?? [])
        if (!r.versions.includes(v))
          throw err(`region "${r.name}": registerOnly names unknown version "${v}"`);
      regions.push({
        name: r.name,
        index: regions.length,
        page: pi,
        offset,
        lines: r.lines,
        versions: vs,
        insn,
        registerOnly: (r.registerOnly ?? []).map(vid),
        interruptible: r.interruptible === true,
      });
      for (let i = 0; i < r.lines; i++) {
        // A sub-line site's parts share its first part's cache line.
        if (!(i === 0 && startsShared) && !(i > 0 && r.subline)) cl++;
        lineOfSlot.push(cl);
        slotInit.push(vid(init[i]));
        vaName.push(`${r.name}+${i}`);
        vaPage.push(pi);
        vaSlotInPage.push(offset + i);
      }
      offset += r.lines;
    }
    pages.push({
      name: pname,
      index: pi,
      slots: offset,
      lineOfSlot,
      cacheLines: cl + 1,
      pteLoc: -1,
      vaBase: nVaSlots,
      frames: [],
      user: (spec.pages ?? []).some((x) => x.name === pname && x.user === true),
    });
    nVaSlots += offset;
    frameInit.set(pname, (s) => slotInit[s]);
  }

  // Frames: one per page with the page's name, plus the declared extra frames.
  const frameDecls: { name: string; page: number; init: (s: number) => number }[] = pages.map(
    (p) => ({
      name: p.name,
      page: p.index,
      init: frameInit.get(p.name)!,
    }),
  );
  for (const f of spec.frames ?? []) {
    const p = pages.find((x) => x.name === f.like);
    if (!p) throw err(`frame "${f.name}": like "${f.like}" is not a page`);
    if (frameDecls.some((x) => x.name === f.name))
      throw err(`frame "${f.name}" is declared twice (pages have a frame of their own name)`);
    const pageRegs = regions.filter((r) => r.page === p.index);
    if (
      f.initial !== "trap" &&
      !pageRegs.some((r) => r.versions.includes(versions.indexOf(f.initial)))
    ) {
      throw err(
        `frame "${f.name}": initial "${f.initial}" is not a version of page "${p.name}" or "trap"`,
      );
    }
    const v = vid(f.initial);
    frameDecls.push({ name: f.name, page: p.index, init: () => v });
  }
  if (frameDecls.length > MAX_FRAMES) throw err(`at most ${MAX_FRAMES} frames are supported`);
  let clBase = 0;
  for (const fd of frameDecls) {
    const p = pages[fd.page];
    const f: FrameLayout = {
      name: fd.name,
      index: frames.length,
      page: fd.page,
      slotLoc: loc,
      clBase,
    };
    frames.push(f);
    p.frames.push(f.index);
    for (let c = 0; c < p.cacheLines; c++) codeOfCl.push([]);
    for (let s = 0; s < p.slots; s++) {
      const regionAt = regions.find(
        (r) => r.page === p.index && s >= r.offset && s < r.offset + r.lines,
      )!;
      locName.push(
        fd.name === p.name
          ? `${regionAt.name}+${s - regionAt.offset}`
          : `${fd.name}:${regionAt.name}+${s - regionAt.offset}`,
      );
      initialMem.push(fd.init(s));
      clOfCode.push(clBase + p.lineOfSlot[s]);
      codeOfCl[clBase + p.lineOfSlot[s]].push(loc);
      loc++;
    }
    clBase += p.cacheLines;
  }
  const nCode = loc - codeBase;

  // PTEs.
  for (const p of pages) {
    p.pteLoc = loc++;
    const ps = (spec.pages ?? []).find((x) => x.name === p.name);
    const perm = ps ? permBits(ps.perm) : PERM_R | PERM_X;
    const frameName = ps && ps.frame !== undefined ? ps.frame : p.name;
    let pte = 0;
    if (frameName !== null && perm !== 0) {
      const f = frames.find((x) => x.name === frameName);
      if (!f) throw err(`page "${p.name}": frame "${frameName}" is not declared`);
      if (f.page !== p.index)
        throw err(
          `page "${p.name}": frame "${frameName}" has the layout of page "${pages[f.page].name}"`,
        );
      pte = encodePte(f.index, perm);
    }
    initialMem.push(pte);
    locName.push(`pte(${p.name})`);
  }
  if (loc > 250) throw err(`the scenario needs ${loc} locations; at most 250 are supported`);

  const regionByName = new Map(regions.map((r) => [r.name, r]));
  const dataLoc = (n: string, pos?: SourcePos) => {
    const i = dataNames.indexOf(n);
    if (i < 0) {
      if (regionByName.has(n)) throw err(`"${n}" is a code region, not a data location`, pos);
      throw err(`unknown data location "${n}" (declare it in the initial state)`, pos);
    }
    return i;
  };
  const region = (n: string | undefined, what: string, pos?: SourcePos) => {
    if (n === undefined) throw err(`${what} needs a code region`, pos);
    const r = regionByName.get(n);
    if (!r) {
      if (dataNames.includes(n)) throw err(`${what}: "${n}" is a data location, not code`, pos);
      throw err(`${what}: unknown code region "${n}"`, pos);
    }
    return r;
  };

  // Symbols: addresses of data locations and code lines, instruction values, labels.
  const symbols: ValueSymbol[] = [];
  const symbolIndex = new Map<string, number>();
  const addSymbol = (key: string, sym: ValueSymbol) => {
    let i = symbolIndex.get(key);
    if (i === undefined) {
      i = symbols.length;
      symbols.push(sym);
      symbolIndex.set(key, i);
    }
    return SYMBOL_BASE + i;
  };
  dataNames.forEach((d, i) => addSymbol(`data:${d}`, { kind: "data", name: d, loc: i }));
  for (const r of regions)
    for (let l = 0; l < r.lines; l++)
      addSymbol(`code:${r.name}+${l}`, {
        kind: "code",
        name: r.lines === 1 ? r.name : `${r.name}+${l}`,
        region: r.index,
        line: l,
      });
  // Versions first seen in programs are interned as they compile; symbols for all of them follow.
  const versionSymbolOf = (v: number) =>
    addSymbol(`insn:${versions[v]}`, { kind: "insn", name: versions[v], version: v });
  for (let v = 0; v < versions.length; v++) versionSymbolOf(v);

  // Hidden data location of the text_poke_bp descriptor (arch/x86/kernel/alternative.c bp_desc).
  const bpLocIndex = dataNames.indexOf("bp_desc");
  const bpLoc = () => {
    if (bpLocIndex < 0) throw err("internal: bp_desc was not reserved");
    return bpLocIndex;
  };

  const writeSteps = (
    r: RegionLayout,
    l: number,
    version: string,
    via: Alias,
    frameName: string | undefined,
    pos: SourcePos | undefined,
    what: string,
  ): Step[] => {
    const rs = regionSpecs.find((x) => x.name === r.name)!;
    if (version !== "trap" && !rs.versions.includes(version))
      throw err(
        `${what} ${r.name}: "${version}" is not one of its versions (${rs.versions.join(", ")}) or "trap"`,
        pos,
      );
    const p = pages[r.page];
    let frame = frames[p.frames[0]];
    if (frameName !== undefined) {
      const f = frames.find((x) => x.name === frameName);
      if (!f) throw err(`${what} ${r.name}: unknown frame "${frameName}"`, pos);
      if (f.page !== p.index)
        throw err(
          `${what} ${r.name}: frame "${frameName}" does not have the layout of page "${p.name}"`,
          pos,
        );
      frame = f;
    }
    if (via === "text" && frameName !== undefined)
      throw err(
        `${what} ${r.name}: a write through the text alias goes to the mapped frame; drop "frame"`,
        pos,
      );
    return [
      {
        k: "store",
        loc: frame.slotLoc + r.offset + l,
        value: vid(version),
        release: false,
        vaSlot: via === "text" ? p.vaBase + r.offset + l : -1,
        text: `write ${r.name}+${l} := ${version} via ${via}${frame.name !== p.name ? ` (frame ${frame.name})` : ""}`,
      },
    ];
  };

  const pteStep = (
    page: string,
    perm: Perm,
    frameName: string | undefined,
    pos: SourcePos | undefined,
    what = "set_pte",
  ): Step => {
    const p = pages.find((x) => x.name === page);
    if (!p) throw err(`${what}: unknown page "${page}"`, pos);
    const bits = permBits(perm);
    let pte = 0;
    if (bits !== 0) {
      const fname = frameName ?? p.name;
      const f = frames.find((x) => x.name === fname);
      if (!f) throw err(`${what} ${p.name}: unknown frame "${fname}"`, pos);
      if (f.page !== p.index)
        throw err(`${what} ${p.name}: frame "${fname}" does not have this page's layout`, pos);
      pte = encodePte(f.index, bits);
    }
    return {
      k: "store",
      loc: p.pteLoc,
      value: pte,
      release: false,
      vaSlot: -1,
      text: `set_pte(${p.name}, ${perm || "none"}${frameName ? `, ${frameName}` : ""})`,
    };
  };

  let sbMax = 1;
  const cpus: CpuLayout[] = spec.cpus.map((cs, ci) => {
    const regs: string[] = [];
    const regKind: ("data" | "call")[] = [];
    const reg = (n: string, kind: "data" | "call", pos?: SourcePos) => {
      if (!/^[A-Za-z_]\w*$/.test(n))
        throw err(`P${ci}: register name "${n}" is not an identifier`, pos);
      let i = regs.indexOf(n);
      if (i < 0) {
        i = regs.length;
        regs.push(n);
        regKind.push(kind);
      } else if (regKind[i] !== kind)
        throw err(`P${ci}: register ${n} holds both data and a call result`, pos);
      return i;
    };
    const steps: Step[] = [];
    const insnStep = (
      name: string,
      pos: SourcePos | undefined,
      regionName?: string,
      line?: number,
      frameName?: string,
    ): Step[] => {
      const rule = arch.instructions[name];
      if (!rule) {
        const owner = Object.values(architectures).find((a) => a.instructions[name]);
        throw err(
          `${name} is not an instruction of ${arch.name}` +
            (owner ? ` (it is ${owner.family}'s)` : ""),
          pos,
        );
      }
      const perLine = rule.effect === "clean-to-pou" || rule.effect === "icache-invalidate-line";
      if (!perLine) {
        if (regionName !== undefined) throw err(`${name} takes no address`, pos);
        return [
          {
            k: "effect",
            effect: rule.effect,
            insn: name,
            region: -1,
            line: -1,
            frame: -1,
            text: name,
            sync: isSync(rule.effect),
          },
        ];
      }
      const r = region(regionName, name, pos);
      if (line !== undefined && (!Number.isInteger(line) || line < 0 || line >= r.lines)) {
        throw err(
          `${name} ${r.name}+${line}: line out of range (region has ${r.lines} lines)`,
          pos,
        );
      }
      let frame = -1;
      if (frameName !== undefined) {
        const f = frames.find((x) => x.name === frameName);
        if (!f) throw err(`${name} ${r.name}: unknown frame "${frameName}"`, pos);
        if (f.page !== r.page)
          throw err(
            `${name} ${r.name}: frame "${frameName}" does not have the layout of page "${pages[r.page].name}"`,
            pos,
          );
        frame = f.index;
      }
      const ls = line === undefined ? [...Array(r.lines).keys()] : [line];
      const via = frame >= 0 ? ` (frame ${frameName})` : "";
      return ls.map((l) => ({
        k: "effect",
        effect: rule.effect,
        insn: name,
        region: r.index,
        line: l,
        frame,
        text: `${name} ${r.name}+${l}${via}`,
        sync: true,
      }));
    };
    const macroSteps = (
      m: MacroStep,
      mname: string,
      pos: SourcePos | undefined,
      regionName?: string,
      frameName?: string,
      version?: string,
      depth = 0,
    ): Step[] => {
      if (depth > 8) throw err(`${mname}(): routines nest too deeply`, pos);
      if ("ipi" in m) {
        const s: Step[] = [
          { k: "ipi-send", handler: m.ipi, text: `${mname}: IPI (${m.ipi}) to other CPUs` },
        ];
        if (m.self)
          s.push({ k: "ipi-local", handler: m.ipi, text: `${mname}: ${m.ipi} on this CPU` });
        s.push({ k: "ipi-wait", text: `${mname}: wait for IPIs` });
        return s;
      }
      if ("insn" in m) {
        if (m.perLine) return insnStep(m.insn, pos, regionName, undefined, frameName);
        return insnStep(m.insn, pos);
      }
      if ("macro" in m) {
        const inner = arch.macros[m.macro];
        if (!inner)
          throw err(`${m.macro}() is not available on ${arch.name} (used by ${mname}())`, pos);
        return inner.steps.flatMap((x) =>
          macroSteps(x, m.macro, pos, regionName, frameName, version, depth + 1),
        );
      }
      const r = region(regionName, `${mname}()`, pos);
      if ("write" in m) {
        const v = m.write === "trap" ? "trap" : version;
        if (v === undefined)
          throw err(`${mname}(${r.name}, VERSION): the version to write is missing`, pos);
        const lines = m.lines ?? "all";
        const ls = [...Array(r.lines).keys()].filter(
          (l) => lines === "all" || (lines === "first" ? l === 0 : l > 0),
        );
        return ls.flatMap((l) => writeSteps(r, l, v, m.via, frameName, pos, mname));
      }
      if ("pte" in m) return [pteStep(pages[r.page].name, m.pte, frameName, pos, mname)];
      if ("bp" in m) {
        return [
          {
            k: "store",
            loc: bpLoc(),
            value: m.bp === "set" ? r.index + 1 : 0,
            release: false,
            vaSlot: -1,
            text: `${mname}: bp_desc = ${m.bp === "set" ? r.name : "NULL"}`,
          },
        ];
      }
      return [
        {
          k: "stop-send",
          handler: m.stop_machine === "isb" ? "stop_isb" : "stop_fence.i",
          text: `${mname}: stop_machine() IPI to other CPUs`,
        },
        { k: "stop-arrived", text: `${mname}: wait until every CPU spins in stop_machine()` },
        ...m.patch.flatMap((x) =>
          macroSteps(x, mname, pos, regionName, frameName, version, depth + 1),
        ),
        { k: "stop-release", text: `${mname}: release the other CPUs` },
        { k: "ipi-wait", text: `${mname}: wait for stop_machine() to end` },
      ];
    };
    let stores = 0;
    const labels = new Map<string, number>();
    const fixups: { step: number; label: string; pos?: SourcePos }[] = [];
    const execFixups: { step: number; dispatch: Record<string, string>; pos?: SourcePos }[] = [];
    const labelRefs: { sym: number; label: string; pos?: SourcePos }[] = [];
    let flagsUsed = false;
    const checkCond = (c: string, pos?: SourcePos) => {
      if (!CONDS.includes(c.toUpperCase()))
        throw err(`P${ci}: unknown condition "${c}" (known: ${CONDS.join(", ")})`, pos);
    };
    /** [register index or -1, encoded value]. */
    const operand = (o: Operand, pos?: SourcePos): [number, number] => {
      if ("reg" in o) return [reg(o.reg, "data", pos), 0];
      if ("imm" in o) {
        checkValue(o.imm, "immediate", pos);
        return [-1, o.imm];
      }
      if ("addr" in o) {
        if (dataNames.includes(o.addr))
          return [-1, SYMBOL_BASE + symbolIndex.get(`data:${o.addr}`)!];
        const t = /^([A-Za-z_][\w.]*)(?:\+(\d+))?$/.exec(o.addr);
        const r = t ? regionByName.get(t[1]) : undefined;
        if (!t || !r)
          throw err(`P${ci}: "${o.addr}" is neither a data location nor a code region`, pos);
        const line = t[2] === undefined ? 0 : Number(t[2]);
        if (line >= r.lines)
          throw err(`P${ci}: ${o.addr}: line out of range (region has ${r.lines} lines)`, pos);
        return [-1, SYMBOL_BASE + symbolIndex.get(`code:${r.name}+${line}`)!];
      }
      if ("insn" in o) {
        const v = versions.indexOf(o.insn);
        if (v < 0)
          throw err(
            `P${ci}: instruction value "${o.insn}" is not a version of any code region`,
            pos,
          );
        return [-1, versionSymbolOf(v)];
      }
      const sym = addSymbol(`label:${ci}:${o.label}`, {
        kind: "label",
        name: `P${ci}:${o.label}`,
        cpu: ci,
        pc: -1,
      });
      labelRefs.push({ sym, label: o.label, pos });
      return [-1, sym];
    };
    for (const op of cs.program ?? []) {
      const pos = op.pos;
      switch (op.op) {
        case "store": {
          checkValue(op.value, `store to ${op.loc}`, pos);
          steps.push({
            k: "store",
            loc: dataLoc(op.loc, pos),
            value: op.value,
            release: !!op.release,
            vaSlot: -1,
            text: `${op.release ? "smp_store_release" : "WRITE_ONCE"}(${op.loc}, ${op.value})`,
          });
          stores++;
          break;
        }
        case "load":
          steps.push({
            k: "load",
            reg: reg(op.reg, "data", pos),
            loc: dataLoc(op.loc, pos),
            acquire: !!op.acquire,
            text: `${op.reg} = ${op.acquire ? "smp_load_acquire" : "READ_ONCE"}(${op.loc})`,
          });
          break;
        case "await":
          checkValue(op.value, `wait on ${op.loc}`, pos);
          steps.push({
            k: "await",
            loc: dataLoc(op.loc, pos),
            value: op.value,
            text: `wait until ${op.acquire ? "smp_load_acquire" : "READ_ONCE"}(${op.loc}) == ${op.value}`,
          });
          break;
        case "write": {
          const r = region(op.region, "write", pos);
          if (
            op.line !== undefined &&
            (!Number.isInteger(op.line) || op.line < 0 || op.line >= r.lines)
          )
            throw err(
              `write ${r.name}+${op.line}: line out of range (region has ${r.lines} lines)`,
              pos,
            );
          const ls = op.line === undefined ? [...Array(r.lines).keys()] : [op.line];
          for (const l of ls)
            steps.push(...writeSteps(r, l, op.version, op.via, op.frame, pos, "write"));
          break;
        }
        case "insn":
          steps.push(...insnStep(op.name, pos, op.region, op.line, op.frame));
          break;
        case "macro": {
          const m = arch.macros[op.name as keyof typeof arch.macros];
          if (!m) throw err(`${op.name}() is not available on ${arch.name}`, pos);
          if (op.region !== undefined) region(op.region, `${op.name}()`, pos);
          for (const ms of m.steps)
            steps.push(...macroSteps(ms, op.name, pos, op.region, op.frame, op.version));
          break;
        }
        case "pte":
          steps.push(pteStep(op.page, op.perm, op.frame, pos));
          break;
        case "call": {
          const r = region(op.region, "call", pos);
          steps.push({
            k: "call",
            reg: reg(op.reg, "call", pos),
            region: r.index,
            text: `${op.reg} = call ${r.name}`,
          });
          break;
        }
        case "interrupt":
          steps.push({ k: "interrupt", text: "interrupt" });
          break;
        case "label":
          if (labels.has(op.name)) throw err(`P${ci}: label ${op.name} is defined twice`, pos);
          labels.set(op.name, steps.length);
          break;
        case "mov": {
          const [src, value] = operand(op.src, pos);
          steps.push({
            k: "mov",
            dst: reg(op.dst, "data", pos),
            src,
            value,
            text: `MOV ${op.dst}, ${operandText(op.src)}`,
          });
          break;
        }
        case "alu": {
          const [b, value] = operand(op.b, pos);
          steps.push({
            k: "alu",
            fn: op.fn,
            dst: reg(op.dst, "data", pos),
            a: reg(op.a, "data", pos),
            b,
            value,
            text: `${op.fn.toUpperCase()} ${op.dst}, ${op.a}, ${operandText(op.b)}`,
          });
          break;
        }
        case "cmp":
        case "tst": {
          const [b, value] = operand(op.b, pos);
          steps.push({
            k: "flags",
            fn: op.op,
            a: reg(op.a, "data", pos),
            b,
            value,
            text: `${op.op.toUpperCase()} ${op.a}, ${operandText(op.b)}`,
          });
          flagsUsed = true;
          break;
        }
        case "cset":
          checkCond(op.cond, pos);
          steps.push({
            k: "cset",
            dst: reg(op.dst, "data", pos),
            cond: op.cond.toUpperCase(),
            text: `CSET ${op.dst}, ${op.cond}`,
          });
          flagsUsed = true;
          break;
        case "ldr":
          steps.push({
            k: "ldr",
            dst: reg(op.dst, "data", pos),
            addr: reg(op.addr, "data", pos),
            acquire: !!op.acquire,
            text: `${op.acquire ? "LDAR" : "LDR"} ${op.dst}, [${op.addr}]`,
          });
          break;
        case "str":
          steps.push({
            k: "str",
            src: reg(op.src, "data", pos),
            addr: reg(op.addr, "data", pos),
            release: !!op.release,
            text: `${op.release ? "STLR" : "STR"} ${op.src}, [${op.addr}]`,
          });
          stores++;
          break;
        case "b":
          steps.push({
            k: "jump",
            target: -1,
            when: "always",
            reg: -1,
            link: -1,
            linkValue: 0,
            text: `B ${op.target}`,
          });
          fixups.push({ step: steps.length - 1, label: op.target, pos });
          break;
        case "cbz":
        case "cbnz":
          steps.push({
            k: "jump",
            target: -1,
            when: op.op,
            reg: reg(op.reg, "data", pos),
            link: -1,
            linkValue: 0,
            text: `${op.op.toUpperCase()} ${op.reg}, ${op.target}`,
          });
          fixups.push({ step: steps.length - 1, label: op.target, pos });
          break;
        case "bcond":
          checkCond(op.cond, pos);
          flagsUsed = true;
          steps.push({
            k: "jump",
            target: -1,
            when: op.cond.toUpperCase(),
            reg: -1,
            link: -1,
            linkValue: 0,
            text: `B.${op.cond} ${op.target}`,
          });
          fixups.push({ step: steps.length - 1, label: op.target, pos });
          break;
        case "bl": {
          const ret = addSymbol(`label:${ci}:@${steps.length + 1}`, {
            kind: "label",
            name: `P${ci}:@${steps.length + 1}`,
            cpu: ci,
            pc: steps.length + 1,
          });
          steps.push({
            k: "jump",
            target: -1,
            when: "always",
            reg: -1,
            link: reg(op.link, "data", pos),
            linkValue: ret,
            text: `BL ${op.target}`,
          });
          fixups.push({ step: steps.length - 1, label: op.target, pos });
          break;
        }
        case "br": {
          const link = op.link === undefined ? -1 : reg(op.link, "data", pos);
          const ret =
            link < 0
              ? 0
              : addSymbol(`label:${ci}:@${steps.length + 1}`, {
                  kind: "label",
                  name: `P${ci}:@${steps.length + 1}`,
                  cpu: ci,
                  pc: steps.length + 1,
                });
          steps.push({
            k: "br",
            reg: reg(op.reg, "data", pos),
            link,
            linkValue: ret,
            text: link < 0 ? `BR ${op.reg}` : `BLR ${op.reg}`,
          });
          break;
        }
        case "exec": {
          const r = region(op.region, "exec", pos);
          const line = op.line ?? 0;
          if (!Number.isInteger(line) || line < 0 || line >= r.lines)
            throw err(
              `exec ${r.name}+${line}: line out of range (region has ${r.lines} lines)`,
              pos,
            );
          const rs = regionSpecs.find((x) => x.name === r.name)!;
          for (const v of Object.keys(op.dispatch)) {
            if (v !== "trap" && !rs.versions.includes(v))
              throw err(
                `exec ${r.name}: dispatch names "${v}", which is not one of its versions`,
                pos,
              );
          }
          steps.push({
            k: "exec",
            region: r.index,
            line,
            dispatch: [],
            text: `execute ${r.name}${r.lines > 1 ? `+${line}` : ""}`,
          });
          execFixups.push({ step: steps.length - 1, dispatch: op.dispatch, pos });
          break;
        }
        case "insn-reg": {
          const rule = arch.instructions[op.name];
          if (!rule) throw err(`${op.name} is not an instruction of ${arch.name}`, pos);
          if (rule.effect !== "clean-to-pou" && rule.effect !== "icache-invalidate-line")
            throw err(`${op.name} takes no address`, pos);
          steps.push({
            k: "effect-reg",
            effect: rule.effect,
            insn: op.name,
            addr: reg(op.addr, "data", pos),
            text: `${op.name}, ${op.addr}`,
          });
          break;
        }
        default:
          throw err(`unknown operation ${JSON.stringify((op as { op: unknown }).op)}`, pos);
      }
    }
    for (const f of fixups) {
      const t = labels.get(f.label);
      if (t === undefined) throw err(`P${ci}: branch to unknown label ${f.label}`, f.pos);
      (steps[f.step] as { target: number }).target = t;
    }
    for (const f of labelRefs) {
      const t = labels.get(f.label);
      if (t === undefined) throw err(`P${ci}: unknown label ${f.label}`, f.pos);
      (symbols[f.sym - SYMBOL_BASE] as { pc: number }).pc = t;
    }
    for (const f of execFixups) {
      const st = steps[f.step] as { dispatch: number[] };
      st.dispatch = versions.map((v) => {
        const lab = f.dispatch[v];
        if (lab === undefined) return -1;
        const t = labels.get(lab);
        if (t === undefined)
          throw err(`P${ci}: exec dispatches ${v} to unknown label ${lab}`, f.pos);
        return t;
      });
    }
    const flagsReg = flagsUsed ? reg("_nzcv", "data") : -1;
    const hasExec = steps.some((x) => x.k === "exec");
    const faultReg = hasExec ? reg("_fault", "data") : -1;
    const unpredReg = hasExec && arch.cmodxSafe ? reg("_unpredictable", "data") : -1;
    stores = steps.filter((x) => x.k === "store" || x.k === "str").length;
    sbMax = Math.max(sbMax, Math.min(stores, 12));
    const called = new Set(
      steps
        .filter((s) => s.k === "call" || s.k === "exec")
        .map((s) => (s as { region: number }).region),
    );
    const branches = steps.some((x) => x.k === "jump" || x.k === "br" || x.k === "exec");
    const speculate = (cs.speculate ?? [...called].map((i) => regions[i].name)).map(
      (n) => region(n, `P${ci} speculate`).index,
    );
    const liveRegions: number[][] = [];
    let live: number[] = [];
    for (let i = steps.length; i >= 0; i--) {
      const s = steps[i];
      if (s && s.k === "call" && !live.includes(s.region)) live = [...live, s.region];
      liveRegions[i] = live;
    }
    // With branches, any region this CPU runs stays live until it finishes (conservative).
    if (branches) for (let i = 0; i < steps.length; i++) liveRegions[i] = [...called];
    const interrupts = cs.interrupts ?? 0;
    if (!Number.isInteger(interrupts) || interrupts < 0 || interrupts > 4)
      throw err(`P${ci}: interrupts must be 0..4, got ${interrupts}`);
    return {
      steps,
      liveRegions,
      speculate,
      interrupts,
      regs,
      regKind,
      flagsReg,
      faultReg,
      unpredReg,
    };
  });
  if (cpus.every((c) => c.steps.length === 0)) throw err("every CPU's program is empty");
  if (versions.length > 200) throw err("too many versions");
  if (cpus.some((c) => c.regs.length > MAX_REGISTERS))
    throw err(`at most ${MAX_REGISTERS} registers per CPU are supported`);

  function checkValue(v: number, what: string, pos?: SourcePos) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_VALUE)
      throw err(`${what}: value must be an integer 0..${MAX_VALUE}, got ${v}`, pos);
  }

  return {
    spec,
    arch,
    dataNames,
    versions,
    trapVersion: 0,
    regions,
    pages,
    frames,
    cpus,
    nLoc: loc,
    codeBase,
    nCode,
    clOfCode,
    codeOfCl,
    nCl: clBase,
    nVaSlots,
    vaPage,
    vaSlotInPage,
    locName,
    vaName,
    sbMax,
    initialMem,
    symbols,
    versionSymbol: versions.map((_v, i) => versionSymbolOf(i)),
    bpLoc: bpLocIndex,
  };
}

export const CONDS = [
  "EQ",
  "NE",
  "CS",
  "HS",
  "CC",
  "LO",
  "MI",
  "PL",
  "VS",
  "VC",
  "HI",
  "LS",
  "GE",
  "LT",
  "GT",
  "LE",
  "AL",
];

function operandText(o: Operand): string {
  if ("reg" in o) return o.reg;
  if ("imm" in o) return `#${o.imm}`;
  if ("addr" in o) return o.addr;
  if ("insn" in o) return `instr:${o.insn}`;
  return o.label;
}

function isSync(e: Effect): boolean {
  return e !== "none" && e !== "store-barrier";
}
