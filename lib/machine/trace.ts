/**
 * Witness traces: a transition described in the kernel's words, and what it changed, structure
 * by structure, as typed records (rendered to text by diffText).
 */
import type { WitnessDiff } from "../model";
import { Views } from "./views";
import { F, K, labelCpu, labelKind, labelArg, callResultText } from "./state";
import { E, IPI_HANDLERS } from "./layout/types";
import { permText, ptePerm } from "./layout/encoding";

export abstract class Trace extends Views {
  /** Describe a transition in the kernel's words. */
  describe(
    lbl: number,
    before: Uint8Array,
  ): { cpu: number; kind: "program" | "hardware"; action: string; sync: boolean } {
    const L = this.layout;
    const c = labelCpu(lbl);
    const k = labelKind(lbl);
    const arg = labelArg(lbl);
    const cpu = c < 0 ? -1 : c;
    switch (k) {
      case K.prog: {
        const st = L.cpus[c].steps[before[this.base(c) + F.PC]];
        let action = st.text;
        if (st.k === "call")
          action = `${st.text}: fetch ${L.regions[st.region].name}+${before[this.base(c) + F.CSLOT]}`;
        if ((st.k === "ldr" || st.k === "load") && arg === 1)
          action = `${st.text} (left pending: later steps may run first)`;
        if (st.k === "jump" && arg >= 2)
          action = `${st.text} (${arg === 2 ? "taken" : "not taken"}, predicted: its load is pending)`;
        if (st.k === "exec" && arg >= 200)
          action = `${st.text}: runs ${L.versions[arg - 200]} before its fetch is performed (late fetch)`;
        const sync =
          st.k === "effect"
            ? st.sync
            : st.k.startsWith("ipi") || st.k.startsWith("stop") || st.k === "interrupt";
        return { cpu, kind: "program", action, sync };
      }
      case K.drain: {
        const b = this.base(c) + F.SB + 3 * arg;
        const loc = before[b];
        const v = before[b + 1];
        return {
          cpu,
          kind: "hardware",
          action: `store buffer drains ${L.locName[loc]} = ${this.valueText(loc, v)}`,
          sync: false,
        };
      }
      case K.spec:
        return {
          cpu,
          kind: "hardware",
          action: `speculative fetch ${L.vaName[arg & 255]}`,
          sync: false,
        };
      case K.tlbfill:
        return { cpu, kind: "hardware", action: `TLB fill ${L.pages[arg].name}`, sync: false };
      case K.icomplete:
        return {
          cpu,
          kind: "hardware",
          action: `IC IVAU ${L.codeOfCl[arg].map((l) => L.locName[l]).join("|")} completes`,
          sync: false,
        };
      case K.tlbevict:
        return { cpu, kind: "hardware", action: `TLB evicts ${L.pages[arg].name}`, sync: false };
      case K.irq:
        return { cpu, kind: "hardware", action: "interrupt delivered", sync: true };
      case K.load: {
        const b = this.base(c) + this.o.pload;
        const reg = L.cpus[c].regs[(before[b] & 127) - 1];
        return {
          cpu,
          kind: "hardware",
          action: `pending load ${reg} = [${L.locName[before[b + 1]]}] performed`,
          sync: false,
        };
      }
      case K.ipipost: {
        const h = IPI_HANDLERS[before[this.base(c) + F.IPIQ] - 1];
        return { cpu, kind: "hardware", action: `IPI (${h}) reaches the other CPUs`, sync: false };
      }
      case K.ipi: {
        const h = IPI_HANDLERS[before[this.base(c) + F.IPIP] - 1];
        return { cpu, kind: "hardware", action: `IPI taken (${h})`, sync: true };
      }
    }
    return { cpu, kind: "hardware", action: `?${k}`, sync: false };
  }

  /** What a step changed: memory, PTEs, the PoU, and each CPU's pipeline, I-cache, TLB, registers. */
  diff(before: Uint8Array, after: Uint8Array): WitnessDiff[] {
    const L = this.layout;
    const order = this.lineOrders();
    const out: WitnessDiff[] = [];
    /** A record per byte of `count` from `off` on that the step changed. */
    const scan = (
      count: number,
      off: number,
      make: (i: number, x: number, y: number) => WitnessDiff,
    ) => {
      for (let i = 0; i < count; i++)
        if (before[off + i] !== after[off + i]) out.push(make(i, before[off + i], after[off + i]));
    };
    const fetched = (v: number) =>
      v === E.NONE
        ? null
        : v === E.FAULT || v === E.FAULT_PROT
          ? "fault"
          : v === E.UNPRED
            ? "unpredictable"
            : (L.versions[v] ?? String(v));
    const set = (ci: number, mask: number) => this.setName(ci, mask) || null;
    const entry = (x: number) => (x === E.NONE ? null : x === 0 ? "invalid" : permText(ptePerm(x)));
    scan(L.nLoc, 0, (i, x, y) => {
      const ci = i - L.codeBase;
      const code = ci >= 0 && ci < L.nCode;
      const structure = ci >= L.nCode ? "pte" : "memory";
      const [from, to] = [this.valueText(i, x), this.valueText(i, y)];
      return {
        structure,
        cpu: -1,
        line: L.locName[i],
        from,
        to,
        ...(code ? { order: order.code[ci] } : {}),
      };
    });
    if (!L.arch.idc)
      scan(L.nCode, this.pouOff, (ci, x, y) => ({
        structure: "pou",
        cpu: -1,
        line: L.locName[L.codeBase + ci],
        from: set(ci, x),
        to: set(ci, y),
        order: order.code[ci],
      }));
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      scan(L.nVaSlots, b + this.o.pipe, (va, x, y) => ({
        structure: "pipeline",
        cpu: c,
        line: L.vaName[va],
        from: fetched(x),
        to: fetched(y),
        order: order.va[va],
      }));
      if (!L.arch.dic)
        scan(L.nCode, b + this.o.icache, (ci, x, y) => ({
          structure: "icache",
          cpu: c,
          line: L.locName[L.codeBase + ci],
          from: set(ci, x),
          to: set(ci, y),
          order: order.code[ci],
        }));
      scan(L.pages.length, b + this.o.tlb, (p, x, y) => ({
        structure: "tlb",
        cpu: c,
        line: L.pages[p].name,
        from: entry(x),
        to: entry(y),
      }));
      const cpu = L.cpus[c];
      const reg = (i: number, v: number) =>
        cpu.regKind[i] === "call" ? callResultText(v) : String(v);
      scan(cpu.regs.length, b + this.o.regs, (i, x, y) => ({
        structure: "register",
        cpu: c,
        line: cpu.regs[i],
        from: reg(i, x),
        to: reg(i, y),
      }));
    }
    return out;
  }
}

/** A step's changes in words, as witness tables print them ("pipeline[1] f+0: - -> old; ..."). */
export function diffText(changes: readonly WitnessDiff[]): string {
  return changes
    .map((d) => {
      const where = `${d.structure}[${d.cpu}] ${d.line}`;
      switch (d.structure) {
        case "memory":
        case "pte":
          return `${d.line}: ${d.from} -> ${d.to}`;
        case "pou":
          return `PoU ${d.line}: {${d.from ?? ""}} -> {${d.to ?? ""}}`;
        case "icache":
          return `${where}: {${d.from ?? ""}} -> {${d.to ?? ""}}`;
        case "register":
          return `${d.cpu}:${d.line} = ${d.to}`;
        default:
          return `${where}: ${d.from ?? "-"} -> ${d.to ?? "-"}`;
      }
    })
    .join("; ");
}
