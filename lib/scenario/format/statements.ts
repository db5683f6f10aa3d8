/**
 * The statements a process of a scenario file may contain, as a table of handlers
 * (docs/scenario-format.md, "Statements"). Each handler turns one call written in the kernel's
 * words into ScenarioSpec ops. New statements (the execmem/text-poke API: `text_poke(f, new)`,
 * `jit_text_map(h)`, ...) are added with registerStatement().
 *
 * Calls that are not in the table are resolved, in order, as: a call of a code region
 * (`r0 = f();`), a kernel routine an architecture implements (sync_core, flush_icache_range...),
 * or an instruction of an architecture written as a call (`dsb(ish)`, `ic_ivau(f)`, `fence(rw,rw)`).
 */
import { architectures } from "../../arch";
import type { ArgNode } from "./ast";
import type { SourcePos } from "../../model";
import type { Alias, Op, Perm } from "../spec";

/** One argument of a statement as written: `*x`, `f+1`, `42`, `"IC IVAU"`. */
export type StatementArg = ArgNode;

/** A call statement: `name(args);` or `result = name(args);`. */
export interface StatementCall {
  name: string;
  args: StatementArg[];
  /** The register assigned (`r0 = ...`), if any. */
  result?: { name: string; pos: SourcePos };
  /** Index of the process (P0 = 0). */
  cpu: number;
  pos: SourcePos;
}

/** What a handler may ask about the scenario being parsed. */
export interface StatementContext {
  /** The `arch` line of the file. */
  readonly arch: string;
  isData(name: string): boolean;
  isRegion(name: string): boolean;
  isPage(name: string): boolean;
  isFrame(name: string): boolean;
  /** Versions (oldest first) of a region. */
  versionsOf(region: string): readonly string[];
  /** Throws a format error at `at` (default: the statement). */
  fail(message: string, at?: SourcePos): never;
  /** Checks the number of arguments; `usage` is shown in the error, e.g. "WRITE_ONCE(x, value)". */
  arity(call: StatementCall, min: number, max: number, usage: string): void;
  /** A data location argument (`x` or `*x`). */
  location(arg: StatementArg, what: string): string;
  /** A number argument. */
  number(arg: StatementArg, what: string): number;
  /** A code address: region with an optional line (`f`, `f+1`). */
  code(arg: StatementArg, what: string): { region: string; line?: number };
  /** A plain identifier argument (a version, a permission, a keyword). */
  word(arg: StatementArg, what: string): string;
  /** The register a statement must assign. */
  result(call: StatementCall, usage: string): string;
  /** Rejects an assignment for a statement that yields nothing. */
  noResult(call: StatementCall): void;
}

/** `usage` is the statement's own usage string, for arity and result errors. */
export type StatementHandler = (call: StatementCall, ctx: StatementContext, usage: string) => Op[];

export interface StatementDef {
  name: string;
  /**
   * How it is written, e.g. "text_write(f[+line], version[, alias][, frame])": the call's
   * arguments (`[, x]` optional), and `r = ` where a register receives its value. A call is
   * checked against it before the handler runs.
   */
  usage: string;
  /** What it means (one line; shown by the docs and by error messages). */
  doc: string;
  handler: StatementHandler;
}

/** A statement to register; without a name, it is the one its usage calls. */
export type StatementSpec = Omit<StatementDef, "name"> & { name?: string };

const table = new Map<string, StatementDef>();
/** What each statement's usage asks of a call: [min, max] arguments, and an assigned register. */
const shapes = new Map<StatementDef, { arity: [number, number]; assigns: boolean }>();

/** Adds (or replaces) a statement of the format. The extension point for new kernel APIs. */
export function registerStatement(spec: StatementSpec): void {
  const def = { name: spec.name ?? /(\w+)\s*\(/.exec(spec.usage)![1], ...spec };
  table.set(def.name, def);
  shapes.set(def, usageShape(def.usage));
}

/** The statements of the table (not the derived routines and instructions). */
export function statementDefs(): StatementDef[] {
  return [...table.values()];
}

export function lookupStatement(name: string): StatementDef | undefined {
  return table.get(name);
}

/**
 * What a usage asks of a call: its top-level arguments are required, each `[, ...]` group adds
 * one optional (`f(a, b[, c][, d])` takes 2 to 4); `r = f(...)` assigns a register.
 */
function usageShape(usage: string): { arity: [number, number]; assigns: boolean } {
  const args = /\((.*)\)\s*$/.exec(usage)?.[1] ?? "";
  let depth = 0;
  let required = args.trim() ? 1 : 0;
  let optional = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "[") {
      if (args[i + 1] === ",") optional++;
      depth++;
    } else if (args[i] === "]") depth--;
    else if (args[i] === "," && depth === 0) required++;
  }
  return { arity: [required, required + optional], assigns: /^\w+ = /.test(usage) };
}

/** The ops of a call of statement `def`: its assignment and arguments checked against its usage. */
export function runStatement(def: StatementDef, call: StatementCall, x: StatementContext): Op[] {
  const shape = shapes.get(def) ?? usageShape(def.usage);
  if (shape.assigns) x.result(call, def.usage);
  else x.noResult(call);
  x.arity(call, shape.arity[0], shape.arity[1], def.usage);
  return def.handler(call, x, def.usage);
}

// ---- derived names: kernel routines and instructions of every architecture --------------------

/** `DSB ISH` -> `dsb_ish`, `fence rw,rw` -> `fence_rw_rw`, `fence.i` -> `fence_i`. */
export function insnKey(insn: string): string {
  return insn
    .toLowerCase()
    .split(/[\s.,]+/)
    .filter(Boolean)
    .join("_");
}

/** Instruction names of every architecture by their call spelling (`dc_cvau` -> `DC CVAU`). */
export function instructionIndex(): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of Object.values(architectures))
    for (const n of Object.keys(a.instructions)) m.set(insnKey(n), n);
  return m;
}

/** Names of the kernel routines some architecture implements (`sync_core`, `flush_icache_range`...). */
export function routineNames(): Set<string> {
  const s = new Set<string>();
  for (const a of Object.values(architectures)) for (const n of Object.keys(a.macros)) s.add(n);
  return s;
}

// ---- the built-in statements ----------------------------------------------------------------

const ALIASES: Record<string, Alias> = { direct_map: "direct-map", text: "text", poke: "poke" };

const PERMS: Record<string, Perm> = {
  none: "",
  R: "R",
  RW: "RW",
  RX: "RX",
  RWX: "RWX",
  PAGE_NONE: "",
  PAGE_KERNEL_RO: "R",
  PAGE_KERNEL: "RW",
  PAGE_KERNEL_ROX: "RX",
  PAGE_KERNEL_EXEC: "RWX",
};

/** Permission words accepted by `set_pte` and `page NAME = PERM;`. */
export function permOf(word: string): Perm | undefined {
  return Object.prototype.hasOwnProperty.call(PERMS, word) ? PERMS[word] : undefined;
}
export const PERM_WORDS = Object.keys(PERMS);

const store =
  (release: boolean): StatementHandler =>
  (c, x) => [
    {
      op: "store",
      loc: x.location(c.args[0], c.name),
      value: x.number(c.args[1], `${c.name} value`),
      release,
    },
  ];

const load =
  (acquire: boolean): StatementHandler =>
  (c, x) => [{ op: "load", reg: c.result!.name, loc: x.location(c.args[0], c.name), acquire }];

// The data statements: usage, meaning, handler.
const DATA_STATEMENTS: [string, string, StatementHandler][] = [
  ["WRITE_ONCE(x, value)", "store to a data location", store(false)],
  ["smp_store_release(x, value)", "store-release", store(true)],
  ["r = READ_ONCE(x)", "load into a register", load(false)],
  ["r = smp_load_acquire(x)", "load-acquire into a register", load(true)],
  ["barrier()", "compiler barrier: nothing in the model", () => []],
  ["cpu_relax()", "nothing in the model", () => []],
];
for (const [usage, doc, handler] of DATA_STATEMENTS) registerStatement({ usage, doc, handler });

registerStatement({
  usage: "text_write(f[+line], version[, direct_map|text|poke][, frame])",
  doc: "write a version of code into every line of region f (or one line) through an alias (default the direct map), into the mapped frame or the named one",
  handler: (c, x) => {
    const { region, line } = x.code(c.args[0], "text_write");
    const version = x.word(c.args[1], "text_write version");
    const vs = x.versionsOf(region);
    if (version !== "trap" && !vs.includes(version)) {
      x.fail(
        `text_write: "${version}" is not a version of ${region} (${vs.join(", ")}) or "trap"`,
        c.args[1].pos,
      );
    }
    let via: Alias | undefined;
    let frame: string | undefined;
    for (const a of c.args.slice(2)) {
      const w = x.word(a, "text_write alias or frame");
      if (ALIASES[w] !== undefined) {
        if (via !== undefined) x.fail(`text_write: two aliases given`, a.pos);
        via = ALIASES[w];
      } else if (x.isFrame(w)) {
        if (frame !== undefined) x.fail(`text_write: two frames given`, a.pos);
        frame = w;
      } else
        x.fail(
          `text_write: "${w}" is neither an alias (direct_map, text, poke) nor a frame`,
          a.pos,
        );
    }
    const op: Extract<Op, { op: "write" }> = {
      op: "write",
      region,
      version,
      via: via ?? "direct-map",
    };
    if (line !== undefined) op.line = line;
    if (frame !== undefined) op.frame = frame;
    return [op];
  },
});

registerStatement({
  usage: "set_pte(page, none|R|RW|RX|RWX[, frame])",
  doc: "write the PTE of a page: map it to a frame (default the page's own) with permissions, or clear it",
  handler: (c, x) => {
    const page = x.word(c.args[0], "set_pte page");
    if (!x.isPage(page)) {
      x.fail(
        `set_pte: unknown page "${page}"` + (x.isData(page) ? " (it is a data location)" : ""),
        c.args[0].pos,
      );
    }
    const pw = x.word(c.args[1], "set_pte permissions");
    const perm = permOf(pw);
    if (perm === undefined)
      return x.fail(
        `set_pte: unknown permissions "${pw}" (expected ${PERM_WORDS.join(", ")})`,
        c.args[1].pos,
      );
    const op: Extract<Op, { op: "pte" }> = { op: "pte", page, perm };
    if (c.args[2]) {
      const f = x.word(c.args[2], "set_pte frame");
      if (!x.isFrame(f)) x.fail(`set_pte: unknown frame "${f}"`, c.args[2].pos);
      if (perm === "") x.fail(`set_pte: a cleared PTE maps no frame`, c.args[2].pos);
      op.frame = f;
    }
    return [op];
  },
});

registerStatement({
  usage: "r = call(f)",
  doc: "run code region f; r receives what ran (new, stale, trap, torn, fault, spurious-fault+..., unpredictable)",
  handler: (c, x) => {
    const reg = c.result!.name;
    const { region, line } = x.code(c.args[0], "call");
    if (line !== undefined)
      x.fail("call: a call enters a region at its start; drop the +line", c.args[0].pos);
    return [{ op: "call", reg, region }];
  },
});

registerStatement({
  usage: "interrupt()",
  doc: "an interrupt is delivered here: entry, empty handler, return (serialising / context-synchronising where the architecture says so)",
  handler: () => [{ op: "interrupt" }],
});

registerStatement({
  usage: 'asm("INSN"[, f[+line]])',
  doc: 'an instruction of the scenario\'s architecture by its name in lib/arch ("IC IVAU", "fence.i", "MOV CR3")',
  handler: (c, x) => {
    const a = c.args[0];
    if (a.kind !== "string") x.fail(`asm: the instruction is a string, like asm("ISB")`, a.pos);
    const op: Extract<Op, { op: "insn" }> = {
      op: "insn",
      name: a.str!.trim().replace(/\s+/g, " "),
    };
    if (c.args[1]) {
      const { region, line } = x.code(c.args[1], `asm("${op.name}")`);
      op.region = region;
      if (line !== undefined) op.line = line;
    }
    return [op];
  },
});
