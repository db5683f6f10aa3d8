/**
 * Running a function line by line: fetch through the pipeline, faults and their handlers,
 * the late fetch, and the class of the run (new, stale, trap, torn, fault, unpredictable, oops).
 */
import { Effects } from "./effects";
import {
  F,
  TORN,
  CLS_NEW,
  CLS_STALE,
  CLS_TRAP,
  CLS_TORN,
  CLS_FAULT,
  CLS_UNPRED,
  CLS_OOPS,
  K,
  label,
  type Emit,
} from "./state";
import { E, type Step } from "./layout/types";
import { PERM_X, ptePerm } from "./layout/encoding";

/** No other line fetched with this one. */
const NO_CO: readonly number[][] = [];

export abstract class Calls extends Effects {
  /** One line of a call: fetch through the pipeline, take a fault, or finish the run. */
  protected callStep(
    s: Uint8Array,
    c: number,
    ri: number,
    reg: number,
    emit: Emit,
    exec?: Extract<Step, { k: "exec" }>,
  ): void {
    const L = this.layout;
    const b = this.base(c);
    const r = L.regions[ri];
    const i = exec ? exec.line : s[b + F.CSLOT];
    const va = L.pages[r.page].vaBase + r.offset + i;
    const entry = s[b + this.o.pipe + va];
    if (entry !== E.NONE) {
      const rank = s[b + this.o.prank + va];
      this.callWith(s, c, ri, reg, emit, exec, i, va, entry, -1, rank, NO_CO, 0);
      return;
    }
    // The litmus front-end's exec keeps the ESOP 2020 model (herd7 agreement): no UNPRED there.
    const opts = this.fetchOptions(s, c, va);
    const fill = this.fill;
    const all = exec ? opts : this.withUnpredictable(ri, opts);
    for (let j = 0; j < all.length; j++) {
      const v = all[j];
      if (v === E.FAULT || v === E.FAULT_PROT || v === E.UNPRED) {
        this.callWith(s, c, ri, reg, emit, exec, i, va, v, fill, 0, NO_CO, 0);
        continue;
      }
      const combos = this.coFetch(s, c, va);
      for (let k = 0; k < combos.length; k++)
        this.callWith(s, c, ri, reg, emit, exec, i, va, v, fill, 0, combos[k], k);
    }
    if (exec && this.a.lateFetch && s[b + F.PROPH] === 0)
      this.lateFetch(s, c, exec, va, opts, emit);
  }

  /**
   * RISC-V without Ziccid: the fetch of an instruction acting on registers only may be performed
   * after later loads and stores. The CPU runs a version that its fetch cannot return yet; the
   * state records that the fetch is pending, and a drain of that version by another CPU performs
   * it. An execution where it never is does not exist (acceptable()).
   */
  protected lateFetch(
    s: Uint8Array,
    c: number,
    exec: Extract<Step, { k: "exec" }>,
    va: number,
    now: readonly number[],
    emit: Emit,
  ): void {
    const L = this.layout;
    const b = this.base(c);
    const r = L.regions[exec.region];
    const ci = this.lookup(s, c, va);
    if (ci < 0) return;
    for (const v of r.registerOnly) {
      if (now.includes(v) || exec.dispatch[v] === undefined || exec.dispatch[v] < 0) continue;
      const t = this.scratch(s);
      this.squashOlder(t, c, 0);
      t[b + F.PROPH] = ci + 1;
      t[b + F.PVER] = v;
      t[b + F.TAINT] = 0;
      t[b + F.TAINT + 1] = 0;
      t[b + F.CSF] = 0;
      t[b + F.PC] = exec.dispatch[v];
      emit(label(c, K.prog, 200 + v), this.canonical(t, c));
    }
  }

  protected callWith(
    s: Uint8Array,
    c: number,
    ri: number,
    reg: number,
    emit: Emit,
    exec: Extract<Step, { k: "exec" }> | undefined,
    i: number,
    va: number,
    fetched: number,
    fill: number,
    rank: number,
    co: readonly number[][],
    combo: number,
  ): void {
    const L = this.layout;
    const a = this.a;
    const b = this.base(c);
    const r = L.regions[ri];
    const t = this.scratch(s);
    this.squashOlder(t, c, rank);
    t[b + this.o.pipe + va] = E.NONE;
    t[b + this.o.prank + va] = 0;
    this.applyFill(t, c, va, fill);
    // The rest of the line, fetched with it (after the squash: it is the newest fetch).
    for (let j = 0; j < co.length; j++) {
      t[b + this.o.pipe + co[j][0]] = co[j][1];
      t[b + this.o.prank + co[j][0]] = 1;
    }
    let v = fetched;
    const lbl = label(c, K.prog, v + 1, combo);
    if (v === E.UNPRED) {
      this.finishCall(t, c, reg, CLS_UNPRED);
      emit(lbl, this.canonical(t, c));
      return;
    }
    if (v === E.FAULT || v === E.FAULT_PROT) {
      if (a.exceptions.drainsStores && t[b + F.SBLEN] > 0) return;
      const page = L.pages[r.page];
      const pte = t[page.pteLoc];
      // The faulting page's TLB entry is gone after the fault: x86 drops it on delivery (SDM
      // 4.10.4.1); riscv's handler flushes it (arch/riscv/mm/fault.c, local_flush_tlb_page);
      // arm64 caches no translation that faults.
      t[b + this.o.tlb + r.page] = E.NONE;
      const permits = pte !== 0 && (ptePerm(pte) & PERM_X) !== 0;
      // Which faults the handler retries: handle_mm_fault() for user pages; on kernel text only
      // those the architecture's fault.c treats as spurious (ArchVariant.spuriousFetchFault).
      const rules = a.spuriousFetchFault;
      const spurious =
        permits && (page.user || (v === E.FAULT ? rules.notPresent : rules.permission));
      if (permits && !spurious && !exec) {
        // The page table permits the fetch now, but the kernel does not take this fault for a
        // spurious one: the handler dies (an oops).
        this.finishCall(t, c, reg, CLS_OOPS);
        emit(lbl, this.canonical(t, c));
        return;
      }
      if (spurious && t[b + F.CSF] < 8) {
        // Spurious: the page table permits the fetch now. The handler returns; the line is retried.
        t[b + F.CSF]++;
        this.exceptionSyncs(t, c);
        const e = a.exceptions;
        if (!(e.entrySyncs || e.returnSyncs) && rank > 0) {
          // Without a context synchronisation the later prefetched lines stay: the refetch of
          // the faulting line takes its place in fetch order.
          const base = t.slice();
          const again = this.fetchOptions(base, c, va);
          const refill = this.fill;
          for (const x of again) {
            const u = this.scratch(base);
            this.applyFill(u, c, va, refill);
            u[b + this.o.pipe + va] = x;
            u[b + this.o.prank + va] = rank;
            emit(label(c, K.prog, (v + 1) | ((x + 1) << 8)), this.canonical(u, c));
          }
          return;
        }
      } else if (exec) {
        // A real fault on an instruction-level program ends it; observed as P:fault=1.
        t[b + this.o.regs + L.cpus[c].faultReg] = 1;
        t[b + F.CSF] = 0;
        t[b + F.PC] = L.cpus[c].steps.length;
      } else {
        this.finishCall(t, c, reg, CLS_FAULT);
      }
      emit(lbl, this.canonical(t, c));
      return;
    }
    if (exec) {
      const cpu = L.cpus[c];
      if (
        a.cmodxSafe &&
        this.storePending(t, this.locOfVa(t, c, va)) &&
        !this.cmodxSafe(r, v + 1, t, va)
      ) {
        t[b + this.o.regs + cpu.unpredReg] = 1;
      }
      const next = exec.dispatch[v];
      if (next === undefined || next < 0)
        throw new Error(
          `${exec.text}: fetched ${L.versions[v]}, which the program does not dispatch`,
        );
      t[b + F.CSF] = 0;
      t[b + F.CFLAGS] = 0;
      t[b + F.PC] = next;
      emit(lbl, this.canonical(t, c));
      return;
    }
    // arch/x86/kernel/alternative.c poke_int3_handler(): while text_poke_bp() patches this
    // site, the int3 traps and the handler emulates the new instruction, then returns.
    // The emulated instruction is the whole site: execution resumes after it.
    let emulated = false;
    if (v === L.trapVersion && L.bpLoc >= 0 && this.read(t, c, L.bpLoc) === ri + 1) {
      if (a.exceptions.drainsStores && t[b + F.SBLEN] > 0) return;
      this.exceptionSyncs(t, c);
      v = r.versions[r.versions.length - 1];
      emulated = true;
    }
    // arm64 CMODX: fetching a line whose write is still in flight is a concurrent modification.
    if (a.cmodxSafe && this.storePending(t, this.locOfVa(t, c, va))) t[b + F.CFLAGS] |= 1;
    const acc = t[b + F.CACC];
    t[b + F.CACC] = acc === 0 ? v + 1 : acc === v + 1 ? acc : TORN;
    if (v === L.trapVersion || emulated || i + 1 === r.lines) {
      const accNow = t[b + F.CACC];
      let cls: number;
      if (t[b + F.CFLAGS] & 1 && !this.cmodxSafe(r, accNow, t, va)) cls = CLS_UNPRED;
      else if (accNow === TORN) cls = CLS_TORN;
      else if (accNow - 1 === L.trapVersion) cls = CLS_TRAP;
      else if (accNow - 1 === r.versions[r.versions.length - 1]) cls = CLS_NEW;
      else cls = CLS_STALE;
      this.finishCall(t, c, reg, cls);
    } else {
      t[b + F.CSLOT] = i + 1;
    }
    emit(lbl, this.canonical(t, c));
  }

  /** Both the executed and the written instruction are among the CMODX-safe ones. */
  protected cmodxSafe(
    r: { insn: Map<number, string>; versions: number[] },
    acc: number,
    s: Uint8Array,
    va: number,
  ): boolean {
    const safe = this.a.cmodxSafe!;
    const kind = (v: number) => r.insn.get(v) ?? "code";
    if (acc === TORN) return false;
    const ran = acc - 1;
    const now = s[this.locOfVa(s, -1, va)];
    return safe.includes(kind(ran)) && safe.includes(kind(now));
  }

  protected finishCall(t: Uint8Array, c: number, reg: number, cls: number): void {
    const b = this.base(c);
    t[b + this.o.regs + reg] = 1 + cls + (t[b + F.CSF] > 0 ? 8 : 0);
    t[b + F.CSLOT] = 0;
    t[b + F.CACC] = 0;
    t[b + F.CSF] = 0;
    t[b + F.CFLAGS] = 0;
    t[b + F.PC]++;
  }
}
