/** Leaving out the transitions of symmetric CPUs in the same state changes nothing but the work. */
import { describe, expect, it } from "vitest";
import { Machine, bfs, scenario } from "../lib";

/** text_poke_bp while `callers` CPUs with one program call the site (three CPUs are twins). */
function poke(callers: number) {
  let b = scenario("poke", "x86-64")
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .cpu((p) => p.text_poke_bp("f", "new"));
  for (let i = 0; i < callers; i++) b = b.cpu((p) => p.call("r0", "f"));
  return b.build();
}

describe("twins", () => {
  it("gives the same graph: states, transitions, final states and first paths", () => {
    const spec = poke(3);
    const plain = bfs(new Machine(spec));
    const left: number[] = [];
    const twins = new Machine(spec, { twins: true });
    const g = bfs({
      initial: () => twins.initial(),
      successors: (s, emit) => {
        const n = twins.successors(s, emit);
        left.push(n);
        return n;
      },
    });
    expect(left.some((n) => n > 0)).toBe(true);
    expect(g.store.count).toBe(plain.store.count);
    expect(g.transitions).toBe(plain.transitions);
    expect(g.finals).toEqual(plain.finals);
    expect(g.parent).toEqual(plain.parent);
    expect(g.label).toEqual(plain.label);
    for (let i = 0; i < g.store.count; i += 97) expect(g.store.get(i)).toEqual(plain.store.get(i));
  });

  it("emits every transition without symmetry", () => {
    const m = new Machine(poke(2), { twins: true, symmetry: false });
    const s = m.initial();
    let n = 0;
    expect(m.successors(s, () => n++)).toBe(0);
    expect(n).toBeGreaterThan(0);
  });
});
