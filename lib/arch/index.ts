import type { ArchVariant } from "./types";
import { x86_64 } from "./x86-64";
import { x86_64_fred } from "./x86-64-fred";
import { arm64 } from "./arm64";
import { arm64_idc, arm64_dic, arm64_idc_dic, arm64_exs } from "./arm64-variants";
import { riscv64, riscv64_svvptc } from "./riscv64";
import { riscv64_ziccid } from "./riscv64-ziccid";
import { riscv64_fencei_local } from "./riscv64-fencei-local";

export * from "./types";

/** Every architecture variant the model knows, by name. A new variant is one more file here. */
export const architectures: Readonly<Record<string, ArchVariant>> = Object.fromEntries(
  [
    x86_64,
    x86_64_fred,
    arm64,
    arm64_idc,
    arm64_dic,
    arm64_idc_dic,
    arm64_exs,
    riscv64,
    riscv64_svvptc,
    riscv64_ziccid,
    riscv64_fencei_local,
  ].map((a) => [a.name, a]),
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
export * from "./sync-table";
