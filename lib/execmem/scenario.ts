/**
 * From the allocators to the machine: the effects an execmem/JIT call recorded become steps of
 * a scenario's CPU, so a scenario written with these calls is explored exactly like one written
 * with raw stores, PTE writes and maintenance.
 */
import { ARCHES, families } from "../arch";
import type { Op } from "../scenario/spec";
import type { ExecmemEffect } from "./effects";
import type { CacheMaintenanceFn, Va } from "../arch/execmem";
import { PGPROT_BITS } from "../arch/execmem";

export interface EffectTarget {
  /** The scenario's code region standing for [va, va + size). */
  region: string;
  va: Va;
  size: number;
}

export interface EffectOps {
  ops: Op[];
  /** Text versions the effects write, in order (declare them as the region's versions). */
  versions: string[];
  /** Effects with no machine step (VA bookkeeping, page allocation, direct-map splits). */
  skipped: ExecmemEffect["kind"][];
}

/** The instructions of the cache maintenance an architecture's jit_text_map() names `fn`. */
function maintenanceOps(fn: CacheMaintenanceFn, region: string): Op[] {
  const arch = ARCHES.find((a) => families[a].execmem.beforeMap === fn);
  const steps = arch ? families[arch].sequences.cacheMaintenance : [];
  return steps.flatMap((st): Op[] =>
    "insn" in st
      ? [st.perLine ? { op: "insn", name: st.insn, region } : { op: "insn", name: st.insn }]
      : [],
  );
}

const overlaps = (t: EffectTarget, va: Va, size: number) => va < t.va + t.size && t.va < va + size;

/**
 * Machine steps for the effects that touch the target's VA range. Writes and pokes write the
 * whole region (a region's lines stand for its bytes); the content label is the version.
 */
export function effectsToOps(effects: readonly ExecmemEffect[], target: EffectTarget): EffectOps {
  const ops: Op[] = [];
  const versions: string[] = [];
  const skipped: ExecmemEffect["kind"][] = [];
  const region = target.region;
  const version = (c: string) => {
    if (!versions.includes(c)) versions.push(c);
    return c;
  };
  let lastPoke: Va | null = null;
  for (const e of effects) {
    switch (e.kind) {
      case "map":
      case "set_memory": {
        if (!overlaps(target, e.va, e.kind === "map" ? e.size : e.numpages * 4096)) break;
        const b = PGPROT_BITS[e.prot];
        ops.push({
          op: "pte",
          page: region,
          perm: !b.r ? "" : b.x ? (b.w ? "RWX" : "RX") : b.w ? "RW" : "R",
        });
        break;
      }
      case "unmap":
        if (overlaps(target, e.va, e.size)) ops.push({ op: "pte", page: region, perm: "" });
        break;
      case "write":
        if (!overlaps(target, e.va, e.size)) break;
        ops.push({
          op: "write",
          region,
          version: version(e.content),
          via: e.via === "direct_map" ? "direct-map" : e.via === "va" ? "text" : "poke",
        });
        break;
      case "trap_fill":
        // text_poke_set() / aarch64_insn_set() already wrote the traps just before.
        if (!overlaps(target, e.va, e.size) || lastPoke === e.va) break;
        ops.push({
          op: "write",
          region,
          version: "trap",
          via: e.via === "direct_map" ? "direct-map" : e.via === "va" ? "text" : "poke",
        });
        break;
      case "text_poke": {
        if (!overlaps(target, e.va, e.size)) break;
        lastPoke = e.va;
        // the fill with the trap instruction of one of the architectures (lib/arch)
        const trap = ARCHES.some((x) => families[x].execmem.textPoke.set === e.fn);
        if (e.fn === "text_poke" || e.fn === "text_poke_copy" || e.fn === "text_poke_set") {
          // arch/x86/kernel/alternative.c: through the temporary mm (MOV CR3 around the copy).
          ops.push({
            op: "macro",
            name: e.fn,
            region,
            ...(trap ? {} : { version: version(e.content) }),
          });
        } else {
          // arm64/riscv patch_map() through the fixmap; the cache maintenance follows as its own effect.
          ops.push({
            op: "write",
            region,
            version: trap ? "trap" : version(e.content),
            via: "poke",
          });
        }
        if (e.sync) ops.push({ op: "macro", name: "text_poke_sync" });
        continue;
      }
      case "cache_maintenance":
        if (!overlaps(target, e.va, e.size)) break;
        // caches_clean_inval_pou: the cache maintenance of the architecture whose jit_text_map()
        // does it (lib/arch: arm64's DC CVAU, DSB ISH, IC IVAU, DSB ISH)
        if (e.fn === "caches_clean_inval_pou") ops.push(...maintenanceOps(e.fn, region));
        else
          ops.push({
            op: "macro",
            name: e.fn,
            ...(e.fn === "flush_icache_range" ? { region } : {}),
          });
        break;
      case "flush_tlb_kernel_range":
        ops.push({ op: "macro", name: "flush_tlb_kernel_range" });
        break;
      default:
        if (!skipped.includes(e.kind)) skipped.push(e.kind);
    }
    lastPoke = null;
  }
  return { ops, versions, skipped };
}
