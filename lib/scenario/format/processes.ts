/**
 * The processes of a scenario file: each statement resolved, in order, as a statement of the
 * table (statements.ts), a call of a code region, a kernel routine some architecture implements
 * or an instruction written as a call; spin-waits; the value `while (!x)` waits for.
 */
import type { SourcePos } from "../../model";
import { MAX_CPUS, MAX_VALUE, type Op } from "../spec";
import type { CallNode, FileNode, Name, StmtNode } from "./ast";
import { statementContext } from "./context";
import { suggest } from "./errors";
import type { ParseState } from "./state";
import {
  instructionIndex,
  insnKey,
  lookupStatement,
  runStatement,
  routineNames,
  statementDefs,
  type StatementArg,
  type StatementCall,
  type StatementContext,
} from "./statements";

export class Processes {
  private readonly insns = instructionIndex();
  private readonly routines = routineNames();

  constructor(private readonly st: ParseState) {}

  /** Reads every process into the spec (in order P0, P1, ...). */
  run(f: FileNode): void {
    if (f.procs.length === 0) this.st.fail("no processes: write P0(...) { ... }", f.initPos);
    if (f.procs.length > MAX_CPUS)
      this.st.fail(
        `${f.procs[MAX_CPUS].name.text}: at most ${MAX_CPUS} processes (CPUs) are supported, this file has ${f.procs.length}`,
        f.procs[MAX_CPUS].name.pos,
      );
    f.procs.forEach((p, i) => {
      if (p.name.text !== `P${i}`)
        this.st.fail(
          `expected P${i} here, found ${p.name.text} (processes are numbered P0, P1, ... in order)`,
          p.name.pos,
        );
      this.st.regs[i] = new Map();
      const program: Op[] = [];
      this.body(p.body, i, program);
      this.st.spec.cpus.push({ program });
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
          this.st.fail(
            `"${s.keyword}" is not supported: a process is straight-line code with spin-waits (while)`,
            s.pos,
          );
          break;
        case "assign": {
          const t = s.target.text;
          const hint = this.st.data.has(t)
            ? `store with WRITE_ONCE(${t}, ${s.value}) or smp_store_release(${t}, ${s.value})`
            : `a register receives READ_ONCE(x), smp_load_acquire(x) or a call (${t} = f();)`;
          this.st.fail(`"${t} = ${s.value}" is not a statement of the format: ${hint}`, s.pos);
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
      this.st.fail(
        `a spin-wait reads its flag with READ_ONCE(x) or smp_load_acquire(x), not ${fn}()`,
        c.name.pos,
      );
    }
    if (c.args.length !== 1)
      this.st.fail(`${fn} takes 1 argument (x), got ${c.args.length}`, c.pos);
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
      this.st.fail("the body of a spin-wait may only be cpu_relax() or barrier()", b.pos);
    }
    const acquire = fn === "smp_load_acquire";
    const written = `while (${s.cond === "not" ? "!" : ""}${fn}(${c.args[0].text})${s.cond === "ne" ? ` != ${s.value}` : s.cond === "eq" ? ` == ${s.value}` : ""})`;
    const op: Extract<Op, { op: "await" }> = { op: "await", loc, value: 0, acquire, pos: s.pos };
    if (s.cond === "ne") op.value = s.value!;
    else if (s.cond === "truthy") op.value = 0;
    else if (s.cond === "eq" && s.value !== 0) {
      this.st.fail(
        `${written} waits for ${loc} to change from ${s.value}; the model waits for one value: write while (${fn}(${c.args[0].text}) != VALUE)`,
        s.valuePos!,
      );
    } else this.st.pending.push({ op, loc, pos: s.pos, written });
    if (op.value > MAX_VALUE)
      this.st.fail(`${written}: value must be 0..${MAX_VALUE}`, s.valuePos!);
    return op;
  }

  /** `while (!x)` waits for the one nonzero value some process stores to x. */
  resolveWaits(): void {
    // The nonzero values stored to each location, gathered once (linear in the file).
    const stored = new Map<string, Set<number>>();
    for (const c of this.st.spec.cpus)
      for (const op of c.program)
        if (op.op === "store" && op.value !== 0) {
          let set = stored.get(op.loc);
          if (!set) stored.set(op.loc, (set = new Set()));
          set.add(op.value);
        }
    for (const w of this.st.pending) {
      const vals = new Set<number>(stored.get(w.loc));
      const init = this.st.data.get(w.loc) ?? 0;
      if (init !== 0) vals.add(init);
      if (vals.size === 1) w.op.value = [...vals][0];
      else if (vals.size === 0)
        this.st.fail(
          `${w.written}: no process stores a nonzero value to ${w.loc}, so the wait never ends (write != VALUE to wait for a value)`,
          w.pos,
        );
      else
        this.st.fail(
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
    return (this.contexts[cpu] ??= statementContext(this.st, cpu, () => this.here));
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
    if (def) return runStatement(def, call, x);
    const n = call.name;
    if (this.st.regions.has(n)) {
      const reg = x.result(call, `r0 = ${n}();`);
      if (call.args.length)
        this.st.fail(`${n}(): calling a code region takes no arguments`, call.args[0].pos);
      return [{ op: "call", reg, region: n }];
    }
    if (this.routines.has(n)) {
      x.noResult(call);
      x.arity(call, 0, 2, `${n}([f[, version]])`);
      const op: Extract<Op, { op: "macro" }> = { op: "macro", name: n };
      if (call.args[0]) {
        const { region, line } = x.code(call.args[0], `${n}()`);
        if (line !== undefined)
          this.st.fail(`${n}(): takes a whole region, drop the +line`, call.args[0].pos);
        op.region = region;
      }
      if (call.args[1]) {
        const v = call.args[1];
        if (v.kind !== "name" || v.deref || v.offset !== undefined)
          this.st.fail(`${n}(f, version): the version must be a name such as new`, v.pos);
        op.version = v.name!;
      }
      return [op];
    }
    // An instruction: keyword arguments join the name (dsb(ish) -> DSB ISH); a trailing code
    // address is the instruction's operand (ic_ivau(f+1)).
    const plain = (a: StatementArg) =>
      a.kind === "name" && !a.deref && a.offset === undefined && !this.st.regions.has(a.name!);
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
      this.st.regions.has(last.name!) &&
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
      this.st.fail(
        `${n}(${call.args.map((a) => a.text).join(", ")}): no such instruction; known forms: ${forms.join(", ")}`,
        c.pos,
      );
    }
    const known = [
      ...statementDefs().map((d) => d.name),
      ...this.routines,
      ...this.insns.keys(),
      ...this.st.regions.keys(),
    ];
    this.st.fail(
      `unknown statement ${n}(): not a statement of the format, a kernel routine, an instruction or a code region${suggest(n, known)}`,
      c.name.pos,
    );
  }
}
