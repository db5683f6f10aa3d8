/**
 * One CPU's program as primitive steps: its registers, the kernel-level operations (stores,
 * spin-waits, code and PTE writes, routines, calls) and, from instructions.ts, the
 * instruction-level ones; then branch targets, liveness and the regions it may speculate.
 */
import type { SourcePos } from "../../model";
import type { CpuSpec, Op } from "../../scenario/spec";
import type { Compilation } from "./compilation";
import type { SymbolTable } from "./encoding";
import type { CpuLayout, Step } from "./types";
import type { Names } from "./memory";
import { instructionSteps, type InstructionOp } from "./instructions";
import type { Sequences } from "./sequences";

/** How a load or a wait reads its location: `READ_ONCE(x)` or `smp_load_acquire(x)`. */
const readOnce = (op: { loc: string; acquire?: boolean }): string =>
  `${op.acquire ? "smp_load_acquire" : "READ_ONCE"}(${op.loc})`;

/** Interrupts that may arrive at one CPU. */
const MAX_INTERRUPTS = 4;
/** Store-buffer entries a CPU may need at most. */
const MAX_STORE_BUFFER = 12;

/** The compilation of one CPU's program (CpuSpec) into its CpuLayout. */
export class ProgramCompiler {
  readonly regs: string[] = [];
  readonly regKind: ("data" | "call")[] = [];
  readonly steps: Step[] = [];
  readonly labels = new Map<string, number>();
  /** Steps whose branch target is a label, resolved once every label is known. */
  readonly fixups: { step: number; label: string; pos?: SourcePos }[] = [];
  readonly execFixups: { step: number; dispatch: Record<string, string>; pos?: SourcePos }[] = [];
  readonly labelRefs: { sym: number; label: string; pos?: SourcePos }[] = [];
  flagsUsed = false;

  constructor(
    readonly cx: Compilation,
    readonly names: Names,
    readonly symbols: SymbolTable,
    readonly seq: Sequences,
    readonly cpu: number,
  ) {}

  err(message: string, pos?: SourcePos): Error {
    return this.cx.err(message, pos);
  }

  /** The index of register `n`, holding data or a call result (never both). */
  reg(n: string, kind: "data" | "call", pos?: SourcePos): number {
    const { regs, regKind, cpu } = this;
    if (!/^[A-Za-z_]\w*$/.test(n))
      throw this.err(`P${cpu}: register name "${n}" is not an identifier`, pos);
    let i = regs.indexOf(n);
    if (i < 0) {
      i = regs.length;
      regs.push(n);
      regKind.push(kind);
    } else if (regKind[i] !== kind)
      throw this.err(`P${cpu}: register ${n} holds both data and a call result`, pos);
    return i;
  }

  /** The label value of step `pc` of this CPU (a return address). */
  returnLabel(pc: number): number {
    const { cpu } = this;
    return this.symbols.add(`label:${cpu}:@${pc}`, {
      kind: "label",
      name: `P${cpu}:@${pc}`,
      cpu,
      pc,
    });
  }

  /** The data location and the value a store writes or a wait waits for (checked). */
  private locValue(op: { loc: string; value: number; pos?: SourcePos }, what: string) {
    this.cx.checkValue(op.value, what, op.pos);
    return { loc: this.names.dataLoc(op.loc, op.pos), value: op.value };
  }

  /** Steps of a kernel-level operation. */
  private opSteps(op: Op): Step[] {
    const { cx, names, seq } = this;
    const pos = op.pos;
    switch (op.op) {
      case "store":
        return [
          {
            k: "store",
            ...this.locValue(op, `store to ${op.loc}`),
            release: !!op.release,
            vaSlot: -1,
            text: `${op.release ? "smp_store_release" : "WRITE_ONCE"}(${op.loc}, ${op.value})`,
          },
        ];
      case "load":
        return [
          {
            k: "load",
            reg: this.reg(op.reg, "data", pos),
            loc: names.dataLoc(op.loc, pos),
            acquire: !!op.acquire,
            text: `${op.reg} = ${readOnce(op)}`,
          },
        ];
      case "await":
        return [
          {
            k: "await",
            ...this.locValue(op, `wait on ${op.loc}`),
            text: `wait until ${readOnce(op)} == ${op.value}`,
          },
        ];
      case "write": {
        const r = names.region(op.region, "write", pos);
        if (
          op.line !== undefined &&
          (!Number.isInteger(op.line) || op.line < 0 || op.line >= r.lines)
        )
          throw this.err(
            `write ${r.name}+${op.line}: line out of range (region has ${r.lines} lines)`,
            pos,
          );
        const ls = op.line === undefined ? [...Array(r.lines).keys()] : [op.line];
        return ls.flatMap((l) => seq.write(r, l, op.version, op.via, op.frame, pos, "write"));
      }
      case "insn":
        return seq.insn(op.name, pos, op.region, op.line, op.frame);
      case "macro": {
        const m = cx.arch.macros[op.name as keyof typeof cx.arch.macros];
        if (!m) throw this.err(`${op.name}() is not available on ${cx.arch.name}`, pos);
        if (op.region !== undefined) names.region(op.region, `${op.name}()`, pos);
        return m.steps.flatMap((ms) =>
          seq.routine(ms, op.name, pos, op.region, op.frame, op.version),
        );
      }
      case "pte":
        return [seq.pte(op.page, op.perm, op.frame, pos)];
      case "call": {
        const r = names.region(op.region, "call", pos);
        return [
          {
            k: "call",
            reg: this.reg(op.reg, "call", pos),
            region: r.index,
            text: `${op.reg} = call ${r.name}`,
          },
        ];
      }
      case "interrupt":
        return [{ k: "interrupt", text: "interrupt" }];
      case "label":
        if (this.labels.has(op.name))
          throw this.err(`P${this.cpu}: label ${op.name} is defined twice`, pos);
        this.labels.set(op.name, this.steps.length);
        return [];
      default:
        return instructionSteps(this, op as InstructionOp);
    }
  }

  /** The label `label` of this CPU as a step index, or the error `what` names. */
  private target(label: string, what: string, pos?: SourcePos): number {
    const t = this.labels.get(label);
    if (t === undefined) throw this.err(`P${this.cpu}: ${what}`, pos);
    return t;
  }

  /** Resolves the labels branches, label values and exec dispatches name. */
  private resolveLabels(): void {
    const { steps } = this;
    for (const f of this.fixups) {
      const t = this.target(f.label, `branch to unknown label ${f.label}`, f.pos);
      (steps[f.step] as { target: number }).target = t;
    }
    for (const f of this.labelRefs)
      this.symbols.setLabelPc(f.sym, this.target(f.label, `unknown label ${f.label}`, f.pos));
    for (const f of this.execFixups) {
      const st = steps[f.step] as { dispatch: number[] };
      st.dispatch = this.cx.versions.map((v) => {
        const lab = f.dispatch[v];
        if (lab === undefined) return -1;
        return this.target(lab, `exec dispatches ${v} to unknown label ${lab}`, f.pos);
      });
    }
  }

  /** Compiles `cs` (this CPU's spec). */
  compile(cs: CpuSpec): CpuLayout {
    const { cx, names, steps, cpu } = this;
    for (const op of cs.program ?? []) steps.push(...this.opSteps(op));
    this.resolveLabels();
    const flagsReg = this.flagsUsed ? this.reg("_nzcv", "data") : -1;
    const hasExec = steps.some((x) => x.k === "exec");
    const faultReg = hasExec ? this.reg("_fault", "data") : -1;
    const unpredReg = hasExec && cx.arch.cmodxSafe ? this.reg("_unpredictable", "data") : -1;
    const called = new Set(
      steps
        .filter((s) => s.k === "call" || s.k === "exec")
        .map((s) => (s as { region: number }).region),
    );
    const branches = steps.some((x) => x.k === "jump" || x.k === "br" || x.k === "exec");
    const speculate = (cs.speculate ?? [...called].map((i) => names.mem.regions[i].name)).map(
      (n) => names.region(n, `P${cpu} speculate`).index,
    );
    const liveRegions: number[][] = [];
    let live: number[] = [];
    for (let i = steps.length; i >= 0; i--) {
      const s = steps[i];
      if (s && s.k === "call" && !live.includes(s.region)) live = [...live, s.region];
      liveRegions[i] = live;
    }
    // With branches, any region this CPU runs stays live until it finishes (conservative).
    if (branches) for (let i = 0; i < steps.length; i++) liveRegions[i] = [...called];
    const interrupts = cs.interrupts ?? 0;
    if (!Number.isInteger(interrupts) || interrupts < 0 || interrupts > MAX_INTERRUPTS)
      throw this.err(`P${cpu}: interrupts must be 0..${MAX_INTERRUPTS}, got ${interrupts}`);
    return {
      steps,
      liveRegions,
      speculate,
      interrupts,
      regs: this.regs,
      regKind: this.regKind,
      flagsReg,
      faultReg,
      unpredReg,
    };
  }

  /** Store-buffer entries this program may need. */
  storeBufferNeed(): number {
    const stores = this.steps.filter((x) => x.k === "store" || x.k === "str").length;
    return Math.min(stores, MAX_STORE_BUFFER);
  }
}
