/** Adapters from the allocator simulator's and the cost model's results to the plot inputs. */
import type { SweepRow } from "../cost/model";
import type { AllocatorRun } from "../execmem/workload";
import type { Extent, FragmentationSeries } from "./fragmentation";
import type { LatencySeries } from "./latency";

/** Cost-model sweep rows (latencySweep) as latency series, in ns. */
export function latencyFromSweep(rows: readonly SweepRow[]): LatencySeries[] {
  return rows.map((r) => ({
    strategy: r.strategy,
    arch: r.arch,
    cpus: r.cpus,
    unit: "ns",
    ...(r.samples ? { samples: r.samples } : {}),
    quantiles: [
      { p: 0, value: r.quantiles.min },
      { p: 0.1, value: r.quantiles.p10 },
      { p: 0.5, value: r.quantiles.p50 },
      { p: 0.9, value: r.quantiles.p90 },
      { p: 0.99, value: r.quantiles.p99 },
      { p: 1, value: r.quantiles.max },
    ],
    value: r.medianModelNs,
  }));
}

/**
 * An allocator run (runAllocator / compareAllocators, with `maps: true` for the address maps)
 * as a fragmentation series over one of its ranges (default: the first).
 */
export function fragmentationFromRun(
  run: Pick<AllocatorRun, "strategy" | "arch" | "samples">,
  opts: { range?: string; name?: string } = {},
): FragmentationSeries {
  const first = run.samples[0]?.ranges ?? [];
  const r = (opts.range ? first.find((x) => x.name === opts.range) : first[0]) ?? null;
  const inRange = (e: { start: number; end: number }) => !r || (e.end > r.start && e.start < r.end);
  // The drawn span ends at the last extent in use; free space after it is left out of the map.
  return {
    allocator: opts.name ?? run.strategy,
    steps: run.samples.map((s) => {
      const map = (s.map ?? []).filter(inRange);
      const all: Extent[] = map.map((e) => ({
        start: r ? Math.max(e.start, r.start) : e.start,
        end: r ? Math.min(e.end, r.end) : e.end,
        state: e.state,
        ...(e.owner ? { owner: String(e.owner) } : {}),
      }));
      const extents = all.length && all[all.length - 1].state === "free" ? all.slice(0, -1) : all;
      return {
        t: s.event,
        extents,
        freeExtents: all.filter((e) => e.state === "free").map((e) => e.end - e.start),
        directMapSplits: s.directMapSplit1G + s.directMapSplit2M,
        hugeMappings: s.text2M,
        label: `event ${s.event}: ${s.liveCount} live, ${s.failures} failed`,
      };
    }),
  };
}
