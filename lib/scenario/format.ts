/**
 * The textual scenario format: the Linux-kernel memory model's litmus dialect
 * (tools/memory-model/litmus-tests) extended with this project's primitives — code regions with
 * versions, pages and frames, code writes, PTE writes, architecture instructions, kernel routines,
 * calls into code and interrupts. docs/scenario-format.md is its reference.
 *
 *   C S1+direct-map-write+no-serialise
 *   arch x86-64
 *   (* Result: Sometimes *)
 *   { flag = 0; code f[2] = old versions(old, new); }
 *   P0(int *flag) { text_write(f, new); smp_store_release(flag, 1); }
 *   P1(int *flag) { int r0; while (!smp_load_acquire(flag)); r0 = f(); }
 *   exists (1:r0=stale)
 *
 * parseScenario() returns a ScenarioSpec whose ops carry their source positions; it also compiles
 * the spec once, so every error — syntax, unknown names, arity, an instruction the architecture
 * does not have — is reported as "file:line:column: message".
 */
import { readFileSync } from "fs";
import { architectures } from "../arch";
import { compile, MAX_CPUS, MAX_REGISTERS, MAX_VALUE } from "../machine/layout";
import {
  HANDLEABLE_CLASSES,
  OBSERVATIONS,
  RESULT_CLASSES,
  ScenarioError,
  type Observation,
  type SourcePos,
} from "../model";
import { ConditionError, parseCondition, type CondExpr } from "./condition";
import type { CpuSpec, FrameSpec, Op, PageSpec, RegionSpec, ScenarioSpec } from "./spec";
import {
  LineMap,
  parseSyntax,
  type AttrNode,
  type CallNode,
  type FileNode,
  type InitNode,
  type Name,
  type StmtNode,
} from "./format-grammar";
import {
  instructionIndex,
  insnKey,
  lookupStatement,
  permOf,
  PERM_WORDS,
  routineNames,
  statementDefs,
  type StatementArg,
  type StatementCall,
  type StatementContext,
} from "./format-statements";

export {
  registerStatement,
  statementDefs,
  type StatementArg,
  type StatementCall,
  type StatementContext,
  type StatementDef,
  type StatementHandler,
} from "./format-statements";

/** A malformed scenario file. `message` is "file:line:column: reason". */
export class FormatError extends Error {
  constructor(
    public readonly reason: string,
    public readonly file: string,
    public readonly line: number,
    public readonly column: number,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "FormatError";
  }
}

/** Values a call register may hold (callResultText in lib/machine). */
const CALL_RESULTS: readonly string[] = [...RESULT_CLASSES, "none"];

/** Reads and parses a scenario file. Errors name the path as given. */
export function loadScenario(path: string): ScenarioSpec {
  return parseScenario(readFileSync(path, "utf8"), path);
}

/** Parses the text of a scenario file into a ScenarioSpec (validated by compiling it once). */
export function parseScenario(text: string, fileName = "<scenario>"): ScenarioSpec {
  return new Parser(text, fileName).run();
}

// ---- comments --------------------------------------------------------------------------------

interface Comment {
  text: string;
  offset: number;
}

/**
 * Replaces comments by spaces (newlines kept, so positions stay). `(* ... *)` is a comment only
 * outside braces and parentheses (inside a process `(*x` is a dereference); `//` and `/* *\/`
 * are comments anywhere. Returns the `(* *)` comments, where `Result:` lines live.
 */
function blankComments(src: string): { text: string; comments: Comment[] } {
  const out: string[] = [];
  const comments: Comment[] = [];
  let depth = 0;
  let copied = 0;
  const blank = (from: number, to: number) => {
    out.push(src.slice(copied, from), src.slice(from, to).replace(/[^\n]/g, " "));
    copied = to;
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const next = src[i + 1];
    if (ch === "(" && next === "*" && depth === 0) {
      const end = src.indexOf("*)", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      comments.push({ text: src.slice(i + 2, end < 0 ? src.length : end), offset: i + 2 });
      blank(i, stop);
      i = stop;
    } else if (ch === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (ch === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else {
      if (ch === "{" || ch === "(") depth++;
      else if ((ch === "}" || ch === ")") && depth > 0) depth--;
      i++;
    }
  }
  out.push(src.slice(copied));
  return { text: out.join(""), comments };
}

// ---- the parser ------------------------------------------------------------------------------

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bd = Infinity;
  for (const c of candidates) {
    const dist = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (dist < bd) {
      bd = dist;
      best = c;
    }
  }
  return best !== undefined && bd <= Math.max(1, Math.floor(word.length / 3))
    ? ` (did you mean ${best}?)`
    : "";
}

interface PendingWait {
  op: Extract<Op, { op: "await" }>;
  loc: string;
  pos: SourcePos;
  written: string;
}

class Parser {
  private readonly lines: LineMap;
  private spec!: ScenarioSpec;
  private data = new Map<string, number>();
  private regions = new Map<string, RegionSpec>();
  private pageNames = new Set<string>();
  private frameNames = new Set<string>();
  private regs: Map<string, "data" | "call">[] = [];
  private pending: PendingWait[] = [];
  private readonly insns = instructionIndex();
  private readonly routines = routineNames();

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    this.lines = new LineMap(src);
  }

  private fail(message: string, at: SourcePos): never {
    throw new FormatError(message, this.file, at.line, at.column);
  }

  run(): ScenarioSpec {
    const { text, comments } = blankComments(this.src);
    if (!/\S/.test(text))
      this.fail("empty file: a scenario starts with `C NAME`", { line: 1, column: 1 });
    const syn = parseSyntax(text, this.lines);
    if (!syn.ok) this.syntaxError(text, syn.offset, syn.pos, syn.expected, syn.message);
    const f = syn.file;
    const spec: ScenarioSpec = { name: f.name.text, arch: "", data: {}, regions: [], cpus: [] };
    this.spec = spec;
    this.header(f, comments);
    this.initState(f);
    this.processes(f);
    this.directives(f);
    this.resolveWaits();
    this.validate(f);
    if (f.final) this.condition(f.final.text, f.final.pos);
    return spec;
  }

  private syntaxError(
    text: string,
    offset: number,
    pos: SourcePos,
    expected: string,
    message?: string,
  ): never {
    if (message) this.fail(message, pos);
    const tok = text.slice(offset).match(/^\s*(\w+|\S)/);
    const found = tok ? `"${tok[1]}"` : "the end of the file";
    if (offset === 0 || (tok && text.slice(0, offset).trim() === "")) {
      this.fail(
        `a scenario file starts with "C NAME" (the Linux-kernel litmus dialect), found ${found}`,
        pos,
      );
    }
    if (tok && /^(if|else|for|do|switch|goto|return)$/.test(tok[1])) {
      this.fail(
        `"${tok[1]}" is not supported: a process is straight-line code with spin-waits (while)`,
        pos,
      );
    }
    this.fail(`syntax error: expected ${expected}; found ${found}`, pos);
  }

  // -- header: Result line, doc, arch ---------------------------------------------------------

  private header(f: FileNode, comments: Comment[]): void {
    const docs: string[] = [];
    let result: { value: Observation; pos: SourcePos } | undefined;
    for (const c of comments) {
      const re = /Result:[ \t]*(\S*)/g;
      let m: RegExpExecArray | null;
      while ((m = re.exec(c.text))) {
        const pos = this.lines.pos(c.offset + m.index + m[0].length - m[1].length);
        const v = m[1] as Observation;
        if (!OBSERVATIONS.includes(v))
          this.fail(`Result: must be Never, Sometimes or Always, found "${m[1]}"`, pos);
        if (result)
          this.fail(`a second "Result:" line (the first is at line ${result.pos.line})`, pos);
        result = { value: v, pos };
      }
      const body = c.text
        .split("\n")
        .map((l) => l.replace(/^\s*\*(?!\))\s?/, "").trimEnd())
        .filter((l) => !/^\s*Result:/.test(l))
        .join("\n")
        .trim();
      if (body) docs.push(body);
    }
    if (result) this.spec.expect = result.value;
    if (docs.length) this.spec.doc = docs.join("\n\n");
    const arches = f.directives.filter((d) => d.k === "arch");
    if (arches.length === 0) {
      this.fail(
        `missing "arch NAME" line after "C ${f.name.text}" (known: ${Object.keys(architectures).join(", ")})`,
        f.headerPos,
      );
    }
    if (arches.length > 1) this.fail(`a second "arch" line`, arches[1].pos);
    const a = arches[0];
    if (a.k !== "arch") throw new Error("unreachable");
    if (!architectures[a.value.text]) {
      this.fail(
        `unknown architecture "${a.value.text}" (known: ${Object.keys(architectures).join(", ")})${suggest(a.value.text, Object.keys(architectures))}`,
        a.value.pos,
      );
    }
    this.spec.arch = a.value.text;
  }

  // -- initial state -----------------------------------------------------------------------------

  private declared(n: Name): void {
    const t = n.text;
    if (this.data.has(t)) this.fail(`"${t}" is already declared as a data location`, n.pos);
    if (this.regions.has(t)) this.fail(`"${t}" is already declared as a code region`, n.pos);
  }

  private attrs(
    owner: string,
    list: AttrNode[],
    allowed: Record<string, string>,
  ): Map<string, AttrNode> {
    const m = new Map<string, AttrNode>();
    for (const a of list) {
      const n = a.name.text;
      if (!(n in allowed)) {
        this.fail(
          `unknown attribute ${n}(...) of ${owner} (expected ${Object.values(allowed).join(", ")})`,
          a.name.pos,
        );
      }
      if (m.has(n)) this.fail(`${owner}: ${n}(...) given twice`, a.name.pos);
      m.set(n, a);
    }
    return m;
  }

  private single(owner: string, a: AttrNode): Name {
    if (a.args.length !== 1 || a.args[0].key)
      this.fail(`${owner}: ${a.name.text}(...) takes one name`, a.pos);
    return a.args[0].value;
  }

  private initState(f: FileNode): void {
    const pages: { node: Extract<InitNode, { k: "page" }> }[] = [];
    const frames: Extract<InitNode, { k: "frame" }>[] = [];
    for (const it of f.init) {
      switch (it.k) {
        case "data": {
          this.declared(it.name);
          const v = it.value?.value ?? 0;
          if (v > MAX_VALUE)
            this.fail(
              `data location "${it.name.text}": initial value must be 0..${MAX_VALUE}, got ${v}`,
              it.value!.pos,
            );
          this.data.set(it.name.text, v);
          this.spec.data[it.name.text] = v;
          break;
        }
        case "code":
          this.codeDecl(it);
          break;
        case "page":
          pages.push({ node: it });
          break;
        case "frame":
          frames.push(it);
          break;
      }
    }
    // LKMM: a process parameter (`int *x`) names a shared location, initially 0.
    for (const p of f.procs) {
      for (const n of p.params) {
        if (!this.data.has(n.text) && !this.regions.has(n.text)) {
          this.data.set(n.text, 0);
          this.spec.data[n.text] = 0;
        }
      }
    }
    for (const r of this.regions.values()) this.pageNames.add(r.page ?? r.name);
    for (const p of this.pageNames) this.frameNames.add(p);
    // Frames first: a page may map an extra frame.
    const frameSpecs: FrameSpec[] = [];
    for (const fr of frames) {
      const owner = `frame ${fr.name.text}`;
      if (this.frameNames.has(fr.name.text)) {
        this.fail(
          `frame "${fr.name.text}" is already declared (every page has a frame of its own name)`,
          fr.name.pos,
        );
      }
      if (this.data.has(fr.name.text) || this.regions.has(fr.name.text))
        this.fail(`"${fr.name.text}" is already declared`, fr.name.pos);
      const at = this.attrs(owner, fr.attrs, { like: "like(page)" });
      const like = at.get("like");
      if (!like) this.fail(`${owner}: say which page's layout it has, like(page)`, fr.pos);
      const p = this.single(owner, like);
      if (!this.pageNames.has(p.text))
        this.fail(`${owner}: like(${p.text}): unknown page "${p.text}"`, p.pos);
      const versions = [...this.regions.values()]
        .filter((r) => (r.page ?? r.name) === p.text)
        .flatMap((r) => r.versions);
      if (fr.value.text !== "trap" && !versions.includes(fr.value.text)) {
        this.fail(
          `${owner}: initial content "${fr.value.text}" is not a version of page ${p.text} (${versions.join(", ")}) or "trap"`,
          fr.value.pos,
        );
      }
      this.frameNames.add(fr.name.text);
      frameSpecs.push({ name: fr.name.text, like: p.text, initial: fr.value.text });
    }
    const pageSpecs: PageSpec[] = [];
    const seenPages = new Set<string>();
    for (const { node: pg } of pages) {
      const owner = `page ${pg.name.text}`;
      if (!this.pageNames.has(pg.name.text)) {
        this.fail(
          `unknown page "${pg.name.text}": a page is named by a region on it (the region's name, or its page(...) attribute)`,
          pg.name.pos,
        );
      }
      if (seenPages.has(pg.name.text)) this.fail(`${owner} is declared twice`, pg.name.pos);
      seenPages.add(pg.name.text);
      const perm = permOf(pg.value.text);
      if (perm === undefined)
        this.fail(
          `${owner}: unknown permissions "${pg.value.text}" (expected ${PERM_WORDS.join(", ")})`,
          pg.value.pos,
        );
      const at = this.attrs(owner, pg.attrs, { frame: "frame(name)", user: "user()" });
      const ps: PageSpec = { name: pg.name.text, perm };
      const ua = at.get("user");
      if (ua) {
        if (ua.args.length) this.fail(`${owner}: user() takes no argument`, ua.pos);
        ps.user = true;
      }
      const fa = at.get("frame");
      if (fa) {
        const fn = this.single(owner, fa);
        if (!this.frameNames.has(fn.text))
          this.fail(`${owner}: unknown frame "${fn.text}"`, fn.pos);
        if (perm === "") this.fail(`${owner}: a page that is not present maps no frame`, fn.pos);
        ps.frame = fn.text;
      } else if (perm === "") ps.frame = null;
      pageSpecs.push(ps);
    }
    if (pageSpecs.length) this.spec.pages = pageSpecs;
    if (frameSpecs.length) this.spec.frames = frameSpecs;
  }

  private codeDecl(it: Extract<InitNode, { k: "code" }>): void {
    const name = it.name.text;
    const owner = `code ${name}`;
    this.declared(it.name);
    const lines = it.lines?.value ?? 1;
    if (lines < 1 || lines > 16)
      this.fail(`${owner}: a region spans 1..16 lines, got ${lines}`, it.lines!.pos);
    const at = this.attrs(owner, it.attrs, {
      versions: "versions(oldest, ..., newest)",
      page: "page(name)",
      shares: "shares(region)",
      insn: "insn(version=KIND, ...)",
      subline: "subline()",
      interruptible: "interruptible()",
    });
    for (const flag of ["subline", "interruptible"] as const) {
      const fa = at.get(flag);
      if (fa?.args.length) this.fail(`${owner}: ${flag}() takes no argument`, fa.pos);
    }
    const va = at.get("versions");
    if (!va)
      this.fail(
        `${owner}: list its program versions, oldest first: versions(old, new)`,
        it.name.pos,
      );
    const versions: string[] = [];
    for (const v of va.args) {
      if (v.key) this.fail(`${owner}: versions(...) takes names`, v.key.pos);
      if (v.value.text === "trap")
        this.fail(`${owner}: "trap" is the trap fill, not a program version`, v.value.pos);
      if (versions.includes(v.value.text))
        this.fail(`${owner}: version "${v.value.text}" is listed twice`, v.value.pos);
      versions.push(v.value.text);
    }
    if (versions.length === 0) this.fail(`${owner}: needs at least one version`, va.pos);
    const content = Array.isArray(it.content) ? it.content : [it.content];
    for (const c of content) {
      if (c.text !== "trap" && !versions.includes(c.text)) {
        this.fail(
          `${owner}: initial content "${c.text}" is not one of its versions (${versions.join(", ")}) or "trap"`,
          c.pos,
        );
      }
    }
    if (Array.isArray(it.content) && it.content.length !== lines) {
      this.fail(
        `${owner}: ${it.content.length} initial lines given for ${lines} line${lines > 1 ? "s" : ""}`,
        it.contentPos,
      );
    }
    const r: RegionSpec = {
      name,
      lines,
      versions,
      initial: Array.isArray(it.content) ? it.content.map((c) => c.text) : it.content.text,
    };
    const pa = at.get("page");
    if (pa) r.page = this.single(owner, pa).text;
    if (at.get("subline")) r.subline = true;
    if (at.get("interruptible")) r.interruptible = true;
    const sa = at.get("shares");
    if (sa) {
      const s = this.single(owner, sa);
      const other = this.regions.get(s.text);
      if (!other)
        this.fail(`${owner}: shares(${s.text}) must name a region declared before it`, s.pos);
      if ((other.page ?? other.name) !== (r.page ?? r.name)) {
        this.fail(
          `${owner} shares a cache line with ${s.text}, so both must be on one page: add page(${other.page ?? other.name})`,
          s.pos,
        );
      }
      r.sharesLineWith = s.text;
    }
    const ia = at.get("insn");
    if (ia) {
      const insn: Record<string, string> = {};
      for (const kv of ia.args) {
        if (!kv.key)
          this.fail(
            `${owner}: insn(...) takes version=KIND pairs, like insn(old=B, new=NOP)`,
            kv.value.pos,
          );
        if (!versions.includes(kv.key.text))
          this.fail(
            `${owner}: insn(${kv.key.text}=...): unknown version "${kv.key.text}"`,
            kv.key.pos,
          );
        insn[kv.key.text] = kv.value.text;
      }
      r.insn = insn;
    }
    this.regions.set(name, r);
    this.spec.regions.push(r);
  }

  // -- processes -------------------------------------------------------------------------------

  private processes(f: FileNode): void {
    if (f.procs.length === 0) this.fail("no processes: write P0(...) { ... }", f.initPos);
    if (f.procs.length > MAX_CPUS)
      this.fail(
        `${f.procs[MAX_CPUS].name.text}: at most ${MAX_CPUS} processes (CPUs) are supported, this file has ${f.procs.length}`,
        f.procs[MAX_CPUS].name.pos,
      );
    f.procs.forEach((p, i) => {
      if (p.name.text !== `P${i}`)
        this.fail(
          `expected P${i} here, found ${p.name.text} (processes are numbered P0, P1, ... in order)`,
          p.name.pos,
        );
      this.regs[i] = new Map();
      const program: Op[] = [];
      this.body(p.body, i, program);
      this.spec.cpus.push({ program });
    });
  }

  private body(stmts: StmtNode[], cpu: number, out: Op[]): void {
    for (const s of stmts) {
      switch (s.k) {
        case "decl":
        case "empty":
          break;
        case "block":
          this.body(s.body, cpu, out);
          break;
        case "unsupported":
          this.fail(
            `"${s.keyword}" is not supported: a process is straight-line code with spin-waits (while)`,
            s.pos,
          );
          break;
        case "assign": {
          const t = s.target.text;
          const hint = this.data.has(t)
            ? `store with WRITE_ONCE(${t}, ${s.value}) or smp_store_release(${t}, ${s.value})`
            : `a register receives READ_ONCE(x), smp_load_acquire(x) or a call (${t} = f();)`;
          this.fail(`"${t} = ${s.value}" is not a statement of the format: ${hint}`, s.pos);
          break;
        }
        case "call":
          for (const op of this.call(s.call, cpu, s.result))
            out.push({ ...op, pos: op.pos ?? s.pos });
          break;
        case "wait":
          out.push(this.wait(s, cpu));
          break;
      }
    }
  }

  private wait(s: Extract<StmtNode, { k: "wait" }>, cpu: number): Op {
    const c = s.call;
    const fn = c.name.text;
    if (fn !== "READ_ONCE" && fn !== "smp_load_acquire") {
      this.fail(
        `a spin-wait reads its flag with READ_ONCE(x) or smp_load_acquire(x), not ${fn}()`,
        c.name.pos,
      );
    }
    if (c.args.length !== 1) this.fail(`${fn} takes 1 argument (x), got ${c.args.length}`, c.pos);
    const loc = this.ctx(cpu, c.pos).location(c.args[0], fn);
    for (const b of s.body) {
      if (b.k === "empty" || b.k === "decl") continue;
      if (
        b.k === "call" &&
        !b.result &&
        (b.call.name.text === "cpu_relax" || b.call.name.text === "barrier") &&
        b.call.args.length === 0
      )
        continue;
      this.fail("the body of a spin-wait may only be cpu_relax() or barrier()", b.pos);
    }
    const acquire = fn === "smp_load_acquire";
    const written = `while (${s.cond === "not" ? "!" : ""}${fn}(${c.args[0].text})${s.cond === "ne" ? ` != ${s.value}` : s.cond === "eq" ? ` == ${s.value}` : ""})`;
    const op: Extract<Op, { op: "await" }> = { op: "await", loc, value: 0, acquire, pos: s.pos };
    if (s.cond === "ne") op.value = s.value!;
    else if (s.cond === "truthy") op.value = 0;
    else if (s.cond === "eq" && s.value !== 0) {
      this.fail(
        `${written} waits for ${loc} to change from ${s.value}; the model waits for one value: write while (${fn}(${c.args[0].text}) != VALUE)`,
        s.valuePos!,
      );
    } else this.pending.push({ op, loc, pos: s.pos, written });
    if (op.value > MAX_VALUE) this.fail(`${written}: value must be 0..${MAX_VALUE}`, s.valuePos!);
    return op;
  }

  /** `while (!x)` waits for the one nonzero value some process stores to x. */
  private resolveWaits(): void {
    // The nonzero values stored to each location, gathered once (linear in the file).
    const stored = new Map<string, Set<number>>();
    for (const c of this.spec.cpus)
      for (const op of c.program)
        if (op.op === "store" && op.value !== 0) {
          let set = stored.get(op.loc);
          if (!set) stored.set(op.loc, (set = new Set()));
          set.add(op.value);
        }
    for (const w of this.pending) {
      const vals = new Set<number>(stored.get(w.loc));
      const init = this.data.get(w.loc) ?? 0;
      if (init !== 0) vals.add(init);
      if (vals.size === 1) w.op.value = [...vals][0];
      else if (vals.size === 0)
        this.fail(
          `${w.written}: no process stores a nonzero value to ${w.loc}, so the wait never ends (write != VALUE to wait for a value)`,
          w.pos,
        );
      else
        this.fail(
          `${w.written}: ${w.loc} may become ${[...vals].join(" or ")}; the model waits for one value: write while (READ_ONCE(${w.loc}) != VALUE)`,
          w.pos,
        );
    }
  }

  /** One context per process, made once (a file may have many statements). */
  private readonly contexts: StatementContext[] = [];
  private here: SourcePos = { line: 1, column: 1 };

  private ctx(cpu: number, here: SourcePos): StatementContext {
    this.here = here;
    return (this.contexts[cpu] ??= this.makeCtx(cpu));
  }

  private makeCtx(cpu: number): StatementContext {
    const argDesc = (a: StatementArg) =>
      a.kind === "string"
        ? `the string ${a.text}`
        : a.kind === "number"
          ? `the number ${a.text}`
          : `"${a.text}"`;
    return {
      arch: this.spec.arch,
      isData: (n) => this.data.has(n),
      isRegion: (n) => this.regions.has(n),
      isPage: (n) => this.pageNames.has(n),
      isFrame: (n) => this.frameNames.has(n),
      versionsOf: (r) => this.regions.get(r)?.versions ?? [],
      fail: (m, at) => this.fail(m, at ?? this.here),
      arity: (call, min, max, usage) => {
        const n = call.args.length;
        if (n < min || n > max) {
          const want =
            min === max ? `${min}` : max === min + 1 ? `${min} or ${max}` : `${min} to ${max}`;
          this.fail(
            `${call.name} takes ${want} argument${max === 1 ? "" : "s"}, got ${n}: ${usage}`,
            call.pos,
          );
        }
      },
      location: (a, what) => {
        if (a.kind !== "name" || a.offset !== undefined)
          this.fail(`${what}: expected a data location, found ${argDesc(a)}`, a.pos);
        const n = a.name!;
        if (this.data.has(n)) return n;
        if (this.regions.has(n))
          this.fail(
            `${what}: "${n}" is a code region, not a data location (write code with text_write(${n}, VERSION))`,
            a.pos,
          );
        this.fail(
          `${what}: unknown location "${n}" (declare it in the initial state: ${n} = 0;)${suggest(n, this.data.keys())}`,
          a.pos,
        );
      },
      number: (a, what) => {
        if (a.kind !== "number")
          this.fail(`${what}: expected a number, found ${argDesc(a)}`, a.pos);
        if (a.value! > MAX_VALUE)
          this.fail(`${what}: must be 0..${MAX_VALUE}, got ${a.value}`, a.pos);
        return a.value!;
      },
      code: (a, what) => {
        if (a.kind !== "name" || a.deref)
          this.fail(`${what}: expected a code region (f or f+1), found ${argDesc(a)}`, a.pos);
        const n = a.name!;
        const r = this.regions.get(n);
        if (!r) {
          if (this.data.has(n))
            this.fail(`${what}: "${n}" is a data location, not a code region`, a.pos);
          this.fail(`${what}: unknown code region "${n}"${suggest(n, this.regions.keys())}`, a.pos);
        }
        if (a.offset !== undefined && a.offset >= r.lines) {
          this.fail(
            `${what}: ${a.text}: line out of range (${n} has ${r.lines} line${r.lines > 1 ? "s" : ""})`,
            a.pos,
          );
        }
        return a.offset === undefined ? { region: n } : { region: n, line: a.offset };
      },
      word: (a, what) => {
        if (a.kind !== "name" || a.deref || a.offset !== undefined)
          this.fail(`${what}: expected a name, found ${argDesc(a)}`, a.pos);
        return a.name!;
      },
      result: (call, usage) => {
        if (!call.result)
          this.fail(`${call.name}() yields a value: assign it to a register, ${usage}`, call.pos);
        const r = call.result;
        if (this.data.has(r.name))
          this.fail(`"${r.name}" is a data location; registers are local (r0, r1...)`, r.pos);
        const kind =
          call.name === "READ_ONCE" || call.name === "smp_load_acquire" ? "data" : "call";
        const regs = this.regs[cpu];
        const had = regs.get(r.name);
        if (had && had !== kind)
          this.fail(`P${cpu}: register ${r.name} holds both data and a call result`, r.pos);
        if (!had && regs.size >= MAX_REGISTERS)
          this.fail(
            `P${cpu}: register ${r.name} is one too many: at most ${MAX_REGISTERS} registers per process`,
            r.pos,
          );
        regs.set(r.name, kind);
        return r.name;
      },
      noResult: (call) => {
        if (call.result)
          this.fail(
            `${call.name}() yields no value to assign to ${call.result.name}`,
            call.result.pos,
          );
      },
    };
  }

  private call(c: CallNode, cpu: number, result?: Name): Op[] {
    const call: StatementCall = {
      name: c.name.text,
      args: c.args,
      result: result ? { name: result.text, pos: result.pos } : undefined,
      cpu,
      pos: c.pos,
    };
    const x = this.ctx(cpu, c.pos);
    const def = lookupStatement(call.name);
    if (def) return def.handler(call, x);
    const n = call.name;
    if (this.regions.has(n)) {
      const reg = x.result(call, `r0 = ${n}();`);
      if (call.args.length)
        this.fail(`${n}(): calling a code region takes no arguments`, call.args[0].pos);
      return [{ op: "call", reg, region: n }];
    }
    if (this.routines.has(n)) {
      x.noResult(call);
      x.arity(call, 0, 2, `${n}([f[, version]])`);
      const op: Extract<Op, { op: "macro" }> = { op: "macro", name: n };
      if (call.args[0]) {
        const { region, line } = x.code(call.args[0], `${n}()`);
        if (line !== undefined)
          this.fail(`${n}(): takes a whole region, drop the +line`, call.args[0].pos);
        op.region = region;
      }
      if (call.args[1]) {
        const v = call.args[1];
        if (v.kind !== "name" || v.deref || v.offset !== undefined)
          this.fail(`${n}(f, version): the version must be a name such as new`, v.pos);
        op.version = v.name!;
      }
      return [op];
    }
    // An instruction: keyword arguments join the name (dsb(ish) -> DSB ISH); a trailing code
    // address is the instruction's operand (ic_ivau(f+1)).
    const plain = (a: StatementArg) =>
      a.kind === "name" && !a.deref && a.offset === undefined && !this.regions.has(a.name!);
    if (call.args.every(plain)) {
      const insn = this.insns.get(insnKey([n, ...call.args.map((a) => a.name!)].join(" ")));
      if (insn) {
        x.noResult(call);
        return [{ op: "insn", name: insn }];
      }
    }
    const last = call.args[call.args.length - 1];
    if (
      last &&
      last.kind === "name" &&
      !last.deref &&
      this.regions.has(last.name!) &&
      call.args.slice(0, -1).every(plain)
    ) {
      const insn = this.insns.get(
        insnKey([n, ...call.args.slice(0, -1).map((a) => a.name!)].join(" ")),
      );
      if (insn) {
        x.noResult(call);
        const { region, line } = x.code(last, insn);
        const op: Extract<Op, { op: "insn" }> = { op: "insn", name: insn, region };
        if (line !== undefined) op.line = line;
        return [op];
      }
    }
    if (
      this.insns.has(insnKey(n)) ||
      [...this.insns.keys()].some((k) => k.startsWith(insnKey(n) + "_"))
    ) {
      const forms = [...this.insns.entries()]
        .filter(([k]) => k === insnKey(n) || k.startsWith(insnKey(n) + "_"))
        .map(([, v]) => v);
      this.fail(
        `${n}(${call.args.map((a) => a.text).join(", ")}): no such instruction; known forms: ${forms.join(", ")}`,
        c.pos,
      );
    }
    const known = [
      ...statementDefs().map((d) => d.name),
      ...this.routines,
      ...this.insns.keys(),
      ...this.regions.keys(),
    ];
    this.fail(
      `unknown statement ${n}(): not a statement of the format, a kernel routine, an instruction or a code region${suggest(n, known)}`,
      c.name.pos,
    );
  }

  // -- directives (after the processes, so P numbers can be checked) ---------------------------

  private directives(f: FileNode): void {
    const seen = new Set<string>();
    for (const d of f.directives) {
      if (d.k === "arch") continue;
      if (d.k === "handled") {
        for (const c of d.classes)
          if (!HANDLEABLE_CLASSES.some((h) => h === c.text))
            this.fail(
              `handled: "${c.text}" is not an outcome a scenario can declare handled (${HANDLEABLE_CLASSES.join(", ")})`,
              c.pos,
            );
        this.spec.handled = [
          ...new Set([...(this.spec.handled ?? []), ...d.classes.map((c) => c.text)]),
        ];
        continue;
      }
      const m = /^P(\d+)$/.exec(d.proc.text)!;
      const i = Number(m[1]);
      if (i >= this.spec.cpus.length)
        this.fail(
          `${d.k}: ${d.proc.text} is not a process of this file (it has P0..P${this.spec.cpus.length - 1})`,
          d.proc.pos,
        );
      const key = `${d.k} ${i}`;
      if (seen.has(key)) this.fail(`a second "${d.k} ${d.proc.text}" line`, d.pos);
      seen.add(key);
      const cpu: CpuSpec = this.spec.cpus[i];
      if (d.k === "speculate") {
        if (d.regions.length === 1 && d.regions[0].text === "none") cpu.speculate = [];
        else {
          cpu.speculate = d.regions.map((r) => {
            if (!this.regions.has(r.text))
              this.fail(
                `speculate ${d.proc.text}: unknown code region "${r.text}"${suggest(r.text, this.regions.keys())}`,
                r.pos,
              );
            return r.text;
          });
        }
      } else {
        if (d.count.value > 4)
          this.fail(`interrupts ${d.proc.text}: at most 4, got ${d.count.value}`, d.count.pos);
        cpu.interrupts = d.count.value;
      }
    }
  }

  // -- compile once: the machine's checks, at the statements' positions ------------------------

  private validate(f: FileNode): void {
    try {
      compile(this.spec);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      const prefix = e.pos ? `${e.scenario}:${e.pos.line}:${e.pos.column}: ` : `${e.scenario}: `;
      const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
      this.fail(reason, e.pos ?? f.initPos);
    }
  }

  // -- the final condition ---------------------------------------------------------------------

  private condition(text: string, pos: SourcePos): void {
    const cond = (() => {
      try {
        return parseCondition(text, pos.line, pos.column);
      } catch (e) {
        if (e instanceof ConditionError)
          this.fail(e.message.replace(/^\d+:\d+: /, ""), { line: e.line, column: e.column });
        throw e;
      }
    })();
    const local = new LineMap(text);
    const posAt = (off: number): SourcePos => {
      const p = local.pos(off);
      return p.line === 1
        ? { line: pos.line, column: pos.column + p.column - 1 }
        : { line: pos.line + p.line - 1, column: p.column };
    };
    let from = 0;
    const find = (s: string): SourcePos => {
      const i = text.indexOf(s, from);
      if (i >= 0) from = i + s.length;
      return posAt(i >= 0 ? i : 0);
    };
    const walk = (e: CondExpr): void => {
      if (e.k === "not") return walk(e.e);
      if (e.k === "and" || e.k === "or") {
        walk(e.a);
        walk(e.b);
        return;
      }
      if (e.k !== "atom") return;
      const at = find(e.lhs);
      const m = /^(\d+):(\w+)$/.exec(e.lhs);
      let kind: "data" | "call";
      if (m) {
        const cpu = Number(m[1]);
        if (cpu >= this.spec.cpus.length)
          this.fail(`the condition reads ${e.lhs}, but there is no P${cpu}`, at);
        const k = this.regs[cpu].get(m[2]);
        if (!k) {
          const have = [...this.regs[cpu].keys()].map((r) => `${cpu}:${r}`);
          this.fail(
            `the condition reads ${e.lhs}, which P${cpu} never assigns${have.length ? ` (it has ${have.join(", ")})` : ""}`,
            at,
          );
        }
        kind = k;
      } else if (this.data.has(e.lhs)) kind = "data";
      else
        this.fail(
          `the condition reads "${e.lhs}", which is neither a register (like 1:r0) nor a data location`,
          at,
        );
      const rat = find(e.rhs);
      if (kind === "data" && !/^\d+$/.test(e.rhs))
        this.fail(`${e.lhs} holds a number, not "${e.rhs}"`, rat);
      if (kind === "call") {
        const base = e.rhs.replace(/^spurious-fault\+/, "");
        if (!CALL_RESULTS.includes(base)) {
          const all = [...CALL_RESULTS, ...CALL_RESULTS.map((r) => `spurious-fault+${r}`)];
          this.fail(
            `${e.lhs} is a call result: "${e.rhs}" is not one of ${CALL_RESULTS.join(", ")} (optionally spurious-fault+...)${suggest(e.rhs, all)}`,
            rat,
          );
        }
      }
    };
    walk(cond.expr);
    this.spec.condition = cond.text;
  }
}
