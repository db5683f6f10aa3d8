/**
 * The herd7 AArch64 litmus reader: every file of the instruction-fetch corpus parses, positions
 * of instructions are exact, and anything outside the subset is an error naming file, line,
 * column and instruction.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { litmusCorpus } from "./support/corpus";
import { litmusErrorOf } from "./support/litmus-error";
import { decodeEncoding, insnSymbol, loadLitmus, parseLitmus } from "../lib";

const corpus = litmusCorpus("aarch64-ifetch");
export const CORPUS = corpus.dir;
const files = corpus.files;

const errorOf = litmusErrorOf;

describe.skipIf(corpus.skip)(corpus.title("litmus reader"), () => {
  it("finds the 52 corpus files", () => {
    expect(files.length).toBe(52);
  });

  it.each(files)("parses %s", (f) => {
    const t = loadLitmus(join(CORPUS, f));
    expect(t.arch).toBe("AArch64");
    const header = readFileSync(join(CORPUS, f), "utf8").split("\n")[0];
    expect(header).toBe(`AArch64 ${t.name}`);
    expect(t.threads.length).toBeGreaterThan(0);
    expect(t.condition.text).toMatch(/^(~\s*)?exists|^forall/);
    // Every instruction's position points at its text in the file.
    const lines = readFileSync(join(CORPUS, f), "utf8").split("\n");
    for (const th of t.threads)
      for (const p of th.code)
        if (p.insn) {
          expect(lines[p.insn.line - 1].slice(p.insn.column - 1)).toContain(p.insn.text);
        }
  });

  it("reads the header, init, labels, columns and condition of CoFF", () => {
    const t = loadLitmus(join(CORPUS, "CoFF.litmus"));
    expect(t.name).toBe("CoFF");
    expect(t.cacheType).toEqual({ idc: false, dic: false });
    expect(t.init.map((e) => [e.thread, e.name, e.value?.k])).toEqual([
      [0, "X0", "instr"],
      [0, "X1", "label"],
    ]);
    expect(t.threads.map((x) => x.name)).toEqual(["P0", "P1"]);
    const p1 = t.threads[1].code;
    expect(p1[0].insn?.insn).toEqual({ k: "bl", target: { label: "f" } });
    expect(p1[5].labels).toEqual(["f"]);
    expect(p1[5].insn?.text).toBe("B l0");
    expect(p1[p1.length - 1]).toEqual({ labels: ["Lout"], insn: null });
    expect(t.condition).toEqual({ text: "exists 1:X0=2 /\\ 1:X1=1", line: 23, column: 1 });
  });

  it("reads CacheType, declarations, labels with an instruction on the same line", () => {
    const t = parseLitmus(
      [
        "AArch64 T",
        '"a doc string"',
        "CacheType=IDC|DIC",
        "Stable=X9",
        '{ int64_t x; int64_t 0:X2=1; 0:X3=x; 1:X0=instr:"NOP"; y=3; }',
        " P0          | P1            ;",
        " STR W2,[X3] | L1: B.EQ g    ;",
        "             | g: MOV X1,#1  ;",
        "locations [x;]",
        "forall (0:X2=1 \\/ ~([y]=3))",
      ].join("\n"),
      "t.litmus",
    );
    expect(t.cacheType).toEqual({ idc: true, dic: true });
    expect(t.header.Stable).toBe("X9");
    expect(t.doc).toEqual(["a doc string"]);
    expect(t.init.find((e) => e.name === "y")?.value).toMatchObject({ k: "int", value: 3n });
    expect(t.threads[1].code[0]).toMatchObject({ labels: ["L1"], insn: { line: 7, column: 20 } });
    expect(t.locations).toEqual(["x"]);
    expect(t.condition.text).toBe("forall (0:X2=1 \\/ ~([y]=3))");
  });

  it("names file, line, column and instruction for an instruction outside the subset", () => {
    const e = errorOf(() =>
      parseLitmus(
        ["AArch64 U", "{ 0:X1=x; }", " P0 ;", " LDXR W0,[X1] ;", "exists 0:X0=1"].join("\n"),
        "u.litmus",
      ),
    );
    expect(e.message).toBe(
      'u.litmus:4:2: instruction "LDXR W0,[X1]" is not in the supported AArch64 subset (see docs/litmus.md)',
    );
    expect(e).toMatchObject({ file: "u.litmus", line: 4, column: 2, instruction: "LDXR W0,[X1]" });
    expect(e.unsupported).toBe(true);
  });

  it("reports malformed files with positions", () => {
    expect(
      errorOf(() => parseLitmus("X86 T\n{}\n P0 ;\n NOP ;\nexists true", "a")).message,
    ).toMatch(/^a:1:1: architecture "X86" is not supported/);
    expect(errorOf(() => parseLitmus("AArch64 T\n{ 0:X1=x;\n P0 ;", "b")).message).toMatch(
      /^b:2:1: the initial state "\{" is not closed/,
    );
    expect(errorOf(() => parseLitmus("AArch64 T\n{}\n P0 ;\n MOV X0,#1\n", "c")).message).toMatch(
      /^c:4:2: a program row must end with ";"/,
    );
    expect(
      errorOf(() => parseLitmus("AArch64 T\n{}\n P0 ;\n ADD X0,X1 ;\nexists true", "d")).message,
    ).toBe('d:4:2: ADD takes 3 operands, got 2 in "ADD X0,X1"');
    expect(errorOf(() => parseLitmus("AArch64 T\n(* open\n{}", "e")).message).toBe(
      "e:2:1: unterminated comment",
    );
  });

  it("decodes the raw encodings the corpus stores", () => {
    expect(insnSymbol(decodeEncoding(0x54000041n))).toBe("B.NE_.+8");
    expect(insnSymbol(decodeEncoding(0xd1000400n))).toBe("SUB_X0_X0_1");
    expect(insnSymbol(decodeEncoding(0x14000001n))).toBe("B_.+4");
    expect(decodeEncoding(0x12345678n).k).toBe("raw");
  });
});
