/**
 * Syntax of the litmus-style scenario format (docs/scenario-format.md): a recursive-descent
 * parser producing a small plain AST with source positions. Meaning (which statement does what,
 * which names exist) is given by format.ts and format-statements.ts.
 *
 * The grammar, in PEG notation (spaces may separate the tokens of capitalised rules):
 *
 *   File      = Header Directive* Init Proc* Locations? Final? end
 *   Header    = "C" testName                      testName = (~space any)+
 *   Directive = "arch" archName ";"? | "speculate" procName ident ("," ident)* ";"?
 *             | "interrupts" procName number ";"? | "handled" ident ("," ident)* ";"?
 *   Init      = "{" (CodeDecl | PageDecl | FrameDecl | DataDecl)* "}"
 *   CodeDecl  = "code" ident ("[" number "]")? "=" ("{" ident ("," ident)* "}" | ident) Attr* ";"
 *   PageDecl  = "page" ident "=" ident Attr* ";"   FrameDecl = "frame" ident "=" ident Attr* ";"
 *   Attr      = ident "(" ((ident "=")? ident) list ")"
 *   DataDecl  = ctype* ident ("=" number)? ";"
 *   Proc      = procName "(" (ident ("*"* ident)*) list ")" Block
 *   Block     = "{" Stmt* "}"
 *   Stmt      = While | Unsupported | Decl | Assign | CallStmt | Block | ";" | OtherAssign
 *   While     = "while" "(" ("!" Call | Call "!=" number | Call "==" number | Call) ")"
 *               (";" | "{" Stmt* "}" | Call ";")
 *   Unsupported = ("if" | "else" | "for" | "do" | "switch" | "goto" | "return")
 *               (~";" ~"{" ~"}" any)* (Block | ";")
 *   Decl      = ctype+ ("*"* ident) list ";"       Assign = ident "=" Call ";"
 *   CallStmt  = Call ";"                          OtherAssign = ident "=" (~";" ~"}" any)+ ";"
 *   Call      = ~reserved ident "(" (string | number | ("*" | "&")? ident ("+" number)?) list ")"
 *   Locations = "locations" "[" (~"]" any)* "]"   Final = ("~exists" | "exists" | "forall") any*
 *
 * It runs in time and memory linear in the text; blocks nest at most MAX_NESTING deep (the
 * error names the position), so no input can exhaust the stack.
 */
import type { SourcePos } from "../model";

/** How deep blocks may nest in a process. */
export const MAX_NESTING = 100;

// ---- the AST ---------------------------------------------------------------------------------

export interface Name {
  text: string;
  pos: SourcePos;
}

export interface ArgNode {
  kind: "name" | "number" | "string";
  /** Source text as written. */
  text: string;
  /** Identifier (kind "name"), decimal value (kind "number") or contents (kind "string"). */
  name?: string;
  value?: number;
  str?: string;
  /** Written with a leading `*` or `&`. */
  deref?: boolean;
  /** `f+1`: the number after the plus. */
  offset?: number;
  pos: SourcePos;
}

export interface CallNode {
  name: Name;
  args: ArgNode[];
  pos: SourcePos;
  /** Position just after the closing parenthesis. */
  end: SourcePos;
}

export type StmtNode =
  | { k: "call"; call: CallNode; result?: Name; pos: SourcePos }
  | {
      k: "wait";
      cond: "not" | "ne" | "eq" | "truthy";
      call: CallNode;
      value?: number;
      valuePos?: SourcePos;
      body: StmtNode[];
      pos: SourcePos;
    }
  | { k: "block"; body: StmtNode[]; pos: SourcePos }
  | { k: "decl"; pos: SourcePos }
  | { k: "empty"; pos: SourcePos }
  | { k: "unsupported"; keyword: string; pos: SourcePos }
  | { k: "assign"; target: Name; value: string; pos: SourcePos };

export interface AttrNode {
  name: Name;
  args: { key?: Name; value: Name }[];
  pos: SourcePos;
}

export type InitNode =
  | {
      k: "code";
      name: Name;
      lines?: { value: number; pos: SourcePos };
      content: Name | Name[];
      contentPos: SourcePos;
      attrs: AttrNode[];
      pos: SourcePos;
    }
  | { k: "page"; name: Name; value: Name; attrs: AttrNode[]; pos: SourcePos }
  | { k: "frame"; name: Name; value: Name; attrs: AttrNode[]; pos: SourcePos }
  | { k: "data"; name: Name; value?: { value: number; pos: SourcePos }; pos: SourcePos };

export type DirectiveNode =
  | { k: "arch"; value: Name; pos: SourcePos }
  | { k: "speculate"; proc: Name; regions: Name[]; pos: SourcePos }
  | { k: "interrupts"; proc: Name; count: { value: number; pos: SourcePos }; pos: SourcePos }
  | { k: "handled"; classes: Name[]; pos: SourcePos };

export interface ProcNode {
  name: Name;
  /** The parameters' names (`int *x` -> x): LKMM declares shared locations this way. */
  params: Name[];
  body: StmtNode[];
  pos: SourcePos;
}

export interface FileNode {
  name: Name;
  headerPos: SourcePos;
  directives: DirectiveNode[];
  init: InitNode[];
  initPos: SourcePos;
  procs: ProcNode[];
  /** The final condition's text and the position of its first character. */
  final?: { text: string; pos: SourcePos };
}

export type SyntaxResult =
  | { ok: true; file: FileNode }
  | {
      ok: false;
      pos: SourcePos;
      offset: number;
      /** What would have been accepted there ("\";\" or \"}\""). */
      expected: string;
      /** A complete reason, when the failure is not a missing token. */
      message?: string;
    };

// ---- positions -------------------------------------------------------------------------------

/** Converts character offsets into 1-based line and column. */
export class LineMap {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.starts.push(i + 1);
  }
  pos(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

// ---- the parser ------------------------------------------------------------------------------

class Fail {
  constructor(
    readonly offset: number,
    readonly expected: string[],
    readonly message?: string,
  ) {}
}

const CTYPES = new Set(["int", "unsigned", "long", "atomic_t", "u8", "u32", "u64"]);
const UNSUPPORTED = new Set(["if", "else", "for", "do", "switch", "goto", "return"]);

function isIdChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    (c > 127 && /[\p{L}\p{N}]/u.test(String.fromCharCode(c)))
  );
}
const isDigit = (c: number) => c >= 48 && c <= 57;

/** Or-list as a reader says it: `"a", "b", or "c"`. */
function orList(xs: string[]): string {
  if (xs.length <= 1) return xs[0] ?? "something else";
  if (xs.length === 2) return `${xs[0]} or ${xs[1]}`;
  return `${xs.slice(0, -1).join(", ")}, or ${xs[xs.length - 1]}`;
}

/**
 * A predictive parser over the text. Like a PEG parser it remembers the rightmost position
 * where something was expected and what, which is what a syntax error reports.
 */
class SyntaxParser {
  private i = 0;
  private far = -1;
  private wanted: string[] = [];
  private depth = 0;
  private readonly n: number;

  constructor(
    private readonly s: string,
    private readonly lines: LineMap,
  ) {
    this.n = s.length;
  }

  // -- scanning primitives ---------------------------------------------------------------------

  private at(offset: number): SourcePos {
    return this.lines.pos(offset);
  }
  private ws(): void {
    const s = this.s;
    while (this.i < this.n && s.charCodeAt(this.i) <= 32) this.i++;
  }
  private want(what: string, at = this.i): void {
    if (at < this.far) return;
    if (at > this.far) {
      this.far = at;
      this.wanted = [what];
    } else if (at === this.far && !this.wanted.includes(what)) this.wanted.push(what);
  }
  private die(): never {
    throw new Fail(this.far, this.wanted);
  }
  /** Is the literal next (after spaces)? Records it as expected when not. */
  private peek(t: string): boolean {
    this.ws();
    if (this.s.startsWith(t, this.i)) return true;
    if (this.i >= this.far) this.want(JSON.stringify(t));
    return false;
  }
  private lit(t: string): boolean {
    if (!this.peek(t)) return false;
    this.i += t.length;
    return true;
  }
  private need(t: string): number {
    this.ws();
    const at = this.i;
    if (!this.lit(t)) this.die();
    return at;
  }
  /** The identifier-like word starting here (after spaces), without consuming it. */
  private word(): string {
    this.ws();
    let j = this.i;
    if (j < this.n && isDigit(this.s.charCodeAt(j))) return "";
    while (j < this.n && isIdChar(this.s.charCodeAt(j))) j++;
    return this.s.slice(this.i, j);
  }
  private isKw(w: string): boolean {
    return this.word() === w;
  }
  private kw(w: string): boolean {
    if (this.word() === w) {
      this.i += w.length;
      return true;
    }
    if (this.i >= this.far) this.want(JSON.stringify(w));
    return false;
  }
  private ident(): Name {
    const w = this.word();
    if (!w) {
      this.want("an identifier");
      this.die();
    }
    const pos = this.at(this.i);
    this.i += w.length;
    return { text: w, pos };
  }
  private number(): { value: number; pos: SourcePos } {
    this.ws();
    let j = this.i;
    while (j < this.n && isDigit(this.s.charCodeAt(j))) j++;
    if (j === this.i) {
      this.want("a number");
      this.die();
    }
    const r = { value: Number(this.s.slice(this.i, j)), pos: this.at(this.i) };
    this.i = j;
    return r;
  }
  private procName(): Name {
    this.ws();
    const m = /^P[0-9]+/.exec(this.s.slice(this.i, this.i + 24));
    if (!m) {
      this.want("a process name like P0");
      this.die();
    }
    const pos = this.at(this.i);
    this.i += m[0].length;
    return { text: m[0], pos };
  }
  private isProcName(): boolean {
    this.ws();
    return this.s[this.i] === "P" && isDigit(this.s.charCodeAt(this.i + 1));
  }
  /** Skips to (not past) the first of `stops`; returns how many characters were skipped. */
  private skipUntil(stops: string): number {
    const from = this.i;
    while (this.i < this.n && !stops.includes(this.s[this.i])) this.i++;
    return this.i - from;
  }

  // -- the file --------------------------------------------------------------------------------

  file(): FileNode {
    this.ws();
    const headerPos = this.at(this.i);
    this.need("C");
    this.ws();
    const nameStart = this.i;
    while (this.i < this.n && this.s.charCodeAt(this.i) > 32) this.i++;
    if (this.i === nameStart) {
      this.want("a test name");
      this.die();
    }
    const name: Name = { text: this.s.slice(nameStart, this.i), pos: this.at(nameStart) };
    const directives: DirectiveNode[] = [];
    for (;;) {
      const d = this.directive();
      if (!d) break;
      directives.push(d);
    }
    this.ws();
    const initPos = this.at(this.i);
    this.need("{");
    const init: InitNode[] = [];
    while (!this.lit("}")) {
      if (this.i >= this.n) {
        this.want("an identifier");
        this.die();
      }
      init.push(this.initItem());
    }
    const procs: ProcNode[] = [];
    while (this.isProcName()) procs.push(this.proc());
    this.want("a process name like P0");
    if (this.kw("locations")) {
      this.need("[");
      this.skipUntil("]");
      this.need("]");
    }
    this.ws();
    let final: FileNode["final"];
    const rest = this.s.slice(this.i, this.i + 7);
    if (/^(~exists|exists|forall)/.test(rest)) {
      final = { text: this.s.slice(this.i), pos: this.at(this.i) };
      this.i = this.n;
    } else for (const w of ['"~exists"', '"exists"', '"forall"']) this.want(w);
    this.ws();
    if (this.i < this.n) {
      this.want("end of input");
      this.die();
    }
    return { name, headerPos, directives, init, initPos, procs, final };
  }

  private directive(): DirectiveNode | undefined {
    this.ws();
    const pos = this.at(this.i);
    if (this.kw("arch")) {
      this.ws();
      const from = this.i;
      while (this.i < this.n && /[\p{L}\p{N}+\-_.]/u.test(this.s[this.i])) this.i++;
      if (this.i === from) {
        this.want("an architecture name");
        this.die();
      }
      const value: Name = { text: this.s.slice(from, this.i), pos: this.at(from) };
      this.lit(";");
      return { k: "arch", value, pos };
    }
    if (this.kw("speculate")) {
      const proc = this.procName();
      const regions = [this.ident()];
      while (this.lit(",")) regions.push(this.ident());
      this.lit(";");
      return { k: "speculate", proc, regions, pos };
    }
    if (this.kw("interrupts")) {
      const proc = this.procName();
      const count = this.number();
      this.lit(";");
      return { k: "interrupts", proc, count, pos };
    }
    if (this.kw("handled")) {
      const classes = [this.ident()];
      while (this.lit(",")) classes.push(this.ident());
      this.lit(";");
      return { k: "handled", classes, pos };
    }
    return undefined;
  }

  private attrs(): AttrNode[] {
    const out: AttrNode[] = [];
    while (this.word() && !this.peek(";")) {
      const name = this.ident();
      this.need("(");
      const args: AttrNode["args"] = [];
      if (!this.lit(")")) {
        do {
          const a = this.ident();
          if (this.lit("=")) args.push({ key: a, value: this.ident() });
          else args.push({ value: a });
        } while (this.lit(","));
        this.need(")");
      }
      out.push({ name, args, pos: name.pos });
    }
    return out;
  }

  private initItem(): InitNode {
    this.ws();
    const pos = this.at(this.i);
    const w = this.word();
    // `code`, `page` and `frame` start a declaration when a name follows; else they are data.
    if (w === "code" || w === "page" || w === "frame") {
      const save = this.i;
      this.i += w.length;
      if (this.word()) {
        const name = this.ident();
        if (w === "code") {
          const lines = this.lit("[") ? this.number() : undefined;
          if (lines) this.need("]");
          this.need("=");
          this.ws();
          const contentPos = this.at(this.i);
          let content: Name | Name[];
          if (this.lit("{")) {
            content = [this.ident()];
            while (this.lit(",")) content.push(this.ident());
            this.need("}");
          } else content = this.ident();
          const attrs = this.attrs();
          this.need(";");
          return { k: "code", name, lines, content, contentPos, attrs, pos };
        }
        this.need("=");
        const value = this.ident();
        const attrs = this.attrs();
        this.need(";");
        return { k: w, name, value, attrs, pos };
      }
      this.i = save;
    }
    while (CTYPES.has(this.word())) this.i += this.word().length;
    const name = this.ident();
    const value = this.lit("=") ? this.number() : undefined;
    this.need(";");
    return { k: "data", name, value, pos: name.pos };
  }

  private proc(): ProcNode {
    const name = this.procName();
    this.need("(");
    const params: Name[] = [];
    if (!this.lit(")")) {
      do {
        let last = this.ident();
        for (;;) {
          while (this.lit("*"));
          if (!this.word()) break;
          last = this.ident();
        }
        if (last.text !== "void") params.push(last);
      } while (this.lit(","));
      this.need(")");
    }
    this.ws();
    const at = this.i;
    if (!this.peek("{")) this.die();
    const body = this.block(at);
    return { name, params, body, pos: name.pos };
  }

  /** `{ Stmt* }` from the `{` at `open`. */
  private block(open: number): StmtNode[] {
    if (++this.depth > MAX_NESTING)
      throw new Fail(open, [], `blocks nested more than ${MAX_NESTING} deep`);
    this.i = open + 1;
    const body: StmtNode[] = [];
    while (!this.lit("}")) {
      if (this.i >= this.n) this.die();
      body.push(this.stmt());
    }
    this.depth--;
    return body;
  }

  private stmt(): StmtNode {
    this.ws();
    const start = this.i;
    const pos = this.at(start);
    const w = this.word();
    if (this.s[start] === "{") return { k: "block", body: this.block(start), pos };
    if (this.s[start] === ";") {
      this.i++;
      return { k: "empty", pos };
    }
    if (w === "while") return this.whileStmt(pos);
    if (UNSUPPORTED.has(w)) {
      this.i += w.length;
      this.skipUntil(";{}");
      this.ws();
      if (this.s[this.i] === "{") this.block(this.i);
      else this.need(";");
      return { k: "unsupported", keyword: w, pos };
    }
    if (CTYPES.has(w)) {
      while (CTYPES.has(this.word())) this.i += this.word().length;
      if (this.word() || this.peek("*")) {
        do {
          while (this.lit("*"));
          this.ident();
        } while (this.lit(","));
      }
      this.need(";");
      return { k: "decl", pos };
    }
    if (!w) {
      for (const x of ['"while"', '"{"', '";"', "an identifier"]) this.want(x);
      this.die();
    }
    const target = this.ident();
    if (this.peek("=")) {
      this.i++;
      // Assign (r0 = f();) when a call follows, else some other assignment (reported later).
      const afterEq = this.i;
      const save = { far: this.far, wanted: this.wanted };
      try {
        const call = this.call();
        this.need(";");
        return { k: "call", call, result: target, pos };
      } catch (e) {
        if (!(e instanceof Fail) || e.message) throw e;
        this.i = afterEq;
        this.ws();
        const from = this.i;
        if (this.skipUntil(";}") === 0 || this.s[this.i] !== ";") throw e;
        this.far = save.far;
        this.wanted = save.wanted;
        const value = this.s.slice(from, this.i).trim();
        this.i++;
        return { k: "assign", target, value, pos };
      }
    }
    this.i = start;
    const call = this.call();
    this.need(";");
    return { k: "call", call, pos: call.pos };
  }

  private whileStmt(pos: SourcePos): StmtNode {
    this.i += "while".length;
    this.need("(");
    let cond: "not" | "ne" | "eq" | "truthy" = "truthy";
    if (this.lit("!")) cond = "not";
    const call = this.call();
    let value: number | undefined;
    let valuePos: SourcePos | undefined;
    if (cond === "truthy") {
      if (this.lit("!=")) cond = "ne";
      else if (this.lit("==")) cond = "eq";
      if (cond !== "truthy") ({ value, pos: valuePos } = this.number());
    }
    this.need(")");
    this.ws();
    let body: StmtNode[];
    if (this.lit(";")) body = [];
    else if (this.s[this.i] === "{") body = this.block(this.i);
    else {
      const c = this.call();
      this.need(";");
      body = [{ k: "call", call: c, pos: c.pos }];
    }
    return { k: "wait", cond, call, value, valuePos, body, pos };
  }

  private call(): CallNode {
    const w = this.word();
    if (!w || w === "while" || UNSUPPORTED.has(w) || CTYPES.has(w)) {
      this.want("an identifier");
      this.die();
    }
    const name = this.ident();
    this.need("(");
    const args: ArgNode[] = [];
    if (!this.lit(")")) {
      do args.push(this.arg());
      while (this.lit(","));
      this.need(")");
    }
    return { name, args, pos: name.pos, end: this.at(this.i) };
  }

  private arg(): ArgNode {
    this.ws();
    const start = this.i;
    const pos = this.at(start);
    const c = this.s[start];
    if (c === '"') {
      let j = start + 1;
      while (j < this.n && this.s[j] !== '"' && this.s[j] !== "\n") j++;
      if (this.s[j] !== '"') {
        this.want('"\\""', j);
        this.die();
      }
      this.i = j + 1;
      const text = this.s.slice(start, this.i);
      return { kind: "string", text, str: text.slice(1, -1), pos };
    }
    if (isDigit(this.s.charCodeAt(start))) {
      const { value } = this.number();
      return { kind: "number", text: this.s.slice(start, this.i), value, pos };
    }
    const deref = c === "*" || c === "&" ? true : undefined;
    if (deref) this.i++;
    if (!this.word()) {
      for (const x of ["a string", "a number", "an identifier"]) this.want(x);
      this.die();
    }
    const id = this.ident();
    let offset: number | undefined;
    if (this.lit("+")) offset = this.number().value;
    return { kind: "name", text: this.s.slice(start, this.i), name: id.text, deref, offset, pos };
  }

  result(): SyntaxResult {
    try {
      return { ok: true, file: this.file() };
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      return {
        ok: false,
        offset: e.offset,
        pos: this.at(e.offset),
        expected: orList(e.expected),
        message: e.message,
      };
    }
  }
}

/** Parses the (comment-blanked) text. Positions refer to `lines`. */
export function parseSyntax(text: string, lines: LineMap): SyntaxResult {
  return new SyntaxParser(text, lines).result();
}
