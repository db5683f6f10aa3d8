// The options of an execmem allocator, and what its parts share: the vmalloc space, the allocation records, the
// text poking, and the bracket of each public call (its effects).
import type {
  ArchLayout,
  ArchSetupOptions,
  ExecmemInfo,
  ExecmemRange,
  ExecmemType,
  Va,
} from "../arch/execmem";
import type { Allocation, Allocations } from "./records";
import type { TextPoke } from "./text-poke";
import type { Vmalloc } from "./vmalloc";

export interface ExecmemParts {
  readonly layout: ArchLayout;
  readonly vm: Vmalloc;
  readonly records: Allocations;
  readonly poke: TextPoke;
  /** Start a public call: its effects begin empty. */
  begin(): void;
  /** End a public call: its effects become lastEffects and join the record's. */
  end<T>(v: T, record?: Allocation): T;
  /** The range of an execmem type (an ExecmemError if there is none). */
  rangeOf(call: string, type: ExecmemType): ExecmemRange;
  /** A size argument: a positive integer no larger than `max`. */
  checkSize(call: string, size: number, max: number): void;
}

export interface ExecmemOptions extends ArchSetupOptions {
  /** Physical memory of the modelled machine (bytes, multiple of 2 MiB). Default 64 GiB. */
  physBytes?: number;
  /** num_possible_nodes() for BPF_PROG_PACK_SIZE. Default 1. */
  numaNodes?: number;
  /** Run execmem_cache_clean (the worker free schedules) synchronously after each free. Default true. */
  cleanOnFree?: boolean;
  /** Replace the arch ranges (after execmem_init_missing semantics are applied by the caller). */
  info?: ExecmemInfo;
  /** Model the ROX cache even where the kernel does not enable it (what-if). Default: arch decides. */
  forceRoxCache?: boolean;
  /** The thread's ROX cache (A8) releases wholly free 2 MiB pages when true. Default false. */
  jitRoxCacheRelease?: boolean;
}

export interface RangeView {
  start: Va;
  end: Va;
}
