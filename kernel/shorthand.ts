/**
 * Shorthand properties in a cell (`{ cpus }`), written out before tslab compiles it.
 *
 * tslab 1.0.22 rewrites each reference to an earlier cell's variable as `exports.name`
 * (converter.js, `wrapPrevIdentifier`), but asks the checker for the symbol at the name of a
 * shorthand property, which is the property's symbol, not the variable's: the compiled cell then
 * refers to an undeclared `cpus`. `{ cpus: cpus }` means the same in every position a shorthand
 * can stand (object literals, destructuring assignments, with or without `= default`), and tslab
 * rewrites its value as it should.
 */

/** The part of TypeScript's API used here (tslab's own copy is passed in). */
export interface ShorthandParser {
  createSourceFile(fileName: string, text: string, target: number, setParents: boolean): unknown;
  forEachChild<T>(node: unknown, cb: (node: unknown) => T | undefined): T | undefined;
  isShorthandPropertyAssignment(node: unknown): boolean;
  ScriptTarget: { Latest: number };
}

interface ShorthandNode {
  name: { end: number; text: string };
}

/** `src` with every shorthand property written out; `src` itself when it has none. */
export function expandShorthand(ts: ShorthandParser, src: string): string {
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, true);
  const names: ShorthandNode["name"][] = [];
  const visit = (node: unknown): undefined => {
    if (ts.isShorthandPropertyAssignment(node)) names.push((node as ShorthandNode).name);
    ts.forEachChild(node, visit);
    return undefined;
  };
  visit(file);
  if (names.length === 0) return src;
  let out = "";
  let at = 0;
  for (const name of names) {
    out += src.slice(at, name.end) + ": " + name.text;
    at = name.end;
  }
  return out + src.slice(at);
}

/**
 * A converter's `convert` that compiles the written-out cell, and the cell as written when that
 * reports a diagnostic (so its positions are the user's).
 */
export function convertExpanded<R extends { diagnostics?: unknown[] } | undefined>(
  ts: ShorthandParser,
  convert: (prevDecl: string, src: string) => R,
): (prevDecl: string, src: string) => R {
  return (prevDecl, src) => {
    const wide = expandShorthand(ts, src);
    if (wide === src) return convert(prevDecl, src);
    const r = convert(prevDecl, wide);
    return r?.diagnostics?.length ? convert(prevDecl, src) : r;
  };
}
