/**
 * Inter-processor interrupts: posting, the handlers (sync_core, fence.i, TLB flush) and
 * stop_machine() on the receiving CPUs.
 */
import { StoreBuffers } from "./store-buffer";
import { F, K, label, type Emit } from "./state";
import { E, type IpiHandler } from "./layout/types";

export abstract class Ipis extends StoreBuffers {
  /** Another CPU than c still has an IPI to take. */
  protected ipiInFlight(s: Uint8Array, c: number): boolean {
    for (let d = 0; d < this.nCpu; d++) if (d !== c && s[this.base(d) + F.IPIP] !== 0) return true;
    return false;
  }

  /** Every other CPU has IPI handler h (+1) pending from c. */
  protected postIpi(t: Uint8Array, c: number, h: number): void {
    for (let d = 0; d < this.nCpu; d++) {
      if (d === c) continue;
      t[this.base(d) + F.IPIP] = h;
      t[this.base(d) + F.IPIF] = c + 1;
    }
  }

  /**
   * stop_machine() on a receiving CPU: enter the handler (exception entry) and spin; once the
   * patching CPU releases it, ISB or fence.i, then exception return.
   */
  protected stopMachineStep(s: Uint8Array, c: number, h: IpiHandler, emit: Emit): void {
    const b = this.base(c);
    const f = s[b + F.STOPF];
    const t = this.scratch(s);
    if ((f & 1) === 0) {
      if (this.a.exceptions.entrySyncs) this.flushPipe(t, c);
      t[b + F.STOPF] = 1;
    } else if (f & 2) {
      if (h === "stop_fence.i") {
        if (t[b + F.SBLEN] > 0) return;
        this.runHandler(t, c, "fence.i");
      } else this.flushPipe(t, c);
      if (this.a.exceptions.returnSyncs) this.flushPipe(t, c);
      t[b + F.STOPF] = 0;
      t[b + F.IPIP] = 0;
      t[b + F.IPIF] = 0;
    } else return;
    emit(label(c, K.ipi, 0), this.canonical(t, c));
  }

  protected runHandler(t: Uint8Array, c: number, h: IpiHandler): void {
    const b = this.base(c);
    switch (h) {
      case "sync_core":
        this.flushPipe(t, c);
        break;
      case "fence.i":
        this.flushPipe(t, c);
        this.icacheReset(t, c, null);
        break;
      case "tlb_flush":
        // x86 flush_tlb_kernel_range(): INVLPG in the handler, which serialises.
        if (this.a.tlbFlushSerialises) this.flushPipe(t, c);
        t.fill(E.NONE, b + this.o.tlb, b + this.o.tlb + this.layout.pages.length);
        break;
      case "none":
        break;
    }
  }
}

export function handlerNeedsDrain(h: IpiHandler): boolean {
  return h === "sync_core" || h === "fence.i" || h === "tlb_flush";
}
