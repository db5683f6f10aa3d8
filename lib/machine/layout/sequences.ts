/**
 * Code writes, PTE writes, instructions and kernel routines as primitive steps. The routines and
 * instructions are each architecture's, as lib/arch lists them (ArchVariant.macros and
 * .instructions); this file only expands them.
 */
import {
  architectures,
  takesAddress,
  type ArchVariant,
  type Effect,
  type MacroStep,
} from "../../arch";
import type { SourcePos } from "../../model";
import type { Alias, Perm } from "../../scenario/spec";
import type { Compilation } from "./compilation";
import { encodePte, permBits } from "./encoding";
import type { RegionLayout, Step } from "./types";
import type { Names } from "./memory";

/** Routines nest at most this deep (a routine calling another). */
const MAX_ROUTINE_DEPTH = 8;

/** Does routine `name` (or one it calls) publish the text_poke_bp descriptor? */
export function usesBp(arch: ArchVariant, name: string, depth = 0): boolean {
  const m = arch.macros[name as keyof typeof arch.macros];
  if (!m || depth > MAX_ROUTINE_DEPTH) return false;
  const inSteps = (xs: MacroStep[]): boolean =>
    xs.some(
      (x) =>
        "bp" in x ||
        ("macro" in x && usesBp(arch, x.macro, depth + 1)) ||
        ("stop_machine" in x && inSteps(x.patch)),
    );
  return inSteps(m.steps);
}

/** Effects that order instruction fetch or maintenance (not a plain or store barrier). */
function isSync(e: Effect): boolean {
  return e !== "none" && e !== "store-barrier" && e !== "clean-to-poc";
}

export class Sequences {
  constructor(
    private readonly cx: Compilation,
    private readonly names: Names,
  ) {}

  /** A store of `version` into line `l` of region `r`, through alias `via`. */
  write(
    r: RegionLayout,
    l: number,
    version: string,
    via: Alias,
    frameName: string | undefined,
    pos: SourcePos | undefined,
    what: string,
  ): Step[] {
    const { cx, names } = this;
    const vs = names.versionsOf(r);
    if (version !== "trap" && !vs.includes(version))
      throw cx.err(
        `${what} ${r.name}: "${version}" is not one of its versions (${vs.join(", ")}) or "trap"`,
        pos,
      );
    const p = names.mem.pages[r.page];
    let frame = names.mem.frames[p.frames[0]];
    if (frameName !== undefined) frame = names.frame(frameName, p, `${what} ${r.name}`, pos);
    if (via === "text" && frameName !== undefined)
      throw cx.err(
        `${what} ${r.name}: a write through the text alias goes to the mapped frame; drop "frame"`,
        pos,
      );
    return [
      {
        k: "store",
        loc: frame.slotLoc + r.offset + l,
        value: cx.vid(version),
        release: false,
        vaSlot: via === "text" ? p.vaBase + r.offset + l : -1,
        text: `write ${r.name}+${l} := ${version} via ${via}${frame.name !== p.name ? ` (frame ${frame.name})` : ""}`,
      },
    ];
  }

  /** A store to the PTE of `page`: map a frame with `perm`, or clear it. */
  pte(
    page: string,
    perm: Perm,
    frameName: string | undefined,
    pos: SourcePos | undefined,
    what = "set_pte",
  ): Step {
    const { cx, names } = this;
    const p = names.mem.pages.find((x) => x.name === page);
    if (!p) throw cx.err(`${what}: unknown page "${page}"`, pos);
    const bits = permBits(perm);
    let pte = 0;
    if (bits !== 0) {
      const f = names.frame(frameName ?? p.name, p, `${what} ${p.name}`, pos, "this page's layout");
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
  }

  /** An instruction of the architecture; maintenance by address, on each line it names. */
  insn(
    name: string,
    pos: SourcePos | undefined,
    regionName?: string,
    line?: number,
    frameName?: string,
  ): Step[] {
    const { cx, names } = this;
    const rule = cx.arch.instructions[name];
    if (!rule) {
      const owner = Object.values(architectures).find((a) => a.instructions[name]);
      throw cx.err(
        `${name} is not an instruction of ${cx.arch.name}` +
          (owner ? ` (it is ${owner.family}'s)` : ""),
        pos,
      );
    }
    if (!takesAddress(rule.effect)) {
      if (regionName !== undefined) throw cx.err(`${name} takes no address`, pos);
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
    const r = names.region(regionName, name, pos);
    if (line !== undefined && (!Number.isInteger(line) || line < 0 || line >= r.lines)) {
      throw cx.err(
        `${name} ${r.name}+${line}: line out of range (region has ${r.lines} lines)`,
        pos,
      );
    }
    const frame =
      frameName === undefined
        ? -1
        : names.frame(frameName, names.mem.pages[r.page], `${name} ${r.name}`, pos).index;
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
  }

  /** One step of routine `mname` (ArchVariant.macros) on region `regionName`. */
  routine(
    m: MacroStep,
    mname: string,
    pos: SourcePos | undefined,
    regionName?: string,
    frameName?: string,
    version?: string,
    depth = 0,
  ): Step[] {
    const { cx, names } = this;
    if (depth > MAX_ROUTINE_DEPTH) throw cx.err(`${mname}(): routines nest too deeply`, pos);
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
      if (m.perLine) return this.insn(m.insn, pos, regionName, undefined, frameName);
      return this.insn(m.insn, pos);
    }
    if ("macro" in m) {
      const inner = cx.arch.macros[m.macro];
      if (!inner)
        throw cx.err(`${m.macro}() is not available on ${cx.arch.name} (used by ${mname}())`, pos);
      return inner.steps.flatMap((x) =>
        this.routine(x, m.macro, pos, regionName, frameName, version, depth + 1),
      );
    }
    const r = names.region(regionName, `${mname}()`, pos);
    if ("write" in m) {
      const v = m.write === "trap" ? "trap" : version;
      if (v === undefined)
        throw cx.err(`${mname}(${r.name}, VERSION): the version to write is missing`, pos);
      const lines = m.lines ?? "all";
      const ls = [...Array(r.lines).keys()].filter(
        (l) => lines === "all" || (lines === "first" ? l === 0 : l > 0),
      );
      return ls.flatMap((l) => this.write(r, l, v, m.via, frameName, pos, mname));
    }
    if ("pte" in m) return [this.pte(names.mem.pages[r.page].name, m.pte, frameName, pos, mname)];
    if ("bp" in m) {
      return [
        {
          k: "store",
          loc: names.bpLoc(),
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
        handler: `stop_${m.stop_machine}`,
        text: `${mname}: stop_machine() IPI to other CPUs`,
      },
      { k: "stop-arrived", text: `${mname}: wait until every CPU spins in stop_machine()` },
      ...m.patch.flatMap((x) =>
        this.routine(x, mname, pos, regionName, frameName, version, depth + 1),
      ),
      { k: "stop-release", text: `${mname}: release the other CPUs` },
      { k: "ipi-wait", text: `${mname}: wait for stop_machine() to end` },
    ];
  }
}
