/** `execmem-lab litmus` on inputs it does not take or that are likely mistakes. */
import { describe, expect, it } from "vitest";
import { LitmusError, parseLitmus, runLitmusText } from "../../lib";
import { runLitmusCli } from "../../kernel/commands/litmus";
import type { Io } from "../../kernel/commands/io";
import { writeFileSync } from "fs";
import { join } from "path";
import { tempDir } from "./support";

const UNDECLARED = `AArch64 undeclared
{
0:X1=x;
}
 P0          ;
 MOV W0,#1   ;
 STR W0,[X1] ;
exists (x=1 /\\ z=0)
`;

describe("litmus: inputs", () => {
  it("a C (LKMM) litmus test: says so and points at explore", () => {
    const c = "C SB\n\n{}\n\nP0(int *x, int *y)\n{\n\tWRITE_ONCE(*x, 1);\n}\n\nexists (x=1)\n";
    let e: unknown;
    try {
      parseLitmus(c, "sb.litmus");
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(LitmusError);
    expect((e as Error).message).toBe(
      "sb.litmus:1:1: this is a C litmus test (the Linux-kernel memory model's dialect): run it with execmem-lab explore",
    );
  });

  it("a condition on an undeclared location: a warning with its position, herd7's answer kept", () => {
    const r = runLitmusText(UNDECLARED, "u.litmus");
    expect(r.verdict).toBe("Ok");
    expect(r.warnings).toEqual([
      {
        message:
          'the condition reads "z", which the initial state does not declare; it reads 0 (herd7 accepts this too)',
        line: 8,
        column: 1,
      },
    ]);
    const f = join(tempDir("litmus"), "u.litmus");
    writeFileSync(f, UNDECLARED);
    const err: string[] = [];
    const out: string[] = [];
    const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
    expect(runLitmusCli([f], {}, io)).toBe(0);
    expect(err).toEqual([
      `execmem-lab litmus: warning: ${f}:8:1: the condition reads "z", which the initial state does not declare; it reads 0 (herd7 accepts this too)`,
    ]);
    expect(out.join("\n")).toMatch(/^Ok$/m);
    // A declared location gives no warning.
    expect(
      runLitmusText(UNDECLARED.replace("0:X1=x;", "0:X1=x; z=0;"), "d.litmus").warnings,
    ).toEqual([]);
  });

  it("a condition nested 100000 deep: a LitmusError at the condition, before exploring", () => {
    const d = 100_000;
    const t = `AArch64 deep\n{\n0:X1=x;\n}\n P0 ;\n MOV W0,#1 ;\nexists (${"(".repeat(d)}x=1${")".repeat(d)})\n`;
    expect(() => runLitmusText(t, "d.litmus")).toThrow(
      new LitmusError(
        'final condition: the condition nests "~" and parentheses more than 100 deep',
        "d.litmus",
        7,
        1,
      ),
    );
  });
});
