import { describe, expect, it } from "vitest";
import { explore, type Op, type ScenarioSpec } from "../lib";

/** herd7's SM test (self-modifying code) as instruction-level ops. */
function sm(arch: string, extra: Op[] = []): ScenarioSpec {
  const program: Op[] = [
    { op: "mov", dst: "X0", src: { insn: "B .+4" } },
    { op: "mov", dst: "X1", src: { addr: "f" } },
    { op: "str", src: "X0", addr: "X1" },
    ...extra,
    { op: "bl", target: "f", link: "X30" },
    { op: "mov", dst: "X2", src: { reg: "X10" } },
    { op: "b", target: "Lout" },
    { op: "label", name: "f" },
    { op: "exec", region: "f", dispatch: { "B l0": "l0", "B .+4": "l1" } },
    { op: "label", name: "l1" },
    { op: "mov", dst: "X10", src: { imm: 2 } },
    { op: "br", reg: "X30" },
    { op: "label", name: "l0" },
    { op: "mov", dst: "X10", src: { imm: 1 } },
    { op: "br", reg: "X30" },
    { op: "label", name: "Lout" },
  ];
  return {
    name: "SM",
    arch,
    data: {},
    regions: [
      {
        name: "f",
        lines: 1,
        versions: ["B l0", "B .+4"],
        initial: "B l0",
        insn: { "B l0": "B", "B .+4": "B" },
      },
    ],
    cpus: [{ program }],
    condition: "exists (0:X2=1)",
  };
}

describe("instruction-level programs", () => {
  it("SM: the old branch may still run after the store on arm64, never on x86-64 (SMC)", () => {
    expect(explore(sm("arm64")).observation).toBe("Sometimes");
    expect(explore(sm("x86-64")).observation).toBe("Never");
  });
  it("SM+cachesync-isb: DC CVAU, DSB, IC IVAU, DSB, ISB forbid the old branch", () => {
    const sync: Op[] = [
      { op: "insn-reg", name: "DC CVAU", addr: "X1" },
      { op: "insn", name: "DSB ISH" },
      { op: "insn-reg", name: "IC IVAU", addr: "X1" },
      { op: "insn", name: "DSB ISH" },
      { op: "insn", name: "ISB" },
    ];
    expect(explore(sm("arm64", sync)).observation).toBe("Never");
    // Without the ISB the pipeline may still hold the old branch.
    expect(explore(sm("arm64", sync.slice(0, 4))).observation).toBe("Sometimes");
  });
  it("registers print as integers, addresses, instructions and labels", () => {
    const r = explore(sm("arm64"));
    const o = r.outcomes.find((x) => x.values["0:X2"] === "2")!;
    expect(o.values).toMatchObject({ "0:X0": "B .+4", "0:X1": "f", "0:X10": "2" });
    expect(o.values["0:X30"]).toMatch(/^P0:@/);
  });
  it("flags, conditional branches and CSET", () => {
    const program: Op[] = [
      { op: "mov", dst: "X0", src: { imm: 5 } },
      { op: "cmp", a: "X0", b: { imm: 5 } },
      { op: "cset", dst: "X1", cond: "EQ" },
      { op: "tst", a: "X0", b: { imm: 2 } },
      { op: "cset", dst: "X2", cond: "NE" },
      { op: "cmp", a: "X0", b: { imm: 7 } },
      { op: "bcond", cond: "LT", target: "less" },
      { op: "mov", dst: "X3", src: { imm: 9 } },
      { op: "label", name: "less" },
      { op: "alu", fn: "add", dst: "X4", a: "X0", b: { imm: 3 } },
    ];
    const r = explore({ name: "alu", arch: "arm64", data: {}, regions: [], cpus: [{ program }] });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0].values).toMatchObject({
      "0:X1": "1",
      "0:X2": "0",
      "0:X3": "0",
      "0:X4": "8",
    });
  });
  it("errors name the label, the operand and the step", () => {
    const bad = (program: Op[]) => () =>
      explore({ name: "bad", arch: "arm64", data: { x: 0 }, regions: [], cpus: [{ program }] });
    expect(bad([{ op: "b", target: "nowhere" }])).toThrow(/branch to unknown label nowhere/);
    expect(bad([{ op: "mov", dst: "X0", src: { addr: "y" } }])).toThrow(
      /"y" is neither a data location nor a code region/,
    );
    expect(
      bad([
        { op: "mov", dst: "X0", src: { imm: 1 } },
        { op: "ldr", dst: "X1", addr: "X0" },
      ]),
    ).toThrow(/LDR X1, \[X0\]: 1 is not an address/);
    expect(
      bad([
        { op: "bcond", cond: "XX", target: "l" },
        { op: "label", name: "l" },
      ]),
    ).toThrow(/unknown condition "XX"/);
  });
});
