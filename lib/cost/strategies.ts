// Publish and patch strategies as data: each is a list of named steps whose cost is a formula
// over the named constants, the CPU count and the size of the change. Each architecture's own
// are in lib/arch/<name>/cost.ts; here the sequences of the thread every architecture runs in
// its own steps: A5 (Andy Lutomirski, 06-20) and the handle protocol's jit_text_map (A4).
import { ARCHES, costStep as step, families, type ArchName, type Strategy } from "../arch";

function a5(arch: ArchName, zap: boolean): Strategy {
  return {
    name: zap ? "A5 sequence (zap direct map)" : "A5 sequence",
    arch,
    args: ["A5"],
    description:
      "allocate pages, write via the direct map, local barrier, [zap the direct map], per-arch maintenance, install RX PTE, store-release flag",
    bytes: 4096,
    sites: 1,
    steps: [
      step(
        "allocate pages",
        "ceil(bytes/4096) × allocPagesNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("allocPagesNs"),
      ),
      step("write via direct map", "lines × copyNsPerLine", (c) => c.lines * c.k("copyNsPerLine")),
      families[arch].cost.localBarrier,
      ...(zap ? [families[arch].cost.zapDirectMap] : []),
      ...families[arch].cost.mapSync,
      step(
        "install RX PTE",
        "ceil(bytes/4096) × pteWriteNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("pteWriteNs"),
      ),
      step("store-release flag", "fenceNs", (c) => c.k("fenceNs")),
    ],
  };
}

function handleMap(arch: ArchName): Strategy {
  return {
    name: "jit_text_map",
    arch,
    args: ["A4"],
    description: "handle protocol: the synchronisation jit_text_map() does per arch, then the PTEs",
    bytes: 4096,
    sites: 1,
    steps: [
      ...families[arch].cost.mapSync,
      step(
        "install RX PTE",
        "ceil(bytes/4096) × pteWriteNs",
        (c) => Math.ceil((c.lines * 64) / 4096) * c.k("pteWriteNs"),
      ),
    ],
  };
}

export const STRATEGIES: readonly Strategy[] = [
  ...ARCHES.flatMap((a) => families[a].cost.strategies),
  ...ARCHES.flatMap((a) => [a5(a, false), a5(a, true), handleMap(a)]),
];

/** The text-publishing strategies modelled for an architecture, in the order they are plotted. */
export function strategiesFor(arch: ArchName): Strategy[] {
  return STRATEGIES.filter((s) => s.arch === arch);
}
