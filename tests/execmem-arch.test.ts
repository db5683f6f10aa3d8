import { describe, expect, it } from "vitest";
import {
  execmemArchSetup,
  fmtVa,
  kva,
  branchReaches,
  SZ_128M,
  SZ_2G,
  PAGE_SIZE,
  MODULE_SIZES,
} from "../lib";

const SZ_1M = 1024 * 1024;

describe("execmem_arch_setup layouts", () => {
  it("x86-64: all types share [MODULES_VADDR + 1..1024 pages, MODULES_END)", () => {
    const { info, layout } = execmemArchSetup("x86-64", { seed: 7 });
    const t = info.ranges.EXECMEM_MODULE_TEXT!;
    const off = layout.randomization.moduleOffset;
    expect(off % PAGE_SIZE).toBe(0);
    expect(off / PAGE_SIZE).toBeGreaterThanOrEqual(1);
    expect(off / PAGE_SIZE).toBeLessThanOrEqual(1024);
    expect(kva(t.start)).toBe(0xffffffffc0000000n + BigInt(off));
    expect(fmtVa(t.end + 1)).toBe("0xffffffffff000000");
    // 1008 MiB with KASLR
    expect(t.end + 1 - (t.start - off)).toBe(1008 * SZ_1M);
    expect(t.flags).toContain("EXECMEM_ROX_CACHE");
    expect(t.pgprot).toBe("PAGE_KERNEL_ROX");
    for (const ty of [
      "EXECMEM_KPROBES",
      "EXECMEM_FTRACE",
      "EXECMEM_BPF",
      "EXECMEM_MODULE_DATA",
    ] as const) {
      expect(info.ranges[ty]!.start).toBe(t.start);
      expect(info.ranges[ty]!.pgprot).toBe("PAGE_KERNEL");
      expect(info.ranges[ty]!.flags).not.toContain("EXECMEM_ROX_CACHE");
    }
    const noKaslr = execmemArchSetup("x86-64", { kaslr: false });
    const r = noKaslr.info.ranges.EXECMEM_MODULE_TEXT!;
    expect(r.end + 1 - r.start).toBe(1520 * SZ_1M);
  });

  it("x86-64: the seed decides the module offset, deterministically", () => {
    const a = execmemArchSetup("x86-64", { seed: 1 }).layout.randomization.moduleOffset;
    const b = execmemArchSetup("x86-64", { seed: 1 }).layout.randomization.moduleOffset;
    const offs = new Set(
      [1, 2, 3, 4, 5, 6].map(
        (s) => execmemArchSetup("x86-64", { seed: s }).layout.randomization.moduleOffset,
      ),
    );
    expect(a).toBe(b);
    expect(offs.size).toBeGreaterThan(1);
  });

  it("arm64: 128 MiB window around the image, 2 GiB PLT fallback containing it; BPF/kprobes in vmalloc", () => {
    for (const seed of [1, 2, 3, 99]) {
      const { info, layout } = execmemArchSetup("arm64", { seed });
      const t = info.ranges.EXECMEM_MODULE_TEXT!;
      expect(t.end + 1 - t.start).toBe(SZ_128M);
      expect(t.start).toBeLessThanOrEqual(layout.kernelImage.start);
      expect(t.end + 1).toBeGreaterThanOrEqual(layout.kernelImage.end);
      expect(t.fallback_end + 1 - t.fallback_start).toBe(SZ_2G);
      expect(t.fallback_start).toBeLessThanOrEqual(t.start);
      expect(t.fallback_end).toBeGreaterThanOrEqual(t.end);
      expect(info.ranges.EXECMEM_BPF!.start).toBe(layout.vmalloc.start);
      expect(info.ranges.EXECMEM_KPROBES!.pgprot).toBe("PAGE_KERNEL_ROX");
      // FTRACE has no range of its own: execmem_init_missing() copies DEFAULT's
      expect(info.ranges.EXECMEM_FTRACE).toEqual(t);
      expect(info.ranges.EXECMEM_MODULE_DATA!.pgprot).toBe("PAGE_KERNEL");
      // any module text reaches the whole image with BL
      expect(branchReaches(layout, "BL", t.start, layout.kernelImage.end - 4)).toBe(true);
      expect(branchReaches(layout, "BL", t.end - 3, layout.kernelImage.start)).toBe(true);
    }
    const nk = execmemArchSetup("arm64", { kaslr: false });
    expect(nk.info.ranges.EXECMEM_MODULE_TEXT!.end + 1).toBe(nk.layout.kernelImage.end);
  });

  it("riscv64: modules in [_end - 2 GiB, _start), BPF in the top 128 MiB below MODULES_END", () => {
    const { info, layout } = execmemArchSetup("riscv64", { seed: 3 });
    const t = info.ranges.EXECMEM_MODULE_TEXT!;
    expect(t.end + 1).toBe(layout.kernelImage.start);
    expect(t.start).toBe(layout.kernelImage.end - SZ_2G);
    const b = info.ranges.EXECMEM_BPF!;
    expect(b.end + 1).toBe(t.end + 1);
    expect(b.end + 1 - b.start).toBe(SZ_128M);
    expect(b.alignment).toBe(PAGE_SIZE);
    expect(branchReaches(layout, "AUIPC+JALR", t.start, layout.kernelImage.end - 4)).toBe(true);
    expect(branchReaches(layout, "JAL", t.start, layout.kernelImage.end - 4)).toBe(false);
  });

  it("ships the module size table derived from a Debian kernel package", () => {
    expect(MODULE_SIZES.count).toBeGreaterThan(1000);
    const med = MODULE_SIZES.quantiles.find((q) => q.p === 0.5)!;
    expect(med.text).toBeGreaterThan(512);
    expect(med.text).toBeLessThan(64 * 1024);
  });
});

describe("architecture names at the execmem boundary", () => {
  it("accepts the kernel's other spellings as aliases of one name", () => {
    const a = execmemArchSetup("x86_64" as never, { seed: 7 }).info.ranges;
    const b = execmemArchSetup("x86-64", { seed: 7 }).info.ranges;
    expect(a).toEqual(b);
    expect(execmemArchSetup("aarch64" as never, { seed: 7 }).info.ranges).toEqual(
      execmemArchSetup("arm64", { seed: 7 }).info.ranges,
    );
  });

  it("names an unknown architecture and the call it reached", () => {
    expect(() => execmemArchSetup("sparc64" as never, { seed: 7 })).toThrow(
      /^execmem_arch_setup\(arch=sparc64\): unknown architecture \(known: x86-64, arm64, riscv64\)$/,
    );
  });
});
