// The writes the allocators make into text: through an alias, the architecture's text-poking
// copy and fill (lib/arch/<name>/execmem.ts textPoke), and the trap fill through the VA.
import type { ArchExecmem, ArchLayout, Va, WriteAlias } from "../arch/execmem";
import type { Vmalloc } from "./vmalloc";

export class TextPoke {
  constructor(
    private readonly vm: Vmalloc,
    private readonly layout: ArchLayout,
    /** The architecture's execmem table (its text poking). */
    private readonly hooks: ArchExecmem,
  ) {}

  writeVia(alias: WriteAlias, va: Va, size: number, content: string): void {
    this.vm.fx.push({ kind: "write", va, size, via: alias, content });
  }

  /**
   * The arch's text_poke-like copy (execmem_update_copy, bpf_arch_text_copy):
   * arch/x86/kernel/alternative.c text_poke_copy() (__text_poke through the poking mm, chunk by
   * chunk, no text_poke_sync()); arch/arm64/kernel/patching.c aarch64_insn_copy();
   * arch/riscv/kernel/patch.c patch_text_nosync().
   */
  copy(va: Va, size: number, content: string, sync = false): void {
    this.vm.fx.push({ kind: "text_poke", fn: this.hooks.textPoke.copy, va, size, content, sync });
    this.afterPoke(va, size);
  }

  /**
   * The arch's fill with one byte or instruction: x86 text_poke_set() (no text_poke_sync()),
   * arm64 aarch64_insn_set(), riscv patch_text_set_nosync(); used by bpf_arch_text_invalidate()
   * and the ROX cache's execmem_fill_trapping_insns(writable = false).
   */
  set(va: Va, size: number): void {
    const fn = this.hooks.textPoke.set;
    this.vm.fx.push({
      kind: "text_poke",
      fn,
      va,
      size,
      content: this.layout.trapInsn,
      sync: false,
    });
    this.vm.fx.push({
      kind: "trap_fill",
      va,
      size,
      via: this.layout.textPokeAlias,
      insn: this.layout.trapInsn,
    });
    this.afterPoke(va, size);
  }

  private afterPoke(va: Va, size: number): void {
    // arm64 aarch64_insn_copy/set end with flush_icache_range(); riscv patch_text_nosync with
    // flush_icache_range() == flush_icache_all(); x86 needs none.
    const fn = this.hooks.textPoke.then;
    if (fn) this.vm.fx.push({ kind: "cache_maintenance", fn, va, size });
  }

  trapFillVa(va: Va, size: number): void {
    this.vm.fx.push({ kind: "trap_fill", va, size, via: "va", insn: this.layout.trapInsn });
  }
}
