// The architecture registry: one entry per architecture (lib/arch/<name>/), keyed by name.
import type { ArchFamily, ArchName, ArchSequences, ArchVariant, MacroStep } from "./types";
import { x86_64Family } from "./x86-64/index";
import { arm64Family } from "./arm64/index";
import { riscv64Family } from "./riscv64/index";

export * from "./types";
export * from "./execmem";
export * from "./cost";
export * from "./sync-table";

/** Every architecture the model knows, by name. A new architecture is one more line here. */
export const families: Readonly<Record<ArchName, ArchFamily>> = {
  "x86-64": x86_64Family,
  arm64: arm64Family,
  riscv64: riscv64Family,
};

/** The architecture names, in registry order. */
export const ARCHES: readonly ArchName[] = Object.values(families).map((f) => f.name);

/** One value per architecture, read off each registry entry. */
export function perArch<T>(f: (entry: ArchFamily) => T): Record<ArchName, T> {
  return Object.fromEntries(ARCHES.map((a) => [a, f(families[a])])) as Record<ArchName, T>;
}

/** Every architecture variant the model knows, by name (each architecture's, base first). */
export const architectures: Readonly<Record<string, ArchVariant>> = Object.fromEntries(
  Object.values(families).flatMap((f) => f.variants.map((v) => [v.name, v])),
);

/**
 * The architecture variant named `name` (e.g. "x86-64", "arm64+idc+dic", "riscv64").
 * @throws {Error} naming the unknown variant and listing the known ones.
 */
export function getArch(name: string): ArchVariant {
  const a = architectures[name];
  if (!a) {
    throw new Error(
      `unknown architecture "${name}"; known: ${Object.keys(architectures).join(", ")}`,
    );
  }
  return a;
}

/**
 * The architecture `name` stands for: its own name, another spelling of it ("x86_64") or one of
 * its variants ("arm64+idc"); undefined when it names none. The one mapping of typed names.
 */
export function archNameOf(name: string): ArchName | undefined {
  if (Object.hasOwn(families, name)) return name as ArchName;
  for (const f of Object.values(families)) if (f.aliases.includes(name)) return f.name;
  return Object.hasOwn(architectures, name) ? architectures[name].family : undefined;
}

/**
 * The architecture entry for an architecture name, an alias or a variant name.
 * @throws {Error} naming the unknown name and listing the known architectures.
 */
export function archFamily(name: string): ArchFamily {
  const n = archNameOf(String(name));
  if (!n) throw new Error(`unknown architecture "${String(name)}"; known: ${ARCHES.join(", ")}`);
  return families[n];
}

/** One of the sequences an architecture spells out (ArchSequences), for a name, alias or variant. */
export function archSequence(arch: string, name: keyof ArchSequences): readonly MacroStep[] {
  return archFamily(arch).sequences[name];
}

/** Rows grouped by their `arch` (an architecture or variant name), each group in row order. */
export function byArch<T extends { readonly arch: string }>(
  rows: readonly T[],
): Partial<Record<string, T[]>> {
  const out: Partial<Record<string, T[]>> = {};
  for (const r of rows) (out[r.arch] ??= []).push(r);
  return out;
}

/** Whether two names (an architecture, an alias or a variant) belong to the same architecture. */
export function sameArch(a: string, b: string): boolean {
  return archFamily(a) === archFamily(b);
}
