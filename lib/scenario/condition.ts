/**
 * Final conditions in litmus syntax (herd7 and tools/memory-model): `exists (1:r0=stale)`,
 * `~exists (...)`, `forall (...)`, with `/\`, `\/`, `~` and parentheses.
 */
import type { Observation } from "../model";

export type CondExpr =
  | { k: "atom"; lhs: string; op: "=" | "!="; rhs: string }
  | { k: "not"; e: CondExpr }
  | { k: "and"; a: CondExpr; b: CondExpr }
  | { k: "or"; a: CondExpr; b: CondExpr }
  | { k: "const"; v: boolean };

export interface Condition {
  quantifier: "exists" | "~exists" | "forall";
  expr: CondExpr;
  text: string;
}

/** A condition that does not parse; the message starts with `line:column:`. */
export class ConditionError extends Error {
  constructor(
    message: string,
    public readonly line: number,
    public readonly column: number,
  ) {
    super(`${line}:${column}: ${message}`);
    this.name = "ConditionError";
  }
}

/** How deep `~` and parentheses may nest in a condition. */
export const MAX_CONDITION_NESTING = 100;

/** Parse a condition; `line`/`column` give the position of its first character in a file. */
export function parseCondition(src: string, line = 1, column = 1): Condition {
  let i = 0;
  let depth = 0;
  const pos = (at: number) => {
    let l = line;
    let c = column;
    for (let j = 0; j < at && j < src.length; j++) {
      if (src[j] === "\n") {
        l++;
        c = 1;
      } else c++;
    }
    return [l, c] as const;
  };
  const fail = (msg: string, at = i): never => {
    const [l, c] = pos(at);
    throw new ConditionError(msg, l, c);
  };
  const ws = () => {
    for (;;) {
      const c = src.charCodeAt(i);
      if (c === 32 || (c >= 9 && c <= 13)) i++;
      else if (c > 127 && /\s/.test(src[i])) i++;
      else return;
    }
  };
  const peek = (s: string) => {
    ws();
    return src.startsWith(s, i);
  };
  const eat = (s: string) => {
    if (!peek(s)) fail(`expected "${s}"`);
    i += s.length;
  };
  ws();
  let quantifier: Condition["quantifier"];
  if (src.startsWith("~exists", i)) {
    quantifier = "~exists";
    i += 7;
  } else if (src.startsWith("exists", i)) {
    quantifier = "exists";
    i += 6;
  } else if (src.startsWith("forall", i)) {
    quantifier = "forall";
    i += 6;
  } else return fail('a condition starts with "exists", "~exists" or "forall"');
  // [A-Za-z0-9_+\-.:[\]]
  const word = (c: number) =>
    (c >= 48 && c <= 58) || // 0-9 and ":"
    (c >= 65 && c <= 93 && c !== 92) || // A-Z, "[", "]"
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 43 ||
    c === 45 ||
    c === 46;
  const token = (what: string) => {
    ws();
    const s = i;
    while (i < src.length && word(src.charCodeAt(i))) i++;
    if (i === s) fail(`expected ${what}`);
    return src.slice(s, i);
  };
  const unary = (): CondExpr => {
    ws();
    if (src[i] === "~" || src[i] === "(") {
      if (depth >= MAX_CONDITION_NESTING)
        fail(`the condition nests "~" and parentheses more than ${MAX_CONDITION_NESTING} deep`);
      depth++;
      const open = src[i++];
      let e: CondExpr;
      if (open === "~") e = { k: "not", e: unary() };
      else {
        e = disj();
        eat(")");
      }
      depth--;
      return e;
    }
    const at = i;
    const lhs = token("a register (like 1:r0) or a location");
    if (lhs === "true" || lhs === "false") return { k: "const", v: lhs === "true" };
    ws();
    let op: "=" | "!=";
    if (src.startsWith("!=", i)) {
      op = "!=";
      i += 2;
    } else if (src[i] === "=") {
      op = "=";
      i++;
    } else return fail(`expected "=" after "${lhs}"`);
    const rhs = token(`a value for ${lhs}`);
    void at;
    return { k: "atom", lhs: lhs.replace(/^\[(.*)\]$/, "$1"), op, rhs };
  };
  // A chain a /\ b /\ c ... becomes a balanced tree (and/or are associative), so walking
  // it needs a stack as deep as the logarithm of its length, not the length.
  const balanced = (k: "and" | "or", xs: CondExpr[], lo = 0, hi = xs.length): CondExpr => {
    if (hi - lo === 1) return xs[lo];
    const mid = (lo + hi) >> 1;
    return { k, a: balanced(k, xs, lo, mid), b: balanced(k, xs, mid, hi) };
  };
  // `operand (op operand)*`, for /\ over unary terms and \/ over conjunctions.
  const chain = (k: "and" | "or", op: string, operand: () => CondExpr) => (): CondExpr => {
    const xs = [operand()];
    while (peek(op)) {
      i += op.length;
      xs.push(operand());
    }
    return balanced(k, xs);
  };
  const conj = chain("and", "/\\", unary);
  const disj = chain("or", "\\/", conj);
  const expr = disj();
  ws();
  if (i < src.length) fail(`unexpected "${src.slice(i, i + 10)}"`);
  return { quantifier, expr, text: src.trim() };
}

/** Names an expression reads (registers like "1:r0" and locations). */
export function conditionNames(e: CondExpr): string[] {
  switch (e.k) {
    case "atom":
      return [e.lhs];
    case "not":
      return conditionNames(e.e);
    case "and":
    case "or":
      return [...conditionNames(e.a), ...conditionNames(e.b)];
    case "const":
      return [];
  }
}

/**
 * Evaluate a condition expression on the observed `values` (name -> value), comparing through
 * `normalise` (e.g. version aliases).
 * @throws {Error} when the expression reads a name that `values` does not have.
 */
export function evalCondition(
  e: CondExpr,
  values: Record<string, string>,
  normalise: (name: string, v: string) => string = (_n, v) => v,
): boolean {
  switch (e.k) {
    case "atom": {
      const v = values[e.lhs];
      if (v === undefined)
        throw new Error(`the condition reads "${e.lhs}", which the scenario does not observe`);
      const eq = normalise(e.lhs, v) === normalise(e.lhs, e.rhs);
      return e.op === "=" ? eq : !eq;
    }
    case "not":
      return !evalCondition(e.e, values, normalise);
    case "and":
      return evalCondition(e.a, values, normalise) && evalCondition(e.b, values, normalise);
    case "or":
      return evalCondition(e.a, values, normalise) || evalCondition(e.b, values, normalise);
    case "const":
      return e.v;
  }
}

/** herd7's observation of the condition's predicate over final states. */
export function observation(satisfied: number, total: number): Observation {
  if (satisfied === 0) return "Never";
  if (satisfied === total) return "Always";
  return "Sometimes";
}
