/**
 * What each architecture variant treats as a context-synchronising event (Andy Lutomirski,
 * 2023-07-17: "#4 is sufficiently vague that I can't really interpret it"), read off the
 * architecture files: the machine empties the fetch pipeline on exactly these.
 */
import type { ArchVariant } from "./types";

export interface SyncEvent {
  arch: string;
  /** Instruction, event or kernel routine. */
  event: string;
  kind: "instruction" | "exception" | "routine";
  /** Empties this CPU's fetch pipeline. */
  flushesPipeline: boolean;
  /** Also empties this CPU's I-cache (fence.i). */
  invalidatesIcache: boolean;
  /** Waits for this CPU's buffered stores. */
  drainsStores: boolean;
  /** Reaches other CPUs (by IPI). */
  remote: boolean;
  cite: string;
}

/**
 * The events that synchronise a CPU's instruction stream on each variant (serialising
 * instructions, context synchronisation, fence.i, and local TLB flushes where they serialise),
 * with the rule each comes from; one row per variant and event.
 */
export function contextSyncTable(arches: readonly ArchVariant[]): SyncEvent[] {
  const rows: SyncEvent[] = [];
  for (const a of arches) {
    for (const [name, rule] of Object.entries(a.instructions)) {
      const flushes =
        rule.effect === "serialise" ||
        rule.effect === "context-sync" ||
        rule.effect === "fence.i" ||
        (rule.effect === "tlb-flush-local" && a.tlbFlushSerialises);
      if (!flushes) continue;
      rows.push({
        arch: a.name,
        event: name,
        kind: "instruction",
        flushesPipeline: true,
        invalidatesIcache: rule.effect === "fence.i" && !a.dic,
        drainsStores: rule.effect !== "context-sync",
        remote: false,
        cite: rule.cite,
      });
    }
    const e = a.exceptions;
    rows.push(
      {
        arch: a.name,
        event: "exception entry",
        kind: "exception",
        flushesPipeline: e.entrySyncs,
        invalidatesIcache: false,
        drainsStores: e.drainsStores,
        remote: false,
        cite: e.cite,
      },
      {
        arch: a.name,
        event: "exception return",
        kind: "exception",
        flushesPipeline: e.returnSyncs,
        invalidatesIcache: false,
        drainsStores: e.drainsStores,
        remote: false,
        cite: e.cite,
      },
    );
    for (const [name, m] of Object.entries(a.macros)) {
      const ipi = m!.steps.find((s) => "ipi" in s) as { ipi: string; self: boolean } | undefined;
      if (!ipi || ipi.ipi === "tlb_flush") continue;
      const handlerSyncs = ipi.ipi === "sync_core" || ipi.ipi === "fence.i";
      rows.push({
        arch: a.name,
        event: `${name}()`,
        kind: "routine",
        flushesPipeline: handlerSyncs || e.entrySyncs || e.returnSyncs,
        invalidatesIcache: ipi.ipi === "fence.i" && !a.dic,
        drainsStores: handlerSyncs || e.drainsStores,
        remote: true,
        cite: m!.cite,
      });
    }
  }
  return rows;
}
