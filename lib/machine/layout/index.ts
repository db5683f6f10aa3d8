/**
 * Compiles a ScenarioSpec for one architecture into the machine's layout: numbered locations,
 * lines, pages, frames, and each CPU's program as primitive steps. Every error names the thing
 * that is wrong and where. The parts: memory.ts (locations, lines, pages, frames, PTEs),
 * program.ts and instructions.ts (each CPU's program), sequences.ts (instructions and kernel
 * routines of lib/arch as steps), encoding.ts (PTEs and symbolic values).
 */
import type { ScenarioSpec } from "../../scenario/spec";
import { Compilation } from "./compilation";
import { MAX_CPUS, MAX_REGISTERS } from "../../scenario/spec";
import { SymbolTable } from "./encoding";
import { layoutMemory, Names } from "./memory";
import { ProgramCompiler } from "./program";
import { Sequences } from "./sequences";
import type { CpuLayout, Layout } from "./types";

export * from "./types";

export { MAX_CPUS, MAX_REGISTERS, MAX_VALUE } from "../../scenario/spec";
export {
  encodePte,
  permBits,
  permText,
  PERM_R,
  PERM_W,
  PERM_X,
  pteFrame,
  ptePerm,
  SYMBOL_BASE,
  type ValueSymbol,
} from "./encoding";

/** Versions a scenario may name (their ids share a byte with the machine's marks). */
const MAX_VERSIONS = 200;

/**
 * Check a scenario and lay it out for the machine: interns versions, places code regions, pages
 * and frames, and numbers registers and data locations.
 * @throws {ScenarioError} naming the scenario (and the file:line:col when the spec came from a
 * file) for an unknown architecture, no CPU or more than 8, or a region, page, frame or operand
 * the scenario does not define.
 */
export function compile(spec: ScenarioSpec): Layout {
  const cx = new Compilation(spec);
  if (!spec.cpus || spec.cpus.length === 0) throw cx.err("a scenario needs at least one CPU");
  if (spec.cpus.length > MAX_CPUS)
    throw cx.err(`at most ${MAX_CPUS} CPUs are supported, got ${spec.cpus.length}`);
  const mem = layoutMemory(cx);
  const names = new Names(cx, mem);

  // Symbols: addresses of data locations and code lines, instruction values, labels.
  const symbols = new SymbolTable();
  mem.dataNames.forEach((d, i) => symbols.add(`data:${d}`, { kind: "data", name: d, loc: i }));
  for (const r of mem.regions)
    for (let l = 0; l < r.lines; l++)
      symbols.add(`code:${r.name}+${l}`, {
        kind: "code",
        name: r.lines === 1 ? r.name : `${r.name}+${l}`,
        region: r.index,
        line: l,
      });
  // Versions first seen in programs are interned as they compile; symbols for all of them follow.
  for (let v = 0; v < cx.versions.length; v++) symbols.version(cx.versions, v);

  const seq = new Sequences(cx, names);
  let sbMax = 1;
  const cpus: CpuLayout[] = spec.cpus.map((cs, ci) => {
    const p = new ProgramCompiler(cx, names, symbols, seq, ci);
    const cpu = p.compile(cs);
    sbMax = Math.max(sbMax, p.storeBufferNeed());
    return cpu;
  });
  if (cpus.every((c) => c.steps.length === 0)) throw cx.err("every CPU's program is empty");
  if (cx.versions.length > MAX_VERSIONS) throw cx.err("too many versions");
  if (cpus.some((c) => c.regs.length > MAX_REGISTERS))
    throw cx.err(`at most ${MAX_REGISTERS} registers per CPU are supported`);

  return {
    spec,
    arch: cx.arch,
    dataNames: mem.dataNames,
    versions: cx.versions,
    trapVersion: 0,
    regions: mem.regions,
    pages: mem.pages,
    frames: mem.frames,
    cpus,
    nLoc: mem.nLoc,
    codeBase: mem.codeBase,
    nCode: mem.nCode,
    clOfCode: mem.clOfCode,
    codeOfCl: mem.codeOfCl,
    nCl: mem.nCl,
    nVaSlots: mem.nVaSlots,
    vaPage: mem.vaPage,
    vaSlotInPage: mem.vaSlotInPage,
    locName: mem.locName,
    vaName: mem.vaName,
    sbMax,
    initialMem: mem.initialMem,
    symbols: symbols.symbols,
    versionSymbol: cx.versions.map((_v, i) => symbols.version(cx.versions, i)),
    bpLoc: mem.bpLoc,
  };
}
