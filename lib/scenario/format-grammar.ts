/**
 * Syntax of the litmus-style scenario format (docs/scenario-format.md): an Ohm grammar and the
 * conversion of its parse tree into a small plain AST with source positions. Meaning (which
 * statement does what, which names exist) is given by format.ts and format-statements.ts.
 *
 * Internal module: nothing from ohm-js appears in an exported signature.
 */
import * as ohm from "ohm-js";
import type { SourcePos } from "./spec";

export const GRAMMAR_SOURCE = String.raw`
ExecmemLitmus {
  File = Header Directive* Init Proc* Locations? Final? end

  Header = "C" testName
  testName (a test name) = (~space any)+

  Directive = ArchDir | SpeculateDir | InterruptsDir | HandledDir
  ArchDir = kw<"arch"> archName ";"?
  SpeculateDir = kw<"speculate"> procName NonemptyListOf<ident, ","> ";"?
  InterruptsDir = kw<"interrupts"> procName number ";"?
  HandledDir = kw<"handled"> NonemptyListOf<ident, ","> ";"?
  archName (an architecture name) = (alnum | "+" | "-" | "_" | ".")+

  Init = "{" InitItem* "}"
  InitItem = CodeDecl | PageDecl | FrameDecl | DataDecl
  CodeDecl = kw<"code"> ident LineCount? "=" Content Attr* ";"
  LineCount = "[" number "]"
  Content = "{" NonemptyListOf<ident, ","> "}"  -- perLine
          | ident                                -- all
  PageDecl = kw<"page"> ident "=" ident Attr* ";"
  FrameDecl = kw<"frame"> ident "=" ident Attr* ";"
  Attr = ident "(" ListOf<AttrArg, ","> ")"
  AttrArg = ident "=" ident  -- kv
          | ident            -- plain
  DataDecl = ctype* ident DataInit? ";"
  DataInit = "=" number

  Proc = procName "(" ListOf<Param, ","> ")" Block
  Param = ident Pointee*
  Pointee = "*"* ident
  Block = "{" Stmt* "}"
  Stmt = While | Unsupported | Decl | Assign | CallStmt | Block | EmptyStmt | OtherAssign
  EmptyStmt = ";"
  Decl = ctype+ ListOf<DeclItem, ","> ";"
  DeclItem = "*"* ident
  While = kw<"while"> "(" WaitCond ")" WaitBody
  WaitBody = ";"            -- empty
           | "{" Stmt* "}"  -- block
           | Call ";"       -- call
  WaitCond = "!" Call          -- not
           | Call "!=" number  -- ne
           | Call "==" number  -- eq
           | Call              -- truthy
  Unsupported = unsupportedKw (~";" ~"{" ~"}" any)* (Block | ";")
  Assign = ident "=" Call ";"
  CallStmt = Call ";"
  OtherAssign = ident "=" (~";" ~"}" any)+ ";"
  Call = ~reserved ident "(" ListOf<Arg, ","> ")"
  Arg = string        -- string
      | number        -- number
      | Ref           -- ref
  Ref = refPrefix? ident Offset?
  refPrefix = "*" | "&"
  Offset = "+" number

  Locations = kw<"locations"> "[" (~"]" any)* "]"
  Final = finalText
  finalText = ("~exists" | "exists" | "forall") any*

  reserved = kw<"while"> | unsupportedKw | ctype
  unsupportedKw = kw<"if"> | kw<"else"> | kw<"for"> | kw<"do"> | kw<"switch"> | kw<"goto"> | kw<"return">
  ctype = kw<"int"> | kw<"unsigned"> | kw<"long"> | kw<"atomic_t"> | kw<"u8"> | kw<"u32"> | kw<"u64">
  procName (a process name like P0) = "P" digit+
  ident (an identifier) = ~digit (alnum | "_")+
  number (a number) = digit+
  string (a string) = "\"" (~"\"" ~"\n" any)* "\""
  kw<w> = w ~(alnum | "_")
}
`;

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
  { ok: true; file: FileNode } | { ok: false; pos: SourcePos; offset: number; expected: string };

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

let grammar: ohm.Grammar | undefined;
let semantics: ohm.Semantics | undefined;

function build(): { g: ohm.Grammar; s: ohm.Semantics } {
  if (grammar && semantics) return { g: grammar, s: semantics };
  const g = ohm.grammar(GRAMMAR_SOURCE);
  const s = g.createSemantics();
  // `lm` is set per parse (the semantics are shared, parses are synchronous).
  const at = (n: ohm.Node): SourcePos => current!.pos(n.source.startIdx);
  const endOf = (n: ohm.Node): SourcePos => current!.pos(n.source.endIdx);
  const name = (n: ohm.Node): Name => ({ text: n.sourceString, pos: at(n) });
  const list = <T>(n: ohm.Node): T[] => n.asIteration().children.map((c) => c.ast() as T);
  const opt = <T>(n: ohm.Node): T | undefined =>
    n.children.length ? (n.children[0].ast() as T) : undefined;
  const num = (n: ohm.Node) => ({ value: Number(n.sourceString), pos: at(n) });
  s.addOperation<unknown>("ast", {
    File(header, directives, init, procs, _locations, final, _end) {
      const h = header.ast() as Name;
      const i = init.ast() as { items: InitNode[]; pos: SourcePos };
      return {
        name: h,
        headerPos: at(header),
        directives: directives.children.map((d) => d.ast()),
        init: i.items,
        initPos: i.pos,
        procs: procs.children.map((p) => p.ast()),
        final: opt(final),
      } satisfies FileNode;
    },
    Header(_c, n) {
      return name(n);
    },
    ArchDir(_kw, n, _semi) {
      return { k: "arch", value: name(n), pos: at(this) } satisfies DirectiveNode;
    },
    SpeculateDir(_kw, p, regions, _semi) {
      const rs = regions.asIteration().children.map(name);
      return { k: "speculate", proc: name(p), regions: rs, pos: at(this) } satisfies DirectiveNode;
    },
    InterruptsDir(_kw, p, n, _semi) {
      return {
        k: "interrupts",
        proc: name(p),
        count: num(n),
        pos: at(this),
      } satisfies DirectiveNode;
    },
    HandledDir(_kw, classes, _semi) {
      const cs = classes.asIteration().children.map(name);
      return { k: "handled", classes: cs, pos: at(this) } satisfies DirectiveNode;
    },
    Init(_open, items, _close) {
      return { items: items.children.map((c) => c.ast()), pos: at(this) };
    },
    CodeDecl(_kw, n, lines, _eq, content, attrs, _semi) {
      const c = content.ast() as Name | Name[];
      return {
        k: "code",
        name: name(n),
        lines: lines.children.length ? num(lines.children[0].children[1]) : undefined,
        content: c,
        contentPos: at(content),
        attrs: attrs.children.map((a) => a.ast()),
        pos: at(this),
      } satisfies InitNode;
    },
    Content_perLine(_o, l, _c) {
      return l.asIteration().children.map(name);
    },
    Content_all(n) {
      return name(n);
    },
    PageDecl(_kw, n, _eq, v, attrs, _semi) {
      return {
        k: "page",
        name: name(n),
        value: name(v),
        attrs: attrs.children.map((a) => a.ast()),
        pos: at(this),
      } satisfies InitNode;
    },
    FrameDecl(_kw, n, _eq, v, attrs, _semi) {
      return {
        k: "frame",
        name: name(n),
        value: name(v),
        attrs: attrs.children.map((a) => a.ast()),
        pos: at(this),
      } satisfies InitNode;
    },
    Attr(n, _o, args, _c) {
      return { name: name(n), args: list(args), pos: at(this) } satisfies AttrNode;
    },
    AttrArg_kv(k, _eq, v) {
      return { key: name(k), value: name(v) };
    },
    AttrArg_plain(v) {
      return { value: name(v) };
    },
    DataDecl(_types, n, init, _semi) {
      const v = init.children.length ? num(init.children[0].children[1]) : undefined;
      return { k: "data", name: name(n), value: v, pos: at(n) } satisfies InitNode;
    },
    Proc(n, _o, params, _c, block) {
      return {
        name: name(n),
        params: list<Name | null>(params).filter((p): p is Name => p !== null),
        body: (block.ast() as { body: StmtNode[] }).body,
        pos: at(this),
      } satisfies ProcNode;
    },
    Param(first, rest) {
      const last = rest.children.length
        ? rest.children[rest.children.length - 1].children[1]
        : first;
      return last.sourceString === "void" ? null : name(last);
    },
    Block(_o, stmts, _c) {
      return {
        k: "block",
        body: stmts.children.map((c) => c.ast()),
        pos: at(this),
      } satisfies StmtNode;
    },
    EmptyStmt(_semi) {
      return { k: "empty", pos: at(this) } satisfies StmtNode;
    },
    Decl(_t, _items, _semi) {
      return { k: "decl", pos: at(this) } satisfies StmtNode;
    },
    While(_kw, _o, cond, _c, body) {
      const c = cond.ast() as {
        cond: "not" | "ne" | "eq" | "truthy";
        call: CallNode;
        value?: number;
        valuePos?: SourcePos;
      };
      return { k: "wait", ...c, body: body.ast() as StmtNode[], pos: at(this) } satisfies StmtNode;
    },
    WaitBody_empty(_semi) {
      return [];
    },
    WaitBody_block(_o, stmts, _c) {
      return stmts.children.map((c) => c.ast());
    },
    WaitBody_call(call, _semi) {
      const c = call.ast() as CallNode;
      return [{ k: "call", call: c, pos: c.pos }];
    },
    WaitCond_not(_bang, call) {
      return { cond: "not", call: call.ast() };
    },
    WaitCond_ne(call, _op, n) {
      return { cond: "ne", call: call.ast(), value: Number(n.sourceString), valuePos: at(n) };
    },
    WaitCond_eq(call, _op, n) {
      return { cond: "eq", call: call.ast(), value: Number(n.sourceString), valuePos: at(n) };
    },
    WaitCond_truthy(call) {
      return { cond: "truthy", call: call.ast() };
    },
    Unsupported(kw, _rest, _end) {
      return { k: "unsupported", keyword: kw.sourceString, pos: at(this) } satisfies StmtNode;
    },
    Assign(r, _eq, call, _semi) {
      return { k: "call", call: call.ast(), result: name(r), pos: at(this) } satisfies StmtNode;
    },
    OtherAssign(t, _eq, v, _semi) {
      return {
        k: "assign",
        target: name(t),
        value: v.sourceString.trim(),
        pos: at(this),
      } satisfies StmtNode;
    },
    CallStmt(call, _semi) {
      const c = call.ast() as CallNode;
      return { k: "call", call: c, pos: c.pos } satisfies StmtNode;
    },
    Call(n, _o, args, _c) {
      return {
        name: name(n),
        args: list(args),
        pos: at(this),
        end: endOf(this),
      } satisfies CallNode;
    },
    Arg_string(s) {
      const t = s.sourceString;
      return { kind: "string", text: t, str: t.slice(1, -1), pos: at(this) } satisfies ArgNode;
    },
    Arg_number(n) {
      return {
        kind: "number",
        text: n.sourceString,
        value: Number(n.sourceString),
        pos: at(this),
      } satisfies ArgNode;
    },
    Arg_ref(r) {
      return r.ast();
    },
    Ref(prefix, id, offset) {
      return {
        kind: "name",
        text: this.sourceString,
        name: id.sourceString,
        deref: prefix.children.length > 0 ? true : undefined,
        offset: offset.children.length
          ? Number(offset.children[0].children[1].sourceString)
          : undefined,
        pos: at(this),
      } satisfies ArgNode;
    },
    Final(t) {
      return { text: t.sourceString, pos: at(t) };
    },
  });
  grammar = g;
  semantics = s;
  return { g, s };
}

let current: LineMap | undefined;

/** Parses the (comment-blanked) text. Positions refer to `lines`. */
export function parseSyntax(text: string, lines: LineMap): SyntaxResult {
  const { g, s } = build();
  const m = g.match(text);
  if (m.failed()) {
    const offset = m.getRightmostFailurePosition();
    return { ok: false, offset, pos: lines.pos(offset), expected: m.getExpectedText() };
  }
  current = lines;
  try {
    return { ok: true, file: s(m).ast() as FileNode };
  } finally {
    current = undefined;
  }
}
