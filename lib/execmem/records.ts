// The allocation records of the execmem allocators: who handed out which address, every
// effect on it, and the checks of the pointers callers pass back (double free, interior
// pointers, the wrong free function).
import { fmtVa, type ExecmemType, type Va } from "../arch/execmem";
import type { ExecmemEffect } from "./effects";
import { ExecmemError } from "./types";
import { VaMap } from "./vaindex";
import type { Vmalloc } from "./vmalloc";

/** Who handed an address out. */
export type AllocatorKind =
  | "execmem_alloc"
  | "module_alloc"
  | "execmem_cache"
  | "bpf_prog_pack"
  | "bpf_prog_pack_own"
  | "jit_rox_cache"
  | "jit_handle";

export interface Allocation {
  addr: Va;
  size: number;
  allocator: AllocatorKind;
  type: ExecmemType | null;
  /** Every operation performed for this allocation so far, in order. */
  effects: ExecmemEffect[];
}

/** Live allocations by address; the map also remembers every address it ever held. */
export class Allocations {
  readonly allocs: VaMap<Allocation>;
  /** The allocation recorded last while it is live (a lookup shortcut for owning()). */
  private lastRecord: Allocation | null = null;

  constructor(
    keyBase: Va,
    private readonly vm: Vmalloc,
  ) {
    this.allocs = new VaMap(keyBase);
  }

  record(addr: Va, size: number, allocator: AllocatorKind, type: ExecmemType | null): Allocation {
    const a: Allocation = { addr, size, allocator, type, effects: [] };
    this.allocs.set(addr, a);
    this.lastRecord = a;
    return a;
  }

  /** Drop a freed allocation's record. */
  forget(addr: Va): void {
    this.allocs.delete(addr);
    if (this.lastRecord && this.lastRecord.addr === addr) this.lastRecord = null;
  }

  /** A pointer argument must be an address (an integer offset), not NaN, undefined or a string. */
  checkPointer(call: string, addr: unknown): asserts addr is Va {
    if (typeof addr !== "number" || !Number.isSafeInteger(addr) || addr < 0 || addr >= 2 ** 48)
      throw new ExecmemError(
        call,
        `addr=${typeof addr === "string" ? JSON.stringify(addr) : String(addr)}`,
        "not a pointer: pass the address an allocation returned",
      );
  }

  describe(a: Allocation): string {
    return `${fmtVa(a.addr)} (${a.size} bytes from ${a.allocator}${a.type ? `, ${a.type}` : ""})`;
  }

  lookupFree(call: string, addr: Va, allowed: readonly AllocatorKind[]): Allocation {
    this.checkPointer(call, addr);
    const a = this.allocs.get(addr);
    if (!a) {
      if (this.allocs.everHeld(addr))
        throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "double free");
      const inside = this.owning(addr);
      if (inside)
        throw new ExecmemError(
          call,
          `addr=${fmtVa(addr)}`,
          `points ${addr - inside.addr} bytes into the allocation at ${this.describe(inside)}; free the address the allocation returned`,
        );
      throw new ExecmemError(call, `addr=${fmtVa(addr)}`, "address was never allocated");
    }
    if (!allowed.includes(a.allocator))
      throw new ExecmemError(
        call,
        `addr=${fmtVa(addr)}`,
        `allocated by ${a.allocator}, not freed by this call`,
      );
    return a;
  }

  /** The live allocation containing addr. */
  owning(addr: Va): Allocation | undefined {
    // the loader's alloc -> write -> set_memory_rox sequence asks for the same record thrice
    const last = this.lastRecord;
    if (last && last.addr === addr) return last;
    const exact = this.allocs.get(addr);
    if (exact) return exact;
    // sub-allocations are not vm areas; search the (few) live allocations near addr
    const area = this.vm.areaAt(addr);
    if (area && this.allocs.has(area.va)) {
      const a = this.allocs.get(area.va)!;
      if (addr < a.addr + a.size) return a;
    }
    for (const a of this.allocs.values()) if (addr >= a.addr && addr < a.addr + a.size) return a;
    return undefined;
  }
}
