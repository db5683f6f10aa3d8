// mm/execmem.c: the generic core over each architecture's execmem_arch_setup() table
// (lib/arch/<name>/execmem.ts).
import { ARCHES, archNameOf, archSetup, families, perArch, type ArchName } from "../arch";
import type { ArchLayout, ArchSetup, ArchSetupOptions } from "../arch/execmem";
import type { ExecmemInfo, ExecmemType, Va } from "../arch/execmem";
import { ExecmemError } from "./types";

/**
 * Assumed sizes of the kernel image (_end - _text), per architecture. A distribution kernel is
 * tens of MiB; the exact value only moves the windows derived from it.
 */
export const KERNEL_IMAGE_BYTES: Readonly<Record<ArchName, number>> = perArch(
  (a) => a.execmem.kernelImageBytes,
);

/**
 * execmem_arch_setup() followed by mm/execmem.c execmem_init_missing(): every type without a
 * range of its own gets DEFAULT's; MODULE_DATA then gets PAGE_KERNEL.
 */
export function execmemArchSetup(arch: ArchName, opts: ArchSetupOptions = {}): ArchSetup {
  const o: Required<ArchSetupOptions> = { seed: 1, kaslr: true, rox: true, kasan: false, ...opts };
  const name = archNameOf(arch);
  if (!name)
    throw new ExecmemError(
      "execmem_arch_setup",
      `arch=${String(arch)}`,
      `unknown architecture (known: ${ARCHES.join(", ")})`,
    );
  const s = archSetup(name, families[name].execmem, o);
  execmemInitMissing(s.info);
  return s;
}

/** mm/execmem.c execmem_init_missing(). */
export function execmemInitMissing(info: ExecmemInfo): void {
  const d = info.ranges.EXECMEM_MODULE_TEXT;
  if (!d)
    throw new ExecmemError(
      "execmem_init",
      "EXECMEM_DEFAULT",
      "no default range (execmem_validate)",
    );
  const types: ExecmemType[] = [
    "EXECMEM_KPROBES",
    "EXECMEM_FTRACE",
    "EXECMEM_BPF",
    "EXECMEM_MODULE_DATA",
  ];
  for (const t of types) {
    if (info.ranges[t]) continue;
    info.ranges[t] = { ...d, pgprot: t === "EXECMEM_MODULE_DATA" ? "PAGE_KERNEL" : d.pgprot };
  }
}

/** Whether a PC-relative branch of the given kind at `from` reaches `to`. */
export function branchReaches(layout: ArchLayout, insn: string, from: Va, to: Va): boolean {
  const b = layout.branches.find((x) => x.insn === insn);
  if (!b)
    throw new ExecmemError("branchReaches", `insn=${insn}`, `no such branch on ${layout.arch}`);
  const d = to - from;
  return d >= -b.reach && d < b.reach;
}
