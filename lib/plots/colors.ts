/**
 * One colour scheme for every figure: Okabe–Ito (colour-blind safe) for versions, outcomes and
 * verdicts; greys for empty cells and page permissions.
 */

import type { OutcomeClass, VerdictClass } from "../model";

export const okabeIto = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
} as const;

/** Light grey of empty / invalid / free cells. */
export const EMPTY = "#E8E8E8";

/**
 * What a residency cell holds, as the charts colour it.
 * new: the newest version; old: an older version of the same program; trap: trap fill
 * (int3, brk, ebreak); fault: a fetched fault; invalid: nothing held; other: a version outside
 * the scenario's order; exec / noexec: a TLB entry whose permissions allow / forbid fetch.
 */
export type VersionClass =
  "new" | "old" | "trap" | "fault" | "invalid" | "other" | "exec" | "noexec";

/** Order of the classes in legends and in the heatmaps' numeric encoding. */
export const VERSION_CLASSES: readonly VersionClass[] = [
  "new",
  "old",
  "trap",
  "fault",
  "invalid",
  "other",
  "exec",
  "noexec",
];

export const versionColors: Readonly<Record<VersionClass, string>> = {
  new: okabeIto.bluishGreen,
  old: okabeIto.orange,
  trap: okabeIto.reddishPurple,
  fault: okabeIto.vermillion,
  invalid: EMPTY,
  other: okabeIto.yellow,
  exec: "#5A5A5A",
  noexec: "#A8A8A8",
};

/** Legend names. */
export const versionLabels: Readonly<Record<VersionClass, string>> = {
  new: "new",
  old: "old (stale)",
  trap: "trap fill",
  fault: "fault",
  invalid: "invalid",
  other: "other version",
  exec: "TLB: executable (X)",
  noexec: "TLB: not executable",
};

export const outcomeColors: Readonly<Record<OutcomeClass, string>> = {
  new: okabeIto.bluishGreen,
  stale: okabeIto.orange,
  trap: okabeIto.reddishPurple,
  torn: okabeIto.yellow,
  fault: okabeIto.vermillion,
  oops: okabeIto.vermillion,
  "spurious-fault": okabeIto.skyBlue,
  unpredictable: okabeIto.blue,
  hang: okabeIto.black,
};

export const verdictColors: Readonly<Record<VerdictClass, string>> = {
  sufficient: okabeIto.bluishGreen,
  insufficient: okabeIto.vermillion,
  unknown: EMPTY,
};

/**
 * State of a piece of an address range in the fragmentation maps: handed out, free, free and
 * trap-filled, or reserved (in use by another vmalloc user).
 */
export type ExtentState = "allocated" | "free" | "trap" | "reserved";

export const extentColors: Readonly<Record<ExtentState | "unmapped", string>> = {
  allocated: okabeIto.blue,
  free: EMPTY,
  trap: okabeIto.reddishPurple,
  reserved: "#A8A8A8",
  unmapped: "#FFFFFF",
};

/**
 * Colours for series (allocators, strategies) in order; dash styles tell architectures apart.
 * Blue (allocated) and reddish purple (trap) come late so the first series never look like
 * them; yellow, faint on white, comes last.
 */
export const seriesColors: readonly string[] = [
  okabeIto.orange,
  okabeIto.bluishGreen,
  okabeIto.skyBlue,
  okabeIto.vermillion,
  okabeIto.black,
  okabeIto.blue,
  okabeIto.reddishPurple,
  okabeIto.yellow,
];

export const dashes: readonly string[] = [
  "solid",
  "dash",
  "dot",
  "dashdot",
  "longdash",
  "longdashdot",
];

/** The colour of the i-th series of a figure, from the one palette (cycles; any integer). */
export function seriesColor(i: number): string {
  return seriesColors[((i % seriesColors.length) + seriesColors.length) % seriesColors.length];
}

/** The colour of an outcome class ("new", "stale", "trap", ...); unknown names get the empty colour. */
export function outcomeColor(name: string): string {
  return (outcomeColors as Record<string, string>)[name] ?? EMPTY;
}

const TRAP_NAMES = new Set(["trap", "poison", "int3", "brk", "ebreak", "udf", "ud2"]);
const PERMISSION = /^(?:[R-][W-][X-]|[R-][X-]|[RWX]{1,3}|-+)$/;

/** Base name of a version such as "old:prog" -> "old". */
function base(v: string): string {
  const i = v.indexOf(":");
  return i > 0 ? v.slice(0, i) : v;
}

/**
 * Classifies a version name by a version order (oldest → newest, as the machine gives it with
 * each residency cell and witness change, or as the scenario declares it): its last entry is
 * "new" and every other entry "old". Trap fills, faults and TLB permissions classify on their
 * own; a version outside the order is "other".
 */
export function classifyVersion(
  version: string | null | undefined,
  order?: readonly string[],
): VersionClass {
  if (version === undefined || version === null) return "invalid";
  const v = version.trim();
  if (v === "" || /^(invalid|empty|none)$/i.test(v)) return "invalid";
  // A set the I-side may still present ("old|new"): coloured by the worst it may fetch.
  if (v.includes("|")) {
    const parts = v.split("|").map((x) => classifyVersion(x, order));
    for (const worst of ["trap", "fault", "old", "other"] as const)
      if (parts.includes(worst)) return worst;
    return parts[0];
  }
  const lower = v.toLowerCase();
  if (TRAP_NAMES.has(lower) || TRAP_NAMES.has(base(lower))) return "trap";
  if (lower === "fault" || lower.startsWith("fault") || lower === "spurious-fault") return "fault";
  if (order && order.length > 0) {
    let i = order.indexOf(v);
    if (i < 0) i = order.indexOf(base(v));
    if (i >= 0) return i === order.length - 1 ? "new" : "old";
  }
  if (PERMISSION.test(v)) {
    if (/^-+$/.test(v)) return "invalid";
    return v.includes("X") ? "exec" : "noexec";
  }
  return "other";
}

/** A discrete plotly colorscale for codes 0..n-1 (use zmin = -0.5, zmax = n - 0.5). */
export function discreteColorscale(colors: readonly string[]): Array<[number, string]> {
  const n = colors.length;
  const scale: Array<[number, string]> = [];
  colors.forEach((c, i) => {
    scale.push([i / n, c], [(i + 1) / n, c]);
  });
  return scale;
}
