/**
 * The final condition of a scenario file, checked against the file: the registers it reads must
 * be assigned, data locations hold numbers, call registers one of the call results.
 */
import { RESULT_CLASSES, type SourcePos } from "../../model";
import { ConditionError, parseCondition, type CondExpr } from "../condition";
import { suggest } from "./errors";
import { LineMap } from "./lexer";
import type { ParseState } from "./state";

/** Values a call register may hold (callResultText in lib/machine). */
const CALL_RESULTS: readonly string[] = [...RESULT_CLASSES, "none"];

/** Checks the condition `text` (at `pos` in the file) and records it in the spec. */
export function condition(st: ParseState, text: string, pos: SourcePos): void {
  const cond = (() => {
    try {
      return parseCondition(text, pos.line, pos.column);
    } catch (e) {
      if (e instanceof ConditionError)
        st.fail(e.message.replace(/^\d+:\d+: /, ""), { line: e.line, column: e.column });
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
      if (cpu >= st.spec.cpus.length)
        st.fail(`the condition reads ${e.lhs}, but there is no P${cpu}`, at);
      const k = st.regs[cpu].get(m[2]);
      if (!k) {
        const have = [...st.regs[cpu].keys()].map((r) => `${cpu}:${r}`);
        st.fail(
          `the condition reads ${e.lhs}, which P${cpu} never assigns${have.length ? ` (it has ${have.join(", ")})` : ""}`,
          at,
        );
      }
      kind = k;
    } else if (st.data.has(e.lhs)) kind = "data";
    else
      st.fail(
        `the condition reads "${e.lhs}", which is neither a register (like 1:r0) nor a data location`,
        at,
      );
    const rat = find(e.rhs);
    if (kind === "data" && !/^\d+$/.test(e.rhs))
      st.fail(`${e.lhs} holds a number, not "${e.rhs}"`, rat);
    if (kind === "call") {
      const base = e.rhs.replace(/^spurious-fault\+/, "");
      if (!CALL_RESULTS.includes(base)) {
        const all = [...CALL_RESULTS, ...CALL_RESULTS.map((r) => `spurious-fault+${r}`)];
        st.fail(
          `${e.lhs} is a call result: "${e.rhs}" is not one of ${CALL_RESULTS.join(", ")} (optionally spurious-fault+...)${suggest(e.rhs, all)}`,
          rat,
        );
      }
    }
  };
  walk(cond.expr);
  st.spec.condition = cond.text;
}
