/** The litmus-style scenario format: what each construct parses to. */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it, vi } from "vitest";
import { explore, parseScenario, type Op } from "../lib";

const strip = (ops: Op[]) => ops.map(({ pos: _pos, ...o }) => o);

function file(arch: string, init: string, procs: string[], tail = "", head = ""): string {
  const ps = procs.map((b, i) => `P${i}(int *x)\n{\n${b}\n}\n`).join("\n");
  return `C test\narch ${arch}\n${head}\n{\n${init}\n}\n\n${ps}\n${tail}\n`;
}
const INIT = "  x = 0;\n  code f[2] = old versions(old, new);";
const prog = (arch: string, body: string, init = INIT) =>
  strip(parseScenario(file(arch, init, [body, "  int r0;\n  r0 = f();"])).cpus[0].program);
/** The ops an instruction / routine statement gives: `{op, name}`, on region f where it names it. */
const insns = (...names: string[]) => names.map((name) => ({ op: "insn", name }));
const macros = (...names: string[]) => names.map((name) => ({ op: "macro", name }));
const onF = (op: "insn" | "macro", name: string, line?: number) => ({
  op,
  name,
  region: "f",
  ...(line === undefined ? {} : { line }),
});

describe("header, comments, Result:", () => {
  it("parses S1 into the spec the builder would give", () => {
    const s = parseScenario(
      readFileSync(join(__dirname, "scenarios/S1.litmus"), "utf8"),
      "S1.litmus",
    );
    expect(s.name).toBe("S1+direct-map-write+no-serialise");
    expect(s.arch).toBe("x86-64");
    expect(s.expect).toBe("Sometimes");
    expect(s.condition).toBe("exists (1:r0=stale)");
    expect(s.data).toEqual({ flag: 0 });
    expect(s.regions).toEqual([{ name: "f", lines: 2, versions: ["old", "new"], initial: "old" }]);
    expect(strip(s.cpus[0].program)).toEqual([
      { op: "write", region: "f", version: "new", via: "direct-map" },
      { op: "store", loc: "flag", value: 1, release: true },
    ]);
    expect(strip(s.cpus[1].program)).toEqual([
      { op: "await", loc: "flag", value: 1, acquire: true },
      { op: "call", reg: "r0", region: "f" },
    ]);
    expect(s.cpus[1].program[1].pos).toEqual({ line: 29, column: 3 });
    expect(s.doc).toMatch(/^MODEL.md S1: the page is mapped RX/);
    expect(s.doc).not.toMatch(/Result/);
  });

  it("takes (* *) comments anywhere outside braces, and C comments anywhere", () => {
    const t = `(* leading *)\nC t (* after the name *)\narch arm64 // the arch\n(*\n * Result: Always\n *)\n{ x = 0; /* data */ code f = new versions(new); }\n(* between *)\nP0(int *x) { int r0; r0 = f(); // call\n}\n(* before the condition *)\nexists (0:r0=new) // done\n`;
    const s = parseScenario(t);
    expect(s.expect).toBe("Always");
    expect(s.doc).toContain("between");
    expect(explore(s).observation).toBe("Always");
  });

  it("a file without a condition or Result: line is still a scenario", () => {
    const s = parseScenario(
      file("x86-64", INIT, ["  text_write(f, new);", "  int r0;\n  r0 = f();"]),
    );
    expect(s.condition).toBeUndefined();
    expect(s.expect).toBeUndefined();
  });

  it("ignores LKMM process parameters, local declarations and a locations line", () => {
    const t = file(
      "x86-64",
      "  int x = 2;\n  unsigned int y;\n  code f = old versions(old, new);",
      ["  int r0, *p;\n  r0 = READ_ONCE(*x);", "  WRITE_ONCE(y, 1);"],
      "locations [x; y]\nexists (0:r0=2)",
    );
    const s = parseScenario(t);
    expect(s.data).toEqual({ x: 2, y: 0 });
    expect(explore(s).observation).toBe("Always");
  });
});

describe("tools/memory-model tests run with an arch line added", () => {
  it("MP+pooncerelease+poacquireonce: parameters declare the shared locations", () => {
    const t = [
      "C MP+pooncerelease+poacquireonce",
      "arch arm64",
      "",
      "(*",
      " * Result: Never",
      " *",
      " * This litmus test demonstrates that smp_store_release() and",
      " * smp_load_acquire() provide sufficient ordering for the message-passing",
      " * pattern.",
      " *)",
      "",
      "{}",
      "",
      "P0(int *buf, int *flag)",
      "{",
      "\tWRITE_ONCE(*buf, 1);",
      "\tsmp_store_release(flag, 1);",
      "}",
      "",
      "P1(int *buf, int *flag)",
      "{",
      "\tint r0;",
      "\tint r1;",
      "",
      "\tr0 = smp_load_acquire(flag);",
      "\tr1 = READ_ONCE(*buf);",
      "}",
      "",
      "exists (1:r0=1 /\\ 1:r1=0)",
    ].join("\n");
    const s = parseScenario(t, "MP.litmus");
    expect(s.data).toEqual({ buf: 0, flag: 0 });
    const r = explore(s);
    expect(r.observation).toBe("Never");
    expect(r.matchesExpectation).toBe(true);
    // Without the release/acquire pair the message-passing violation is reachable on arm64.
    const relaxed = explore(
      parseScenario(
        t
          .replace("smp_store_release(flag, 1)", "WRITE_ONCE(*flag, 1)")
          .replace("smp_load_acquire(flag)", "READ_ONCE(*flag)"),
      ),
    );
    expect(relaxed.observation).toBe("Sometimes");
  });
});

describe("initial state", () => {
  it("code regions: lines, per-line content, page, shares, insn; pages; frames", () => {
    const s = parseScenario(
      file(
        "arm64",
        [
          "  int x = 3;",
          "  code f[2] = {old, trap} versions(old, new) insn(old=NOP, new=B);",
          "  code g = b1 versions(b1, b2) page(f) shares(f);",
          "  page f = PAGE_KERNEL_ROX frame(f2);",
          "  frame f2 = new like(f);",
          "  code h = trap versions(h1);",
          "  page h = none;",
        ].join("\n"),
        ["  int r0;\n  r0 = f();"],
      ),
    );
    expect(s.data).toEqual({ x: 3 });
    expect(s.regions).toEqual([
      {
        name: "f",
        lines: 2,
        versions: ["old", "new"],
        initial: ["old", "trap"],
        insn: { old: "NOP", new: "B" },
      },
      {
        name: "g",
        lines: 1,
        versions: ["b1", "b2"],
        initial: "b1",
        page: "f",
        sharesLineWith: "f",
      },
      { name: "h", lines: 1, versions: ["h1"], initial: "trap" },
    ]);
    expect(s.pages).toEqual([
      { name: "f", perm: "RX", frame: "f2" },
      { name: "h", perm: "", frame: null },
    ]);
    expect(s.frames).toEqual([{ name: "f2", like: "f", initial: "new" }]);
  });

  it("directives: speculate and interrupts per process", () => {
    const s = parseScenario(
      file(
        "x86-64+fred",
        INIT + "\n  code g = a versions(a);",
        ["  text_write(f, new);", "  int r0;\n  r0 = f();"],
        "",
        "speculate P1 f, g\nspeculate P0 none;\ninterrupts P1 2\n",
      ),
    );
    expect(s.cpus[0].speculate).toEqual([]);
    expect(s.cpus[1].speculate).toEqual(["f", "g"]);
    expect(s.cpus[1].interrupts).toBe(2);
    expect(s.cpus[0].interrupts).toBeUndefined();
  });
});

describe("statements", () => {
  it("data: WRITE_ONCE, smp_store_release, READ_ONCE, smp_load_acquire, with or without *", () => {
    expect(
      prog(
        "x86-64",
        "  int r1, r2;\n  WRITE_ONCE(*x, 2);\n  smp_store_release(x, 3);\n  r1 = READ_ONCE(*x);\n  r2 = smp_load_acquire(x);",
      ),
    ).toEqual([
      { op: "store", loc: "x", value: 2, release: false },
      { op: "store", loc: "x", value: 3, release: true },
      { op: "load", reg: "r1", loc: "x", acquire: false },
      { op: "load", reg: "r2", loc: "x", acquire: true },
    ]);
  });

  it("spin-waits become await", () => {
    const s = parseScenario(
      file("x86-64", "  x = 0;\n  y = 0;\n  z = 5;\n  code f = old versions(old, new);", [
        "  WRITE_ONCE(x, 7);\n  WRITE_ONCE(z, 0);",
        "  while (!smp_load_acquire(x));\n  while (READ_ONCE(*x) != 7) cpu_relax();\n  while (READ_ONCE(y) == 0) { cpu_relax(); }\n  while (READ_ONCE(z));",
        "  WRITE_ONCE(y, 4);",
      ]),
    );
    expect(strip(s.cpus[1].program)).toEqual([
      { op: "await", loc: "x", value: 7, acquire: true },
      { op: "await", loc: "x", value: 7, acquire: false },
      { op: "await", loc: "y", value: 4, acquire: false },
      { op: "await", loc: "z", value: 0, acquire: false },
    ]);
  });

  it("code writes, PTE writes, calls, interrupts", () => {
    const init = INIT + "\n  frame f2 = trap like(f);";
    expect(
      prog(
        "x86-64",
        "  int r0;\n  text_write(f, new);\n  text_write(f+1, trap, text);\n  text_write(f, new, poke, f2);\n  text_write(f, new, f2);\n  set_pte(f, none);\n  set_pte(f, RX, f2);\n  set_pte(f, PAGE_KERNEL);\n  r0 = call(f);\n  interrupt();",
        init,
      ),
    ).toEqual([
      { op: "write", region: "f", version: "new", via: "direct-map" },
      { op: "write", region: "f", line: 1, version: "trap", via: "text" },
      { op: "write", region: "f", version: "new", via: "poke", frame: "f2" },
      { op: "write", region: "f", version: "new", via: "direct-map", frame: "f2" },
      { op: "pte", page: "f", perm: "" },
      { op: "pte", page: "f", perm: "RX", frame: "f2" },
      { op: "pte", page: "f", perm: "RW" },
      { op: "call", reg: "r0", region: "f" },
      { op: "interrupt" },
    ]);
  });

  it.each([
    [
      "x86-64",
      'cpuid(); serialize(); iret(); mov_cr3(); wrmsr(); mfence(); invlpg(); asm("LOCK ADD"); sync_core(); text_poke_sync(); flush_tlb_kernel_range(f); flush_icache_range(f); smp_mb(); smp_wmb(); smp_rmb(); barrier();',
      [
        ...insns("CPUID", "SERIALIZE", "IRET", "MOV CR3", "WRMSR", "MFENCE", "INVLPG", "LOCK ADD"),
        ...macros("sync_core", "text_poke_sync"),
        onF("macro", "flush_tlb_kernel_range"),
        onF("macro", "flush_icache_range"),
        ...macros("smp_mb", "smp_wmb", "smp_rmb"),
      ],
    ],
    ["x86-64+fred", "erets();", insns("ERETS")],
    [
      "arm64",
      'isb(); dsb(ish); dsb(sy); dmb(ish); dmb(ishst); dc_cvau(f); dc_cvau(f+1); ic_ivau(f+0); ic_iallu(); ic_ialluis(); tlbi(vaale1is); asm("IC IVAU", f+1); asm("DSB ISH"); flush_icache_range(f); kick_all_cpus_sync();',
      [
        ...insns("ISB", "DSB ISH", "DSB SY", "DMB ISH", "DMB ISHST"),
        onF("insn", "DC CVAU"),
        onF("insn", "DC CVAU", 1),
        onF("insn", "IC IVAU", 0),
        ...insns("IC IALLU", "IC IALLUIS", "TLBI VAALE1IS"),
        onF("insn", "IC IVAU", 1),
        ...insns("DSB ISH"),
        onF("macro", "flush_icache_range"),
        ...macros("kick_all_cpus_sync"),
      ],
    ],
    [
      "riscv64",
      "fence_i(); fence(); fence(rw,rw); fence(w, w); fence(r,r); sfence_vma(); flush_icache_all(); flush_tlb_kernel_range(f);",
      [
        ...insns("fence.i", "fence", "fence rw,rw", "fence w,w", "fence r,r", "sfence.vma"),
        ...macros("flush_icache_all"),
        onF("macro", "flush_tlb_kernel_range"),
      ],
    ],
  ])("%s instructions and routines", (arch, statements, ops) => {
    // One statement a line, as a process body is written.
    const body = statements
      .split(/(?<=;) /)
      .map((st) => `  ${st}`)
      .join("\n");
    expect(prog(arch, body)).toEqual(ops);
  });

  it("ops carry the line and column of their statement", () => {
    const s = parseScenario(
      "C t\narch arm64\n{ x = 0; code f = old versions(old, new); }\nP0(int *x) {\n  text_write(f, new);\n    dsb(ish); smp_store_release(x, 1);\n}\n",
    );
    expect(s.cpus[0].program.map((o) => o.pos)).toEqual([
      { line: 5, column: 3 },
      { line: 6, column: 5 },
      { line: 6, column: 15 },
    ]);
  });

  it("registerStatement adds a statement (the extension point for the execmem API)", async () => {
    // On a copy of the library of its own: the statement table it extends is not the one the
    // other test files (which share this worker's modules) read.
    vi.resetModules();
    const { parseScenario, registerStatement, statementDefs } = await import("../lib");
    vi.resetModules();
    registerStatement({
      name: "test_poke_and_sync",
      usage: "test_poke_and_sync(f, version)",
      doc: "test only",
      handler: (c, x) => {
        x.noResult(c);
        x.arity(c, 2, 2, "test_poke_and_sync(f, version)");
        const { region } = x.code(c.args[0], "test_poke_and_sync");
        return [
          { op: "write", region, version: x.word(c.args[1], "version"), via: "poke" },
          { op: "macro", name: "text_poke_sync" },
        ];
      },
    });
    expect(statementDefs().map((d) => d.name)).toContain("test_poke_and_sync");
    const s = parseScenario(
      file("x86-64", INIT, ["  test_poke_and_sync(f, new);", "  int r0;\n  r0 = f();"]),
    );
    expect(s.cpus[0].program).toEqual([
      { op: "write", region: "f", version: "new", via: "poke", pos: { line: 11, column: 3 } },
      { op: "macro", name: "text_poke_sync", pos: { line: 11, column: 3 } },
    ]);
    expect(() =>
      parseScenario(file("x86-64", INIT, ["  test_poke_and_sync(f);"]), "e.litmus"),
    ).toThrow(
      "e.litmus:11:3: test_poke_and_sync takes 2 arguments, got 1: test_poke_and_sync(f, version)",
    );
  });
});
