// Inspection of an execmem allocator: free space by owner, the address-space map of a range,
// a comparable snapshot of the whole state, the ranges worth drawing.
import type { ExecmemInfo, Va } from "../arch/execmem";
import type { BpfProgPack } from "./bpf-prog-pack";
import type { JitHandles } from "./handle";
import type { AllocatorKind, Allocations } from "./records";
import type { RoxCache } from "./rox-cache";
import type { Vmalloc } from "./vmalloc";

/** An extent of the address-space map of a range. */
export interface MapExtent {
  start: Va;
  end: Va;
  state: "allocated" | "trap" | "free" | "reserved";
  owner?: AllocatorKind;
}

/** The state of one allocator, by part. */
export interface ExecmemState {
  vm: Vmalloc;
  records: Allocations;
  cache: RoxCache;
  jitCache: RoxCache;
  packs: BpfProgPack;
  handles: JitHandles;
}

/** Free space inside the ROX caches and BPF packs (trap-filled, mapped ROX). */
export function trapFilledExtents(s: ExecmemState): { start: Va; end: Va; owner: AllocatorKind }[] {
  const out: { start: Va; end: Va; owner: AllocatorKind }[] = [];
  for (const e of s.cache.free.extents(0, 2 ** 48)) out.push({ ...e, owner: "execmem_cache" });
  for (const e of s.jitCache.free.extents(0, 2 ** 48)) out.push({ ...e, owner: "jit_rox_cache" });
  for (const p of s.packs.packs)
    for (const e of p.free.extents(0, s.packs.chunks))
      out.push({ start: p.ptr + e.start * 64, end: p.ptr + e.end * 64, owner: "bpf_prog_pack" });
  return out.sort((a, b) => a.start - b.start);
}

/** Address-space map of [start, end): allocated, trap-filled (mapped, unused), free, reserved (guards, image). */
export function addressSpaceMap(s: ExecmemState, start: Va, end: Va): MapExtent[] {
  const marks: MapExtent[] = [];
  for (const a of s.records.allocs.values())
    if (a.addr < end && a.addr + a.size > start)
      marks.push({ start: a.addr, end: a.addr + a.size, state: "allocated", owner: a.allocator });
  for (const t of trapFilledExtents(s))
    if (t.start < end && t.end > start)
      marks.push({ start: t.start, end: t.end, state: "trap", owner: t.owner });
  for (const f of s.vm.vmap.extents(start, end))
    marks.push({ start: f.start, end: f.end, state: "free" });
  marks.sort((a, b) => a.start - b.start);
  const out: MapExtent[] = [];
  let cur = start;
  for (const m of marks) {
    const s = Math.max(m.start, start);
    const e = Math.min(m.end, end);
    if (s > cur) out.push({ start: cur, end: s, state: "reserved" });
    if (e > s) out.push({ ...m, start: Math.max(s, cur), end: e });
    cur = Math.max(cur, e);
  }
  if (cur < end) out.push({ start: cur, end, state: "reserved" });
  return out.filter((x) => x.end > x.start);
}

/** A deep, comparable copy of the whole allocator state (for tests of error atomicity). */
export function snapshot(s: ExecmemState): unknown {
  const areas = s.vm.areas
    .values()
    .sort((a, b) => a.va - b.va)
    .map((a) => ({
      ...a,
      prot: Array.from(a.prot),
      split: Array.from(a.split),
      protCount: Array.from(a.protCount),
      pa: a.pa.slice(),
    }));
  const cacheSnap = (c: RoxCache): unknown => ({
    free: c.free.snapshot(),
    busy: [...c.busy.entries()].sort((a, b) => a[0] - b[0]),
    areas: [...c.areas].sort((a, b) => a - b),
  });
  return JSON.parse(
    JSON.stringify({
      vmap: s.vm.vmap.snapshot(),
      phys: s.vm.phys.snapshot(),
      direct: s.vm.directMap.snapshot(),
      areas,
      allocs: [...s.records.allocs.values()]
        .map((a) => ({ ...a, effects: a.effects.length }))
        .sort((a, b) => a.addr - b.addr),
      ever: s.records.allocs.addresses().sort((a, b) => a - b),
      cache: cacheSnap(s.cache),
      jitCache: cacheSnap(s.jitCache),
      packs: s.packs.packs.map((p) => ({ ptr: p.ptr, used: p.used, free: p.free.snapshot() })),
      handles: s.handles.live().map((h) => ({ ...h })),
    }),
  );
}

/** Ranges worth drawing for this arch: the MODULE_TEXT range (and its fallback) and the BPF range. */
export function drawnRanges(info: ExecmemInfo): { name: string; start: Va; end: Va }[] {
  const out: { name: string; start: Va; end: Va }[] = [];
  const t = info.ranges.EXECMEM_MODULE_TEXT!;
  out.push({ name: "EXECMEM_MODULE_TEXT", start: t.start, end: t.end + 1 });
  if (t.fallback_start)
    out.push({
      name: "EXECMEM_MODULE_TEXT fallback",
      start: t.fallback_start,
      end: t.fallback_end + 1,
    });
  const b = info.ranges.EXECMEM_BPF!;
  if (b.start !== t.start || b.end !== t.end)
    out.push({ name: "EXECMEM_BPF", start: b.start, end: b.end + 1 });
  return out;
}
