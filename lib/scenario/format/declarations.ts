/**
 * The declarations of a scenario file: its header (the Result: line, the doc comment, the arch
 * line), its initial state (data locations, code regions, pages, frames) and the directives
 * after it (speculate, interrupts, handled).
 */
import { architectures } from "../../arch";
import { HANDLEABLE_CLASSES, OBSERVATIONS, type Observation, type SourcePos } from "../../model";
import { MAX_VALUE, type CpuSpec, type FrameSpec, type PageSpec, type RegionSpec } from "../spec";
import type { AttrNode, FileNode, InitNode, Name } from "./ast";
import { suggest } from "./errors";
import type { Comment } from "./lexer";
import type { ParseState } from "./state";
import { permOf, PERM_WORDS } from "./statements";

/** The Result: line and doc from the `(* *)` comments, and the arch line. */
export function header(st: ParseState, f: FileNode, comments: Comment[]): void {
  const docs: string[] = [];
  let result: { value: Observation; pos: SourcePos } | undefined;
  for (const c of comments) {
    const re = /Result:[ \t]*(\S*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(c.text))) {
      const pos = st.lines.pos(c.offset + m.index + m[0].length - m[1].length);
      const v = m[1] as Observation;
      if (!OBSERVATIONS.includes(v))
        st.fail(`Result: must be Never, Sometimes or Always, found "${m[1]}"`, pos);
      if (result) st.fail(`a second "Result:" line (the first is at line ${result.pos.line})`, pos);
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
  if (result) st.spec.expect = result.value;
  if (docs.length) st.spec.doc = docs.join("\n\n");
  const arches = f.directives.filter((d) => d.k === "arch");
  if (arches.length === 0) {
    st.fail(
      `missing "arch NAME" line after "C ${f.name.text}" (known: ${Object.keys(architectures).join(", ")})`,
      f.headerPos,
    );
  }
  if (arches.length > 1) st.fail(`a second "arch" line`, arches[1].pos);
  const a = arches[0];
  if (a.k !== "arch") throw new Error("unreachable");
  if (!architectures[a.value.text]) {
    st.fail(
      `unknown architecture "${a.value.text}" (known: ${Object.keys(architectures).join(", ")})${suggest(a.value.text, Object.keys(architectures))}`,
      a.value.pos,
    );
  }
  st.spec.arch = a.value.text;
}

function declared(st: ParseState, n: Name): void {
  const t = n.text;
  if (st.data.has(t)) st.fail(`"${t}" is already declared as a data location`, n.pos);
  if (st.regions.has(t)) st.fail(`"${t}" is already declared as a code region`, n.pos);
}

function attrs(
  st: ParseState,
  owner: string,
  list: AttrNode[],
  allowed: Record<string, string>,
): Map<string, AttrNode> {
  const m = new Map<string, AttrNode>();
  for (const a of list) {
    const n = a.name.text;
    if (!(n in allowed)) {
      st.fail(
        `unknown attribute ${n}(...) of ${owner} (expected ${Object.values(allowed).join(", ")})`,
        a.name.pos,
      );
    }
    if (m.has(n)) st.fail(`${owner}: ${n}(...) given twice`, a.name.pos);
    m.set(n, a);
  }
  return m;
}

function single(st: ParseState, owner: string, a: AttrNode): Name {
  if (a.args.length !== 1 || a.args[0].key)
    st.fail(`${owner}: ${a.name.text}(...) takes one name`, a.pos);
  return a.args[0].value;
}

/** The initial state `{ ... }` and the locations LKMM process parameters declare. */
export function initialState(st: ParseState, f: FileNode): void {
  const pages: { node: Extract<InitNode, { k: "page" }> }[] = [];
  const frames: Extract<InitNode, { k: "frame" }>[] = [];
  for (const it of f.init) {
    switch (it.k) {
      case "data": {
        declared(st, it.name);
        const v = it.value?.value ?? 0;
        if (v > MAX_VALUE)
          st.fail(
            `data location "${it.name.text}": initial value must be 0..${MAX_VALUE}, got ${v}`,
            it.value!.pos,
          );
        st.data.set(it.name.text, v);
        st.spec.data[it.name.text] = v;
        break;
      }
      case "code":
        codeDecl(st, it);
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
      if (!st.data.has(n.text) && !st.regions.has(n.text)) {
        st.data.set(n.text, 0);
        st.spec.data[n.text] = 0;
      }
    }
  }
  for (const r of st.regions.values()) st.pageNames.add(r.page ?? r.name);
  for (const p of st.pageNames) st.frameNames.add(p);
  // Frames first: a page may map an extra frame.
  const frameSpecs: FrameSpec[] = [];
  for (const fr of frames) {
    const owner = `frame ${fr.name.text}`;
    if (st.frameNames.has(fr.name.text)) {
      st.fail(
        `frame "${fr.name.text}" is already declared (every page has a frame of its own name)`,
        fr.name.pos,
      );
    }
    if (st.data.has(fr.name.text) || st.regions.has(fr.name.text))
      st.fail(`"${fr.name.text}" is already declared`, fr.name.pos);
    const at = attrs(st, owner, fr.attrs, { like: "like(page)" });
    const like = at.get("like");
    if (!like) st.fail(`${owner}: say which page's layout it has, like(page)`, fr.pos);
    const p = single(st, owner, like);
    if (!st.pageNames.has(p.text))
      st.fail(`${owner}: like(${p.text}): unknown page "${p.text}"`, p.pos);
    const versions = [...st.regions.values()]
      .filter((r) => (r.page ?? r.name) === p.text)
      .flatMap((r) => r.versions);
    if (fr.value.text !== "trap" && !versions.includes(fr.value.text)) {
      st.fail(
        `${owner}: initial content "${fr.value.text}" is not a version of page ${p.text} (${versions.join(", ")}) or "trap"`,
        fr.value.pos,
      );
    }
    st.frameNames.add(fr.name.text);
    frameSpecs.push({ name: fr.name.text, like: p.text, initial: fr.value.text });
  }
  const pageSpecs: PageSpec[] = [];
  const seenPages = new Set<string>();
  for (const { node: pg } of pages) {
    const owner = `page ${pg.name.text}`;
    if (!st.pageNames.has(pg.name.text)) {
      st.fail(
        `unknown page "${pg.name.text}": a page is named by a region on it (the region's name, or its page(...) attribute)`,
        pg.name.pos,
      );
    }
    if (seenPages.has(pg.name.text)) st.fail(`${owner} is declared twice`, pg.name.pos);
    seenPages.add(pg.name.text);
    const perm = permOf(pg.value.text);
    if (perm === undefined)
      st.fail(
        `${owner}: unknown permissions "${pg.value.text}" (expected ${PERM_WORDS.join(", ")})`,
        pg.value.pos,
      );
    const at = attrs(st, owner, pg.attrs, { frame: "frame(name)", user: "user()" });
    const ps: PageSpec = { name: pg.name.text, perm };
    const ua = at.get("user");
    if (ua) {
      if (ua.args.length) st.fail(`${owner}: user() takes no argument`, ua.pos);
      ps.user = true;
    }
    const fa = at.get("frame");
    if (fa) {
      const fn = single(st, owner, fa);
      if (!st.frameNames.has(fn.text)) st.fail(`${owner}: unknown frame "${fn.text}"`, fn.pos);
      if (perm === "") st.fail(`${owner}: a page that is not present maps no frame`, fn.pos);
      ps.frame = fn.text;
    } else if (perm === "") ps.frame = null;
    pageSpecs.push(ps);
  }
  if (pageSpecs.length) st.spec.pages = pageSpecs;
  if (frameSpecs.length) st.spec.frames = frameSpecs;
}

function codeDecl(st: ParseState, it: Extract<InitNode, { k: "code" }>): void {
  const name = it.name.text;
  const owner = `code ${name}`;
  declared(st, it.name);
  const lines = it.lines?.value ?? 1;
  if (lines < 1 || lines > 16)
    st.fail(`${owner}: a region spans 1..16 lines, got ${lines}`, it.lines!.pos);
  const at = attrs(st, owner, it.attrs, {
    versions: "versions(oldest, ..., newest)",
    page: "page(name)",
    shares: "shares(region)",
    insn: "insn(version=KIND, ...)",
    subline: "subline()",
    interruptible: "interruptible()",
  });
  for (const flag of ["subline", "interruptible"] as const) {
    const fa = at.get(flag);
    if (fa?.args.length) st.fail(`${owner}: ${flag}() takes no argument`, fa.pos);
  }
  const va = at.get("versions");
  if (!va)
    st.fail(`${owner}: list its program versions, oldest first: versions(old, new)`, it.name.pos);
  const versions: string[] = [];
  for (const v of va.args) {
    if (v.key) st.fail(`${owner}: versions(...) takes names`, v.key.pos);
    if (v.value.text === "trap")
      st.fail(`${owner}: "trap" is the trap fill, not a program version`, v.value.pos);
    if (versions.includes(v.value.text))
      st.fail(`${owner}: version "${v.value.text}" is listed twice`, v.value.pos);
    versions.push(v.value.text);
  }
  if (versions.length === 0) st.fail(`${owner}: needs at least one version`, va.pos);
  const content = Array.isArray(it.content) ? it.content : [it.content];
  for (const c of content) {
    if (c.text !== "trap" && !versions.includes(c.text)) {
      st.fail(
        `${owner}: initial content "${c.text}" is not one of its versions (${versions.join(", ")}) or "trap"`,
        c.pos,
      );
    }
  }
  if (Array.isArray(it.content) && it.content.length !== lines) {
    st.fail(
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
  if (pa) r.page = single(st, owner, pa).text;
  if (at.get("subline")) r.subline = true;
  if (at.get("interruptible")) r.interruptible = true;
  const sa = at.get("shares");
  if (sa) {
    const s = single(st, owner, sa);
    const other = st.regions.get(s.text);
    if (!other) st.fail(`${owner}: shares(${s.text}) must name a region declared before it`, s.pos);
    if ((other.page ?? other.name) !== (r.page ?? r.name)) {
      st.fail(
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
        st.fail(
          `${owner}: insn(...) takes version=KIND pairs, like insn(old=B, new=NOP)`,
          kv.value.pos,
        );
      if (!versions.includes(kv.key.text))
        st.fail(`${owner}: insn(${kv.key.text}=...): unknown version "${kv.key.text}"`, kv.key.pos);
      insn[kv.key.text] = kv.value.text;
    }
    r.insn = insn;
  }
  st.regions.set(name, r);
  st.spec.regions.push(r);
}

/** The directives (after the processes, so P numbers can be checked). */
export function directives(st: ParseState, f: FileNode): void {
  const seen = new Set<string>();
  for (const d of f.directives) {
    if (d.k === "arch") continue;
    if (d.k === "handled") {
      for (const c of d.classes)
        if (!HANDLEABLE_CLASSES.some((h) => h === c.text))
          st.fail(
            `handled: "${c.text}" is not an outcome a scenario can declare handled (${HANDLEABLE_CLASSES.join(", ")})`,
            c.pos,
          );
      st.spec.handled = [...new Set([...(st.spec.handled ?? []), ...d.classes.map((c) => c.text)])];
      continue;
    }
    const m = /^P(\d+)$/.exec(d.proc.text)!;
    const i = Number(m[1]);
    if (i >= st.spec.cpus.length)
      st.fail(
        `${d.k}: ${d.proc.text} is not a process of this file (it has P0..P${st.spec.cpus.length - 1})`,
        d.proc.pos,
      );
    const key = `${d.k} ${i}`;
    if (seen.has(key)) st.fail(`a second "${d.k} ${d.proc.text}" line`, d.pos);
    seen.add(key);
    const cpu: CpuSpec = st.spec.cpus[i];
    if (d.k === "speculate") {
      if (d.regions.length === 1 && d.regions[0].text === "none") cpu.speculate = [];
      else {
        cpu.speculate = d.regions.map((r) => {
          if (!st.regions.has(r.text))
            st.fail(
              `speculate ${d.proc.text}: unknown code region "${r.text}"${suggest(r.text, st.regions.keys())}`,
              r.pos,
            );
          return r.text;
        });
      }
    } else {
      if (d.count.value > 4)
        st.fail(`interrupts ${d.proc.text}: at most 4, got ${d.count.value}`, d.count.pos);
      cpu.interrupts = d.count.value;
    }
  }
}
