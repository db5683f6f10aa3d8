// Named cost constants per architecture (lib/arch/<name>/cost.ts). Each carries its source: a
// published figure, a calibration against one (stated), or a stated assumption. Values are
// medians; samples draw log-normal jitter with the given spread (sigma of the log).
import { perArch } from "../arch";
import type { ArchName, CostConstant, CostConstantName, CostConstants } from "../arch";

/** Each architecture's constants, from the registry. */
export const DEFAULT_CONSTANTS: Readonly<Record<ArchName, CostConstants>> = perArch(
  (a) => a.cost.constants,
);

/** Constants of one arch with overrides (a number replaces the value; an object replaces fields). */
export function withOverrides(
  arch: ArchName,
  overrides: Partial<Record<CostConstantName, number | Partial<CostConstant>>> = {},
): CostConstants {
  const base = DEFAULT_CONSTANTS[arch];
  if (!base) throw new Error(`costModel: unknown arch ${String(arch)}`);
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides) as [
    CostConstantName,
    number | Partial<CostConstant>,
  ][]) {
    if (!(k in base)) throw new Error(`costModel(${arch}): unknown constant ${k}`);
    if (typeof v === "number") {
      if (!Number.isFinite(v) || v < 0)
        throw new Error(`costModel(${arch}): ${k} must be a finite non-negative number`);
      out[k] = {
        ...base[k],
        value: v,
        source: `override from a cell (default ${base[k].value}: ${base[k].source})`,
      };
    } else
      out[k] = { ...base[k], ...v, source: v.source ?? `override from a cell (${base[k].source})` };
  }
  return out;
}
