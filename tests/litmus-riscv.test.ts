/**
 * The RISC-V litmus front-end: each syntax feature of herd7's RISC-V tests (our own small
 * tests, verdicts reasoned from the architecture), its errors and the two riscv64 variants (the
 * agreement floor on herd7's corpus: litmus-riscv-corpus.test.ts).
 */
import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { parseRiscvLitmus, runLitmusFile, runRiscvTest, translateRiscv } from "../lib";
import { runKindsCli } from "../kernel/commands/agree";
import { runLitmusCli } from "../kernel/commands/litmus";
import { litmusErrorOf } from "./support/litmus-error";

const tmp = mkdtempSync(join(tmpdir(), "execmem-riscv-"));

const run = (text: string, arch = "riscv64") =>
  runRiscvTest(parseRiscvLitmus(text, "t.litmus"), { arch });
const reach = (text: string, arch = "riscv64") => run(text, arch).positive > 0;
/** The error a text gives, as "line:col: reason". */
const errorOf = (text: string) => litmusErrorOf(() => run(text));

describe("RISC-V syntax", () => {
  it("reads the header, Variant, initial values of every kind, labels and rows", () => {
    const t = parseRiscvLitmus(
      `RISCV X
Variant=self
{ 0:t0=instr:"li s0, 2"; 0:a1=P1:mod; 1:x12=z; z=3; }
 P0          | P1      ;
 sw t0,0(a1) | mod:    ;
             | nop     ;
exists (1:s0=2 /\\ z=3)`,
      "x.litmus",
    );
    expect(t.name).toBe("X");
    expect(t.header.Variant).toBe("self");
    expect(t.init.map((e) => [e.thread, e.name, e.value.k])).toEqual([
      [0, "t0", "instr"],
      [0, "a1", "label"],
      [1, "a2", "loc"], // x12 is a2
      [null, "z", "int"],
    ]);
    expect(t.threads[1].code[0]).toMatchObject({ labels: ["mod"], insn: { text: "nop" } });
  });

  it("li, mv, addi, add, beq/bne/beqz/bnez and j compute what RV64I says", () => {
    const t = `RISCV ALU
{ 0:t1=1; }
 P0                ;
 li t0, 1          ;
 addi t2, t0, 4    ;
 add t3, t2, t1    ;
 mv s0, t3         ;
 beq t0, t1, a     ;
 li s0, 9          ;
a: bne t0, t1, b   ;
 beqz zero, c      ;
b: li s0, 8        ;
c: bnez t0, d      ;
 li s0, 7          ;
d: j e             ;
 li s0, 6          ;
e: nop             ;
exists (0:s0=6)`;
    const r = run(t);
    expect(r.states.map((s) => s.values["0:s0"])).toEqual(["6"]);
    expect(r.observation).toBe("Always");
  });

  it("jal/jr ra and ret call and return; jalr through a label register runs that code", () => {
    const t = `RISCV CALL
{ 0:a1=P1:f; }
 P0         | P1          ;
 jal g      | j over      ;
 mv s1, t6  | f:          ;
 jalr a1    | li t6, 5    ;
 mv s2, t6  | ret         ;
 j end      | over:       ;
g: li t6, 3 |             ;
 jr ra      |             ;
end:        |             ;
exists (0:s1=3 /\\ 0:s2=5)`;
    expect(run(t).observation).toBe("Always");
  });

  it("lw/lwu/sw with 0(reg) and (reg); loading code gives the instruction value", () => {
    const t = `RISCV MEM
{ 0:a1=x; 0:a2=P0:m; 0:t0=7; }
 P0           ;
 sw t0,0(a1)  ;
 lw s0,(a1)   ;
 lwu s1,0(a2) ;
m: li t1, 1   ;
exists (0:s0=7 /\\ 0:s1=instr:"li t1, 1" /\\ x=7)`;
    expect(run(t).observation).toBe("Always");
  });

  it("fence sets: w,w orders two stores, r,r two loads (MP forbidden); without them allowed", () => {
    const mp = (f0: string, f1: string) =>
      `RISCV MP
{ 0:a1=x; 0:a2=y; 0:t0=1; 1:a1=x; 1:a2=y; }
 P0          | P1          ;
 sw t0,0(a1) | lw s0,(a2)  ;
 ${f0.padEnd(11)} | ${f1.padEnd(11)} ;
 sw t0,0(a2) | lw s1,(a1)  ;
exists (1:s0=1 /\\ 1:s1=0)`;
    expect(reach(mp("fence w,w", "fence r,r"))).toBe(false);
    expect(reach(mp("fence rw,rw", "fence"))).toBe(false);
    expect(reach(mp("nop", "fence r,r"))).toBe(true);
    // SB needs w,r (a store buffer drain) on both sides.
    const sb = (f: string) =>
      `RISCV SB
{ 0:a1=x; 0:a2=y; 0:t0=1; 1:a1=x; 1:a2=y; 1:t0=1; }
 P0          | P1          ;
 sw t0,0(a1) | sw t0,0(a2) ;
 ${f.padEnd(11)} | ${f.padEnd(11)} ;
 lw s0,(a2)  | lw s0,(a1)  ;
exists (0:s0=0 /\\ 1:s0=0)`;
    expect(reach(sb("fence w,r"))).toBe(false);
    expect(reach(sb("fence w,w"))).toBe(true);
  });

  it("fence.i: a hart sees its own code store after fence.i, maybe not before (Zifencei)", () => {
    const sm = (f: string) =>
      `RISCV SM
{ 0:t0=instr:"nop"; 0:a1=P0:m; }
 P0          ;
 sw t0,0(a1) ;
 ${f.padEnd(11)} ;
m: li s0, 1  ;
exists 0:s0=1`;
    expect(reach(sm("nop"))).toBe(true);
    expect(reach(sm("fence.i"))).toBe(false);
    expect(reach(sm("fence.i"), "riscv64+ziccid")).toBe(false);
  });

  it("sfence.vma is read and runs (a local TLB flush)", () => {
    const t = [
      "RISCV S",
      "{ }",
      " P0         ;",
      " sfence.vma ;",
      " li s0, 1   ;",
      "exists 0:s0=1",
    ];
    expect(run(t.join("\n")).observation).toBe("Always");
  });

  it("comments, (* nested *), and a row over the columns with empty cells", () => {
    const t = `RISCV C
(* a (* nested *) comment *)
{ 0:t0=1; }
 P0 | P1 ;
 mv s0, t0 | (* here *) ;
exists 0:s0=1`;
    expect(run(t).observation).toBe("Always");
  });
});

describe("RISC-V errors: one line with file:line:column", () => {
  it("an instruction outside the subset is unsupported, named", () => {
    const e = errorOf(
      ["RISCV U", "{ 0:a1=x; }", " P0 ;", " amoadd.w t0,t1,(a1) ;", "exists 0:t0=0"].join("\n"),
    );
    expect(e.message).toMatch(/^t\.litmus:4:2: instruction "amoadd\.w" is not supported/);
    expect(e.unsupported).toBe(true);
  });
  it("a row with the wrong number of columns names its line", () => {
    const e = errorOf(["RISCV W", "{ }", " P0 | P1 ;", " nop ;", "exists 0:s0=0"].join("\n"));
    expect(e.message).toMatch(
      /^t\.litmus:4:\d+: mismatch in instruction lines: this row has 1 column, the header row has 2/,
    );
  });
  it("page-table state (Variant=vm, TTD/PTE values) is unsupported, said in one line", () => {
    const vm = errorOf(
      ["RISCV V", "Variant=self,vm", "{ }", " P0 ;", " nop ;", "exists 0:s0=0"].join("\n"),
    );
    expect(vm.message).toMatch(/^t\.litmus:2:1: unsupported: page-table state/);
    const pte = errorOf(
      ["RISCV V", "{ 0:t0=(oa:PA(p), valid:1); }", " P0 ;", " nop ;", "exists 0:s0=0"].join("\n"),
    );
    expect(pte.message).toMatch(/^t\.litmus:2:3: unsupported: page-table state/);
  });
  it("offsets other than 0, unknown registers, values over 99 and unknown fences are named", () => {
    const off = errorOf(
      ["RISCV O", "{ 0:a1=x; }", " P0 ;", " lw s0,4(a1) ;", "exists 0:s0=0"].join("\n"),
    );
    expect(off.message).toMatch(/^t\.litmus:4:2: an address offset other than 0/);
    const reg = errorOf(["RISCV R", "{ 0:q9=1; }", " P0 ;", " nop ;", "exists 0:s0=0"].join("\n"));
    expect(reg.message).toMatch(/^t\.litmus:2:3: "q9" is not a RISC-V register/);
    const big = errorOf(["RISCV B", "{ }", " P0 ;", " li s0, 1000 ;", "exists 0:s0=0"].join("\n"));
    expect(big.message).toMatch(/^t\.litmus:4:2: the immediate 1000 is outside/);
    const f = errorOf(["RISCV F", "{ }", " P0 ;", " fence i,o ;", "exists 0:s0=0"].join("\n"));
    expect(f.message).toMatch(/^t\.litmus:4:2: FENCE i,o is not modelled/);
  });
  it("the arch option takes riscv64 variants only", () => {
    const t = parseRiscvLitmus(
      ["RISCV A", "{ }", " P0 ;", " nop ;", "exists 0:s0=0"].join("\n"),
      "a.litmus",
    );
    expect(() => translateRiscv(t, { arch: "arm64" })).toThrow(/"arm64" is not a riscv64 variant/);
  });
});

describe("riscv64 against riscv64+ziccid (mechanisms that change a verdict)", () => {
  // A remote store seen by a fetch, then fence.i, then a load of the same location.
  const MPFR = `RISCV MP.FR
{ 0:t0=instr:"li s0, 5"; 0:a1=P1:m; 0:a2=x; 0:t1=1; 1:a2=x; }
 P0          | P1         ;
 sw t1,0(a2) | m:         ;
 fence w,w   | nop        ;
 sw t0,0(a1) | fence.i    ;
             | lw s1,(a2) ;
exists (1:s0=5 /\\ 1:s1=0)`;
  it("late fetch: without Ziccid the fetch of m may be performed after the later load", () => {
    expect(reach(MPFR, "riscv64")).toBe(true);
    expect(reach(MPFR, "riscv64+ziccid")).toBe(false);
  });
  it("a late fetch is not performed by nothing: a version never written is never run", () => {
    const t = MPFR.replace("sw t0,0(a1) |", "nop         |");
    expect(run(t, "riscv64").states.every((s) => s.values["1:s0"] === "0")).toBe(true);
  });
  it("a late-fetched instruction's result cannot reach memory before the fetch (no thin air)", () => {
    // 3.LB with the stored value computed from the fetched instruction: forbidden.
    const lb = `RISCV LB.data
{ 0:t0=instr:"li s0, 2"; 0:a1=P1:m1; 0:a2=x; 1:t0=instr:"li s0, 2"; 1:a1=P0:m0; 1:a2=y; }
 P0          | P1          ;
m0: li s0, 1 | m1: li s0, 1 ;
 sw s0,0(a2) | sw s0,0(a2) ;
 lw t1,(a2)  | lw t1,(a2)  ;
 beqz t1, e  | beqz t1, e  ;
 sw t0,0(a1) | sw t0,0(a1) ;
e: nop       | e: nop      ;
exists (0:s0=2 /\\ 1:s0=2)`;
    expect(reach(lb, "riscv64")).toBe(false);
  });
  it("own buffered store: without Ziccid a fetch may see it before other harts do", () => {
    const irf = `RISCV MP+irf
{ 0:t0=instr:"li s0, 2"; 0:a1=P0:m; 0:a2=x; 1:a1=P0:m; 1:a2=x; }
 P0          | P1           ;
 sw t0,0(a1) | lw s1,(a2)   ;
m: li s0, 1  | fence r,r    ;
 sw s0,0(a2) | lwu s2,0(a1) ;
exists (1:s1=2 /\\ 1:s2=instr:"li s0, 1")`;
    expect(reach(irf, "riscv64")).toBe(true);
    expect(reach(irf, "riscv64+ziccid")).toBe(false);
  });
});

describe("commands", () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };
  const W = join(tmp, "W+F.litmus");
  writeFileSync(
    W,
    `RISCV W+F
Variant=self
{ 0:t0=instr:"li s0, 1"; 0:a1=P1:mod; }
 P0 | P1 ;
 sw t0,0(a1) | mod: ;
 | nop ;
exists 1:s0=1
`,
  );
  it("litmus runs a RISCV file by its header, on the variant --arch names", () => {
    const o = io();
    expect(runLitmusCli([W], { arch: "riscv64+ziccid" }, o.io)).toBe(0);
    expect(o.out.join("\n")).toMatch(/Test W\+F Allowed[\s\S]*Observation W\+F Sometimes 1 1/);
    expect(runLitmusFile(W).arch).toBe("riscv64");
  });
  it("agree prints one line per RISC-V configuration of a directory", () => {
    writeFileSync(join(tmp, "kinds-Ziccif-only.txt"), "W+F   Allow\n");
    writeFileSync(join(tmp, "kinds-Ziccid.txt"), "W+F   Forbid\n");
    const o = io();
    expect(runKindsCli(tmp, {}, o.io)).toBe(1);
    expect(o.out).toEqual([
      expect.stringMatching(
        /^RISC-V Ziccif-only \(riscv64\): agreed 1\/1, disagreed 0, unsupported 0; 1 tests in/,
      ),
      expect.stringMatching(
        /^RISC-V Ziccid \(riscv64\+ziccid\): agreed 0\/1, disagreed 1, unsupported 0;/,
      ),
      "  disagreed: W+F",
    ]);
  });
});
