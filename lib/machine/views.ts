/**
 * Reading a state for people: the observed values of a final state, residency, and the
 * description and difference of a step (witness traces).
 */
import type { ResidencyCell } from "../model";
import { Transitions } from "./transitions";
import {
  PC,
  CSLOT,
  IPIP,
  IPIQ,
  SB,
  K,
  labelCpu,
  labelKind,
  labelArg,
  callResultText,
} from "./state";
import {
  FAULT,
  FAULT_PROT,
  IPI_HANDLERS,
  UNPRED,
  NONE,
  permText,
  pteFrame,
  ptePerm,
  SYMBOL_BASE,
} from "./layout";

export abstract class Views extends Transitions {
  /** Observed values of a final state: every register, and the data locations. */
  observe(s: Uint8Array): Record<string, string> {
    const L = this.layout;
    const out: Record<string, string> = {};
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      const cpu = L.cpus[c];
      cpu.regs.forEach((r, i) => {
        const v = s[b + this.o.regs + i];
        if (r.startsWith("_")) {
          if (i !== cpu.flagsReg && v) out[`${c}:${r.slice(1)}`] = "1";
          return;
        }
        out[`${c}:${r}`] = cpu.regKind[i] === "call" ? callResultText(v) : this.valueName(v);
      });
    }
    L.dataNames.forEach((d, i) => (out[d] = this.valueName(s[i])));
    const hung = [...Array(this.nCpu).keys()].filter((c) => !this.done(s, c));
    if (hung.length) out["hang"] = hung.map((c) => `P${c}`).join(",");
    return out;
  }

  /** Text of a register or data value: an integer, or a symbol's name. */
  valueName(v: number): string {
    if (v < SYMBOL_BASE) return String(v);
    return this.layout.symbols[v - SYMBOL_BASE]?.name ?? String(v);
  }

  /** What each CPU's pipeline, I-cache, D-cache view and TLB hold (for the residency chart). */
  residency(s: Uint8Array): ResidencyCell[] {
    const L = this.layout;
    const a = L.arch;
    const cells: ResidencyCell[] = [];
    const vname = (v: number) =>
      v === FAULT || v === FAULT_PROT
        ? "fault"
        : v === UNPRED
          ? "unpredictable"
          : (L.versions[v] ?? String(v));
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      for (let va = 0; va < L.nVaSlots; va++) {
        const v = s[b + this.o.pipe + va];
        if (v !== NONE)
          cells.push({ cpu: c, structure: "pipeline", line: L.vaName[va], version: vname(v) });
      }
      for (let ci = 0; ci < L.nCode; ci++) {
        const loc = L.codeBase + ci;
        const ic = a.dic
          ? a.fetchSeesOwnStores
            ? this.bit(ci, s[loc])
            : this.pouMask(s, ci)
          : s[b + this.o.icache + ci];
        if (ic !== NONE && ic !== 0)
          cells.push({
            cpu: c,
            structure: "icache",
            line: L.locName[loc],
            version: this.setName(ci, ic),
          });
        cells.push({
          cpu: c,
          structure: "dcache",
          line: L.locName[loc],
          version: vname(this.read(s, c, loc)),
        });
      }
      for (let p = 0; p < L.pages.length; p++) {
        const e = s[b + this.o.tlb + p];
        if (e !== NONE)
          cells.push({
            cpu: c,
            structure: "tlb",
            line: L.pages[p].name,
            version: e === 0 ? "invalid" : permText(ptePerm(e)),
          });
      }
    }
    return cells;
  }

  /** Name of a set of versions: "old", or "old|new" when the I-side may present either. */
  setName(ci: number, mask: number): string {
    return this.versionsOf(ci, mask)
      .map((v) => this.layout.versions[v])
      .join("|");
  }

  /** Rows of the residency chart: code lines (VA names and frame lines), then pages. */
  residencyLines(): string[] {
    const L = this.layout;
    const out: string[] = [];
    for (const n of [
      ...L.vaName,
      ...L.locName.slice(L.codeBase, L.codeBase + L.nCode),
      ...L.pages.map((p) => p.name),
    ]) {
      if (!out.includes(n)) out.push(n);
    }
    return out;
  }

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
        const st = L.cpus[c].steps[before[this.base(c) + PC]];
        let action = st.text;
        if (st.k === "call")
          action = `${st.text}: fetch ${L.regions[st.region].name}+${before[this.base(c) + CSLOT]}`;
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
        const b = this.base(c) + SB + 3 * arg;
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
        const h = IPI_HANDLERS[before[this.base(c) + IPIQ] - 1];
        return { cpu, kind: "hardware", action: `IPI (${h}) reaches the other CPUs`, sync: false };
      }
      case K.ipi: {
        const h = IPI_HANDLERS[before[this.base(c) + IPIP] - 1];
        return { cpu, kind: "hardware", action: `IPI taken (${h})`, sync: true };
      }
    }
    return { cpu, kind: "hardware", action: `?${k}`, sync: false };
  }

  /** Human text of the difference between two states (for witness tables). */
  diff(before: Uint8Array, after: Uint8Array): string {
    const L = this.layout;
    const parts: string[] = [];
    const vname = (v: number) =>
      v === NONE
        ? "-"
        : v === FAULT || v === FAULT_PROT
          ? "fault"
          : v === UNPRED
            ? "unpredictable"
            : (L.versions[v] ?? String(v));
    for (let i = 0; i < L.nLoc; i++)
      if (before[i] !== after[i])
        parts.push(
          `${L.locName[i]}: ${this.valueText(i, before[i])} -> ${this.valueText(i, after[i])}`,
        );
    if (!L.arch.idc)
      for (let i = 0; i < L.nCode; i++)
        if (before[this.pouOff + i] !== after[this.pouOff + i])
          parts.push(
            `PoU ${L.locName[L.codeBase + i]}: {${this.setName(i, before[this.pouOff + i])}} -> {${this.setName(i, after[this.pouOff + i])}}`,
          );
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      for (let va = 0; va < L.nVaSlots; va++) {
        const x = before[b + this.o.pipe + va];
        const y = after[b + this.o.pipe + va];
        if (x !== y) parts.push(`pipeline[${c}] ${L.vaName[va]}: ${vname(x)} -> ${vname(y)}`);
      }
      if (!L.arch.dic)
        for (let ci = 0; ci < L.nCode; ci++) {
          const x = before[b + this.o.icache + ci];
          const y = after[b + this.o.icache + ci];
          if (x !== y)
            parts.push(
              `icache[${c}] ${L.locName[L.codeBase + ci]}: {${this.setName(ci, x)}} -> {${this.setName(ci, y)}}`,
            );
        }
      for (let p = 0; p < L.pages.length; p++) {
        const x = before[b + this.o.tlb + p];
        const y = after[b + this.o.tlb + p];
        if (x !== y)
          parts.push(
            `tlb[${c}] ${L.pages[p].name}: ${x === NONE ? "-" : x === 0 ? "invalid" : permText(ptePerm(x))} -> ${y === NONE ? "-" : y === 0 ? "invalid" : permText(ptePerm(y))}`,
          );
      }
      const cpu = L.cpus[c];
      for (let i = 0; i < cpu.regs.length; i++) {
        const x = before[b + this.o.regs + i];
        const y = after[b + this.o.regs + i];
        if (x !== y)
          parts.push(`${c}:${cpu.regs[i]} = ${cpu.regKind[i] === "call" ? callResultText(y) : y}`);
      }
    }
    return parts.join("; ");
  }

  valueText(loc: number, v: number): string {
    const L = this.layout;
    if (loc >= L.codeBase && loc < L.codeBase + L.nCode) return L.versions[v] ?? String(v);
    if (loc >= L.codeBase + L.nCode) {
      if (v === 0) return "none";
      return `${L.frames[pteFrame(v)].name} ${permText(ptePerm(v))}`;
    }
    return this.valueName(v);
  }
}
