/**
 * Reading a state for people: the observed values of a final state, the residency of lines in
 * each CPU's structures, and the names of values and version sets.
 */
import type { ResidencyCell } from "../model";
import { Transitions } from "./transitions";
import { callResultText } from "./state";
import { E } from "./layout/types";
import { permText, pteFrame, ptePerm, SYMBOL_BASE } from "./layout/encoding";

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

  private orders?: { va: (readonly string[])[]; code: (readonly string[])[] };
  /** Per VA slot and per code slot: the versions of its region, oldest → newest. */
  protected lineOrders(): { va: (readonly string[])[]; code: (readonly string[])[] } {
    if (this.orders) return this.orders;
    const L = this.layout;
    const names = L.regions.map((r) => r.versions.map((v) => L.versions[v]));
    const regionAt = (page: number, i: number) =>
      L.regions.find((r) => r.page === page && i >= r.offset && i < r.offset + r.lines)!.index;
    const va = L.vaName.map((_, x) => names[regionAt(L.vaPage[x], L.vaSlotInPage[x])]);
    const code: (readonly string[])[] = [];
    for (const f of L.frames)
      for (let i = 0; i < L.pages[f.page].slots; i++)
        code[f.slotLoc - L.codeBase + i] = names[regionAt(f.page, i)];
    this.orders = { va, code };
    return this.orders;
  }

  /** What each CPU's pipeline, I-cache, D-cache view and TLB hold (for the residency chart). */
  residency(s: Uint8Array): ResidencyCell[] {
    const L = this.layout;
    const a = L.arch;
    const order = this.lineOrders();
    const cells: ResidencyCell[] = [];
    const vname = (v: number) =>
      v === E.FAULT || v === E.FAULT_PROT
        ? "fault"
        : v === E.UNPRED
          ? "unpredictable"
          : (L.versions[v] ?? String(v));
    for (let c = 0; c < this.nCpu; c++) {
      const b = this.base(c);
      for (let va = 0; va < L.nVaSlots; va++) {
        const v = s[b + this.o.pipe + va];
        if (v !== E.NONE)
          cells.push({
            cpu: c,
            structure: "pipeline",
            line: L.vaName[va],
            version: vname(v),
            order: order.va[va],
          });
      }
      for (let ci = 0; ci < L.nCode; ci++) {
        const loc = L.codeBase + ci;
        const ic = a.dic
          ? a.fetchSeesOwnStores
            ? this.bit(ci, s[loc])
            : this.pouMask(s, ci)
          : s[b + this.o.icache + ci];
        if (ic !== E.NONE && ic !== 0)
          cells.push({
            cpu: c,
            structure: "icache",
            line: L.locName[loc],
            version: this.setName(ci, ic),
            order: order.code[ci],
          });
        cells.push({
          cpu: c,
          structure: "dcache",
          line: L.locName[loc],
          version: vname(this.read(s, c, loc)),
          order: order.code[ci],
        });
      }
      for (let p = 0; p < L.pages.length; p++) {
        const e = s[b + this.o.tlb + p];
        if (e !== E.NONE)
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
