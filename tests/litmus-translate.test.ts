/**
 * The translation of herd7 litmus tests into ScenarioSpec, checked by hand on a few tests: code
 * regions and their versions, exec dispatch blocks, static BLR targets into copies of another
 * thread's code, CTR_EL0 folding, condition rewriting, and errors for what the machine cannot
 * take.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { litmusCorpus } from "./support/corpus";
import { litmusErrorOf } from "./support/litmus-error";
import type { Op } from "../lib";
import { compile } from "../lib";
import { ctrEl0, loadLitmus, parseLitmus, runLitmusText, translate } from "../lib";

const corpus = litmusCorpus("aarch64-ifetch");
const CORPUS = corpus.dir;
const tr = (f: string) => translate(loadLitmus(join(CORPUS, f)));
const opsOf = (ops: Op[]) => ops.map(({ pos: _p, ...o }) => o);

const errorOf = litmusErrorOf;

describe.skipIf(corpus.skip)(corpus.title("litmus translation"), () => {
  it("CoFF: the stored-to label is a one-line region with the initial and the written instruction", () => {
    const t = tr("CoFF.litmus");
    expect(t.arch).toBe("arm64");
    expect(t.spec.regions).toEqual([
      {
        name: "P1_f",
        lines: 1,
        versions: ["B_.+12", "B_.+4"],
        initial: "B_.+12",
        insn: { "B_.+12": "B", "B_.+4": "B" },
      },
    ]);
    expect(t.instructions).toMatchObject({ "B_.+12": "B .+12", "B_.+4": "B .+4" });
    expect(t.condition).toBe("exists 1:X0=2 /\\ 1:X1=1");
    expect(opsOf(t.spec.cpus[0].program)).toEqual([
      { op: "mov", dst: "X0", src: { insn: "B_.+4" } },
      { op: "mov", dst: "X1", src: { addr: "P1_f" } },
      { op: "label", name: "@0" },
      { op: "str", src: "X0", addr: "X1" },
      { op: "label", name: "@1" },
      { op: "label", name: "@end" },
    ]);
    const p1 = opsOf(t.spec.cpus[1].program);
    // At f: execute the region's line; a B only decides where execution continues, so each
    // version dispatches straight to its target relative to f: B .+12 is l0, B .+4 is l1.
    expect(p1).toContainEqual({
      op: "exec",
      region: "P1_f",
      dispatch: { "B_.+12": "l0", "B_.+4": "l1" },
    });
    expect(p1).toContainEqual({ op: "bl", target: "f", link: "X30" });
    expect(p1).toContainEqual({ op: "br", reg: "X30" });
    expect(() => compile(t.spec)).not.toThrow();
  });

  it("CoFR: instruction values in the condition become the version names LDR reads", () => {
    const t = tr("CoFR.litmus");
    expect(t.condition).toBe("~exists (1:X0=2 /\\ 1:X1=B_.+12)");
    expect(t.observed).toEqual(["1:X0", "1:X1"]);
    expect(opsOf(t.spec.cpus[1].program)).toContainEqual({ op: "ldr", dst: "X1", addr: "X2" });
  });

  it("FOW: BLR through a register the initial state fixes runs a copy of the other thread's code", () => {
    const t = tr("FOW.litmus");
    expect(t.spec.regions.map((r) => [r.name, r.versions])).toEqual([
      ["P0_g", ["B_.+20", "B_.+12", "B_.+4"]],
    ]);
    const p0 = opsOf(t.spec.cpus[0].program);
    // P0 branches over g: the code it never reaches is left out.
    expect(p0.some((o) => o.op === "exec")).toBe(false);
    const p1 = opsOf(t.spec.cpus[1].program);
    expect(p1).toContainEqual({ op: "bl", target: "P0.g", link: "X30" });
    expect(p1).toContainEqual({ op: "label", name: "P0.g" });
    expect(p1).toContainEqual({
      op: "exec",
      region: "P0_g",
      dispatch: { "B_.+20": "P0.l0", "B_.+12": "P0.l1", "B_.+4": "P0.l2" },
    });
    expect(opsOf(t.spec.cpus[2].program)).toContainEqual({ op: "bl", target: "P0.g", link: "X30" });
  });

  it("CTR: CTR_EL0 comes from the CacheType variant, folded through RBIT and TST", () => {
    expect(ctrEl0(false, false) & (3n << 28n)).toBe(0n);
    expect(ctrEl0(true, true) & (3n << 28n)).toBe(3n << 28n);
    const t = tr("CTR.litmus");
    expect(opsOf(t.spec.cpus[0].program).filter((o) => o.op !== "label")).toEqual([
      { op: "mov", dst: "A0", src: { imm: 0 } },
      { op: "tst", a: "A0", b: { imm: 1 } },
      { op: "cset", dst: "X1", cond: "NE" },
      { op: "mov", dst: "A1", src: { imm: 0 } },
      { op: "tst", a: "A1", b: { imm: 1 } },
      { op: "cset", dst: "X2", cond: "NE" },
    ]);
    // A 32-bit RBIT brings IDC (bit 28) and DIC (bit 29) to bits 3 and 2.
    const src = (ct: string) =>
      [
        "AArch64 C",
        ct,
        "{}",
        " P0 ;",
        " MRS X0,CTR_EL0 ;",
        " RBIT W0,W0 ;",
        " TST W0,#4 ;",
        " CSET W1,NE ;",
        " TST W0,#8 ;",
        " CSET W2,NE ;",
        "exists 0:X1=1 /\\ 0:X2=1",
      ].join("\n");
    expect(translate(parseLitmus(src("CacheType=IDC|DIC"))).arch).toBe("arm64+idc+dic");
    expect(runLitmusText(src("CacheType=IDC|DIC")).observation).toBe("Always");
    expect(runLitmusText(src("CacheType=IDC")).observation).toBe("Never");
    expect(runLitmusText(src("")).observation).toBe("Never");
  });

  it("W+F: an integer stored to code is data (herd7's reading): no execution runs it", () => {
    const t = tr("W+F.litmus");
    expect(t.spec.regions[0]).toMatchObject({
      name: "P1_L1",
      versions: ["ADD_X0_X0_1", "0xd1000400"],
      insn: { ADD_X0_X0_1: "code", "0xd1000400": "code" },
    });
    const p1 = opsOf(t.spec.cpus[1].program);
    const at = p1.findIndex((o) => o.op === "label" && o.name === "L1=0xd1000400");
    expect(p1[at + 1]).toEqual({ op: "b", target: "L1=0xd1000400" });
    // Decoded as an A64 encoding, it is SUB X0,X0,#1.
    const d = translate(loadLitmus(join(CORPUS, "W+F.litmus")), { decodeEncodings: true });
    expect(d.spec.regions[0].versions).toEqual(["ADD_X0_X0_1", "SUB_X0_X0_1"]);
    expect(
      runLitmusText(readFileSync(join(CORPUS, "W+F+branches.litmus"), "utf8")).observation,
    ).toBe("Never");
    const dec = runLitmusText(
      readFileSync(join(CORPUS, "W+F+branches.litmus"), "utf8"),
      "W+F+branches",
      {
        decodeEncodings: true,
      },
    );
    expect(dec.observation).toBe("Sometimes");
  });

  it("errors name the file, line, column and instruction the machine cannot take", () => {
    const base = (prog: string, init = "0:X1=x;") =>
      ["AArch64 E", `{ ${init} }`, " P0 ;", prog, "exists 0:X0=1"].join("\n");
    let e = errorOf(() => translate(parseLitmus(base(" MOV X0,#200 ;"), "e.litmus")));
    expect(e.message).toBe(
      'e.litmus:4:2: immediate #200 is outside the machine\'s integers 0..99: "MOV X0,#200"',
    );
    expect(e.instruction).toBe("MOV X0,#200");
    e = errorOf(() => translate(parseLitmus(base(" MOV X1,#1 ; BLR X1 ;"), "e.litmus")));
    expect(e.message).toMatch(/^e\.litmus:4:\d+: BLR X1: the target must be a code label/);
    e = errorOf(() => translate(parseLitmus(base(" STR X0,[X1] ;", "0:X1=P1:f;"), "e.litmus")));
    expect(e.message).toBe("e.litmus:2:3: P1:f: there is no thread P1");
  });
});

describe.skipIf(corpus.skip)(corpus.title("litmus translation: dispatch blocks"), () => {
  it("W+F: a non-branch version runs its instruction, then falls through", () => {
    const t = translate(loadLitmus(join(CORPUS, "W+F.litmus")), { decodeEncodings: true });
    const p1 = opsOf(t.spec.cpus[1].program);
    const at = (l: string) => p1.findIndex((o) => o.op === "label" && o.name === l);
    expect(p1).toContainEqual({
      op: "exec",
      region: "P1_L1",
      dispatch: { ADD_X0_X0_1: "L1=ADD_X0_X0_1", SUB_X0_X0_1: "L1=SUB_X0_X0_1" },
    });
    expect(p1.slice(at("L1=SUB_X0_X0_1") + 1, at("L1=SUB_X0_X0_1") + 3)).toEqual([
      { op: "alu", fn: "sub", dst: "X0", a: "X0", b: { imm: 1 } },
      { op: "b", target: "@1" },
    ]);
  });
});
