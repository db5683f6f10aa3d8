/**
 * herd7's current AArch64 litmus language: one test per feature in tests/litmus-syntax (with
 * herd7's verdict and the reason in its expected.tsv), each parsed and run through `agree`; the
 * errors for what the front-end does not take name the file, line and column.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { agree, LitmusError, loadLitmus, parseLitmus, runLitmus } from "../lib";
import { cacheTypeFor, runLitmusCli } from "../kernel/commands/litmus";

const DIR = join(__dirname, "litmus-syntax");
const F = (f: string) => join(DIR, f);

describe("herd7 AArch64 syntax: every feature parses and agrees with herd7", () => {
  const report = agree(DIR);

  it("every test is supported, complete and agrees", () => {
    expect(report.entries.length).toBe(11);
    expect(report.unsupported).toEqual([]);
    expect(report.disagreed).toEqual([]);
    for (const e of report.entries) expect(e.result?.complete, e.name).toBe(true);
  });

  it("bare instruction values and label targets: 0:X0=NOP, 0:X0=B l1", () => {
    const nop = loadLitmus(F("SM.B+cachesync-isb.nop.litmus"));
    expect(nop.init.find((e) => e.name === "X0")?.value).toMatchObject({ k: "instr", text: "NOP" });
    const b = loadLitmus(F("SM.B+cachesync-isb.b-label.litmus"));
    expect(b.init.find((e) => e.name === "X0")?.value).toMatchObject({
      k: "instr",
      insn: { k: "b", target: { label: "l1" } },
    });
  });

  it("typed declarations: ins_t *0:X1, void *1:X0, int64_t x", () => {
    const t = loadLitmus(F("MP.RF+cachesync+ctrlisb.typed.litmus"));
    const of = (th: number | null, n: string) =>
      t.init.find((e) => e.thread === th && e.name === n);
    expect(of(0, "X1")).toMatchObject({ type: "ins_t*", value: { k: "label", label: "m0" } });
    expect(of(1, "X0")).toMatchObject({ type: "void*", value: { k: "loc", name: "x" } });
    expect(of(null, "x")).toMatchObject({ type: "int64_t" });
  });

  it("fault handlers P0.F, UDF, ADR, MSR ELR_EL1, ERET and fault(P0:l) conditions", () => {
    const t = loadLitmus(F("SM.F+fault.litmus"));
    expect(t.threads.map((th) => th.name)).toEqual(["P0"]);
    expect(t.threads[0].handlerStart).toBeGreaterThan(0);
    // The handler runs only on a fault: with the synchronisation the invalid value always is
    // fetched (Always); without it the old branch may run too (Sometimes).
    expect(runLitmus(F("SM.F+cachesync-isb+fault.litmus")).observation).toBe("Always");
    const r = runLitmus(F("SM.F+fault.litmus"));
    expect(r.observation).toBe("Sometimes");
    expect(r.states.map((s) => s.values)).toEqual([
      { "fault(P0:l1)": "0", "0:X2": "0" },
      { "fault(P0:l1)": "1", "0:X2": "42" },
    ]);
  });

  it("CacheType= lines, --cache-type and DICx-IDCy directories choose the arm64 variant", () => {
    const text = readFileSync(F("SM+dsb-isb.idc-dic.litmus"), "utf8");
    expect(runLitmus(F("SM+dsb-isb.idc-dic.litmus")).arch).toBe("arm64+idc+dic");
    const tmp = mkdtempSync(join(tmpdir(), "execmem-cachetype-"));
    mkdirSync(join(tmp, "DIC1-IDC1"));
    const plain = text.replace(/^CacheType=.*\n/m, "");
    writeFileSync(join(tmp, "t.litmus"), plain);
    writeFileSync(join(tmp, "DIC1-IDC1", "t.litmus"), plain);
    const obs = (file: string, cacheType?: string) => {
      const out: string[] = [];
      runLitmusCli([file], { json: true, cacheType }, { out: (l) => out.push(l), err: () => {} });
      return JSON.parse(out.join("\n")).files[0].result.observation as string;
    };
    expect(obs(join(tmp, "t.litmus"))).toBe("Sometimes");
    expect(obs(join(tmp, "t.litmus"), "IDC DIC")).toBe("Never");
    expect(obs(join(tmp, "DIC1-IDC1", "t.litmus"))).toBe("Never");
    expect(obs(join(tmp, "DIC1-IDC1", "t.litmus"), "none")).toBe("Sometimes");
    expect(cacheTypeFor("a/DIC0-IDC1/t.litmus", undefined)).toEqual({ idc: true, dic: false });
    expect(() => cacheTypeFor("t.litmus", "IDX")).toThrow(/unknown cache type "IDX"/);
  });
});

describe("what the front-end does not take is a one-line error naming file:line:col", () => {
  const err = (src: string) => {
    try {
      runLitmus(writeTmp(src));
    } catch (e) {
      return e as LitmusError;
    }
    throw new Error("no error");
  };
  const tmp = mkdtempSync(join(tmpdir(), "execmem-syntax-"));
  let n = 0;
  const writeTmp = (src: string) => {
    const f = join(tmp, `t${n++}.litmus`);
    writeFileSync(f, src);
    return f;
  };

  it("a row with the wrong number of columns (herd7: mismatch in instruction lines)", () => {
    const e = err(
      "AArch64 T\n{ 0:X1=x; 1:X1=x; }\n P0 | P1 ;\n LDR W0,[X1] ;\n STR W0,[X1] | NOP ;\nexists 0:X0=1\n",
    );
    expect(e).toBeInstanceOf(LitmusError);
    expect(e.message).toMatch(
      /t\d+\.litmus:4:\d+: mismatch in instruction lines: this row has 1 column, the header row has 2/,
    );
  });

  it("page-table state is unsupported", () => {
    const e = err(
      "AArch64 T\n{ 0:X1=x; [PTE(x)]=(oa:PA(y)); }\n P0 ;\n LDR W0,[X1] ;\nexists 0:X0=1\n",
    );
    expect(e.unsupported).toBe(true);
    expect(e.message).toMatch(/:2:\d+: page-table state is not supported/);
    expect(e.message.split("\n")).toHaveLength(1);
  });

  it("right shifts and data offsets are unsupported, naming the instruction", () => {
    const lsr = err("AArch64 T\n{ 0:X1=x; }\n P0 ;\n ADD X2,X1,X3,LSR #2 ;\nexists 0:X0=1\n");
    expect(lsr.message).toMatch(/:4:2: operand modifier LSR is not supported/);
    const off = err("AArch64 T\n{ 0:X1=x; }\n P0 ;\n LDR W0,[X1,#8] ;\nexists 0:X0=1\n");
    expect(off.message).toMatch(
      /:4:2: an immediate offset other than #0 is supported only from a code label/,
    );
  });

  it("a fault handler without its thread", () => {
    expect(() =>
      parseLitmus("AArch64 T\n{ }\n P0 | P1.F ;\n NOP | NOP ;\nexists 0:X0=1\n"),
    ).toThrow(/fault handler "P1.F" has no thread P1/);
  });
});
