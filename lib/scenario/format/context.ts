/**
 * The StatementContext handlers of statements.ts get for one process: the file's names, the
 * argument checks and the errors at the statement's position.
 */
import type { SourcePos } from "../../model";
import { MAX_REGISTERS, MAX_VALUE } from "../spec";
import { suggest } from "./errors";
import type { ParseState } from "./state";
import type { StatementArg, StatementContext } from "./statements";

/** How an argument is named in an error. */
function argDesc(a: StatementArg): string {
  return a.kind === "string"
    ? `the string ${a.text}`
    : a.kind === "number"
      ? `the number ${a.text}`
      : `"${a.text}"`;
}

/** The context of process `cpu`; `here` is the statement being read. */
export function statementContext(
  st: ParseState,
  cpu: number,
  here: () => SourcePos,
): StatementContext {
  return {
    arch: st.spec.arch,
    isData: (n) => st.data.has(n),
    isRegion: (n) => st.regions.has(n),
    isPage: (n) => st.pageNames.has(n),
    isFrame: (n) => st.frameNames.has(n),
    versionsOf: (r) => st.regions.get(r)?.versions ?? [],
    fail: (m, at) => st.fail(m, at ?? here()),
    arity: (call, min, max, usage) => {
      const n = call.args.length;
      if (n < min || n > max) {
        const want =
          min === max ? `${min}` : max === min + 1 ? `${min} or ${max}` : `${min} to ${max}`;
        st.fail(
          `${call.name} takes ${want} argument${max === 1 ? "" : "s"}, got ${n}: ${usage}`,
          call.pos,
        );
      }
    },
    location: (a, what) => {
      if (a.kind !== "name" || a.offset !== undefined)
        st.fail(`${what}: expected a data location, found ${argDesc(a)}`, a.pos);
      const n = a.name!;
      if (st.data.has(n)) return n;
      if (st.regions.has(n))
        st.fail(
          `${what}: "${n}" is a code region, not a data location (write code with text_write(${n}, VERSION))`,
          a.pos,
        );
      st.fail(
        `${what}: unknown location "${n}" (declare it in the initial state: ${n} = 0;)${suggest(n, st.data.keys())}`,
        a.pos,
      );
    },
    number: (a, what) => {
      if (a.kind !== "number") st.fail(`${what}: expected a number, found ${argDesc(a)}`, a.pos);
      if (a.value! > MAX_VALUE) st.fail(`${what}: must be 0..${MAX_VALUE}, got ${a.value}`, a.pos);
      return a.value!;
    },
    code: (a, what) => {
      if (a.kind !== "name" || a.deref)
        st.fail(`${what}: expected a code region (f or f+1), found ${argDesc(a)}`, a.pos);
      const n = a.name!;
      const r = st.regions.get(n);
      if (!r) {
        if (st.data.has(n)) st.fail(`${what}: "${n}" is a data location, not a code region`, a.pos);
        st.fail(`${what}: unknown code region "${n}"${suggest(n, st.regions.keys())}`, a.pos);
      }
      if (a.offset !== undefined && a.offset >= r.lines) {
        st.fail(
          `${what}: ${a.text}: line out of range (${n} has ${r.lines} line${r.lines > 1 ? "s" : ""})`,
          a.pos,
        );
      }
      return a.offset === undefined ? { region: n } : { region: n, line: a.offset };
    },
    word: (a, what) => {
      if (a.kind !== "name" || a.deref || a.offset !== undefined)
        st.fail(`${what}: expected a name, found ${argDesc(a)}`, a.pos);
      return a.name!;
    },
    result: (call, usage) => {
      if (!call.result)
        st.fail(`${call.name}() yields a value: assign it to a register, ${usage}`, call.pos);
      const r = call.result;
      if (st.data.has(r.name))
        st.fail(`"${r.name}" is a data location; registers are local (r0, r1...)`, r.pos);
      const kind = call.name === "READ_ONCE" || call.name === "smp_load_acquire" ? "data" : "call";
      const regs = st.regs[cpu];
      const had = regs.get(r.name);
      if (had && had !== kind)
        st.fail(`P${cpu}: register ${r.name} holds both data and a call result`, r.pos);
      if (!had && regs.size >= MAX_REGISTERS)
        st.fail(
          `P${cpu}: register ${r.name} is one too many: at most ${MAX_REGISTERS} registers per process`,
          r.pos,
        );
      regs.set(r.name, kind);
      return r.name;
    },
    noResult: (call) => {
      if (call.result)
        st.fail(`${call.name}() yields no value to assign to ${call.result.name}`, call.result.pos);
    },
  };
}
