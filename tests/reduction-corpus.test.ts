import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explore, loadLitmus, translate } from "../lib";
import { litmusCorpus } from "./support/corpus";

const corpus = litmusCorpus("aarch64-ifetch");
const CORPUS = corpus.dir;

/**
 * Every reduction loses no outcome on the herd7 corpus: the same outcome sets with each
 * reduction switched off, wherever both explorations finish within the bound.
 */
describe.skipIf(corpus.skip)(
  corpus.title("reductions on the herd7 instruction-fetch corpus"),
  () => {
    const bound = { witnesses: false, maxStates: 200_000 } as const;
    // Each file translated and explored with every reduction on once, shared by the three tests.
    let withAll: {
      f: string;
      spec: ReturnType<typeof translate>["spec"];
      on: ReturnType<typeof explore>;
    }[];
    const reduced = () =>
      (withAll ??= corpus.files.map((f) => {
        const { spec } = translate(loadLitmus(join(CORPUS, f)));
        return { f, spec, on: explore(spec, bound) };
      }));
    for (const off of ["partialOrder", "symmetry", "liveness"] as const) {
      it(`${off} off gives the same outcomes`, () => {
        let compared = 0;
        for (const { f, spec, on } of reduced()) {
          const without = explore(spec, { ...bound, [off]: false });
          if (!on.stats.complete || !without.stats.complete) continue;
          expect(
            on.outcomes.map((o) => o.key),
            f,
          ).toEqual(without.outcomes.map((o) => o.key));
          expect(on.stats.states, f).toBeLessThanOrEqual(without.stats.states);
          compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(45);
      });
    }
  },
);
