/**
 * How the machine encodes what a scenario names: page permissions and PTEs, and the values a
 * register or data location holds besides small integers (addresses, instructions, labels).
 */
import type { Perm } from "../../scenario/spec";

export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;

export function permBits(p: Perm): number {
  return (
    (p.includes("R") ? PERM_R : 0) | (p.includes("W") ? PERM_W : 0) | (p.includes("X") ? PERM_X : 0)
  );
}
export function permText(bits: number): string {
  return (
    (bits & PERM_R ? "R" : "") + (bits & PERM_W ? "W" : "") + (bits & PERM_X ? "X" : "") || "-"
  );
}
/** PTE encoding: 0 = not present; else 1 + frame*8 + permission bits. */
export function encodePte(frame: number, perm: number): number {
  return perm === 0 ? 0 : 1 + frame * 8 + perm;
}
export function ptePerm(pte: number): number {
  return pte === 0 ? 0 : (pte - 1) & 7;
}
export function pteFrame(pte: number): number {
  return (pte - 1) >> 3;
}

/** Register values below this are integers; the others index Layout.symbols. */
export const SYMBOL_BASE = 100;

export type ValueSymbol =
  | { kind: "data"; name: string; loc: number }
  | { kind: "code"; name: string; region: number; line: number }
  | { kind: "insn"; name: string; version: number }
  | { kind: "label"; name: string; cpu: number; pc: number };

/** The symbols of a scenario, numbered in the order they are first named (SYMBOL_BASE + index). */
export class SymbolTable {
  readonly symbols: ValueSymbol[] = [];
  private readonly index = new Map<string, number>();

  /** The value of the symbol `key`, added as `sym` when new. */
  add(key: string, sym: ValueSymbol): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.symbols.length;
      this.symbols.push(sym);
      this.index.set(key, i);
    }
    return SYMBOL_BASE + i;
  }

  /** The value of a symbol already added. */
  value(key: string): number {
    return SYMBOL_BASE + this.index.get(key)!;
  }

  /** Sets the step a label symbol (value `sym`) stands for, once its program is compiled. */
  setLabelPc(sym: number, pc: number): void {
    (this.symbols[sym - SYMBOL_BASE] as { pc: number }).pc = pc;
  }

  /** The instruction value of version `v` (versions are interned names). */
  version(versions: readonly string[], v: number): number {
    return this.add(`insn:${versions[v]}`, { kind: "insn", name: versions[v], version: v });
  }
}
