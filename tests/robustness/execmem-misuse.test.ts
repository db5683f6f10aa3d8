/** Misuse of the execmem API: an ExecmemError naming the pointer and the allocation, never a raw JS error. */
import { describe, expect, it } from "vitest";
import { Execmem, ExecmemError, PAGE_SIZE, fmtVa } from "../../lib";

function caught(f: () => void): ExecmemError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ExecmemError);
    return e as ExecmemError;
  }
  throw new Error("no error");
}

describe("execmem misuse", () => {
  for (const arch of ["x86-64", "arm64", "riscv64"] as const) {
    it(`${arch}: text-poking copies into EXECMEM_MODULE_DATA are refused, nothing emitted`, () => {
      const s = new Execmem(arch, { kaslr: false });
      const p = s.execmem_alloc("EXECMEM_MODULE_DATA", PAGE_SIZE);
      const before = s.allocation(p)!.effects.length;
      for (const call of ["execmem_update_copy", "bpf_arch_text_copy"] as const) {
        const e = caught(() => s[call](p + 16, 8, "new"));
        expect(e.message).toBe(
          `${call}(addr=${fmtVa(p + 16)}): not executable memory: it is in the allocation at ${fmtVa(p)} (${PAGE_SIZE} bytes from execmem_alloc, EXECMEM_MODULE_DATA)`,
        );
      }
      expect(s.allocation(p)!.effects.length).toBe(before);
      // Executable memory still takes the copy.
      const t = s.execmem_alloc("EXECMEM_BPF", PAGE_SIZE);
      expect(() => s.bpf_arch_text_copy(t, 8, "new")).not.toThrow();
    });
  }

  it("execmem_free(NaN), (undefined), a string: not a pointer", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    for (const [bad, shown] of [
      [NaN, "NaN"],
      [undefined, "undefined"],
      ["0x10", '"0x10"'],
      [-1, "-1"],
      [1.5, "1.5"],
    ] as const) {
      const e = caught(() => s.execmem_free(bad as unknown as number));
      expect(e.message).toBe(
        `execmem_free(addr=${shown}): not a pointer: pass the address an allocation returned`,
      );
    }
    const e = caught(() => s.set_memory_rox(NaN, 1));
    expect(e.message).toMatch(/^set_memory_rox\(addr=NaN\): not a pointer/);
  });

  it("execmem_free(p + 8): names the pointer and the allocation containing it", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    const p = s.execmem_alloc("EXECMEM_MODULE_TEXT", 2 * PAGE_SIZE);
    const e = caught(() => s.execmem_free(p + 8));
    expect(e.message).toBe(
      `execmem_free(addr=${fmtVa(p + 8)}): points 8 bytes into the allocation at ${fmtVa(p)} (${2 * PAGE_SIZE} bytes from execmem_cache, EXECMEM_MODULE_TEXT); free the address the allocation returned`,
    );
    // Nothing was freed: the real pointer still frees once.
    s.execmem_free(p);
    expect(caught(() => s.execmem_free(p)).message).toMatch(/double free/);
  });
});
