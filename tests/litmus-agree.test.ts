/**
 * Fidelity: `agree` on the 52 herd7 instruction-fetch tests (../shared/litmus/aarch64-ifetch).
 * All 52 agree. The exact set that agrees is a floor that must not shrink, nothing is
 * unsupported, and a test that disagrees must be listed below with the rule that differs
 * (docs/litmus.md, "Agreement with herd7").
 */
import { describe, expect, it } from "vitest";
import { agree } from "../lib";
import { litmusCorpus } from "./support/corpus";

const corpus = litmusCorpus("aarch64-ifetch");
const CORPUS = corpus.dir;

/** Tests whose observation equals herd7's today. */
export const AGREED = [
  "CTR",
  "ISA2+dmb+cachesync+ctrl-isb",
  "MP.RF+dmb+addr-cachesync",
  "MP.RRF+dmb+addr-cachesync-isb",
  "WRC.R.RF+addr+addr-cachesync-isb",
  "CoFF",
  "CoFF-isb",
  "CoFF.branches",
  "CoFR",
  "CoRF",
  "CoRF+ctrl-isb",
  "FOW",
  "ISA2.F+dc+ic+ctrl-isb",
  "ISA2.F+dc-dmb+dsb-ic-dsb+ctrl-isb",
  "ISA2.F+dc-dsb+dsb-ic-dsb+ctrl-isb",
  "ISA2+dmb+dsb-cachesync+ctrl-isb",
  "MP.FF",
  "MP.FF+cachesync+fpo",
  "MP.FF+cachesyncstrong+fpo",
  "MP.FF+dmb+fpo",
  "MP.FR+dmb+fpo-fe",
  "MP.R.RF+addr-cachesync+dmb+ctrl-isb",
  "MP.RF+[dc]-ic+ctrl-isb",
  "MP.RF+cachesync+ctrl",
  "MP.RF+cachesync+ctrl-isb",
  "MP.RF+dc+ctrl-isb",
  "MP.RF+dc+ctrl-isb-isb",
  "MP.RF+dc-dmb+ctrl-isb",
  "MP.RF+dc-dsb+ctrl-isb",
  "MP.RF+dc-dsb-ic-dsbnsh+ctrl-isb",
  "MP.RF+dmb+ctrl-isb",
  "MP.RF+ic+ctrl-isb",
  "MP.RFF+dc-dsb+ctrl-isb",
  "MP.RFF+dc-dsb+ctrl-isb-isb",
  "SM",
  "SM+RW",
  "SM+RW+RW",
  "SM+cachesync",
  "SM+cachesync-isb",
  "SM+dc-dmb-ctrl-isb",
  "SM+dc-dmb-ic-dmb-isb",
  "SM+dc-dsb-isb",
  "SM+dsb-ic-dsb-isb",
  "SM+dsb-isb",
  "SM+isb",
  "SM.F+ic",
  "W+F",
  "W+F+branches",
  "WRC.F.FF",
  "WRC.F.RF",
  "WRC.F.RF+po+ctrl-isb",
  "WRC.F.RR+po+dmb",
];

/**
 * Tests that disagree with herd7 today, with the machine rule each needs (docs/litmus.md).
 * This list may only shrink.
 */
export const KNOWN_DISAGREEMENTS: Record<string, string> = {};

describe.skipIf(corpus.skip)(
  corpus.title("agreement with herd7 on the instruction-fetch corpus"),
  () => {
    const report = corpus.skip ? (undefined as unknown as ReturnType<typeof agree>) : agree(CORPUS);

    it("runs all 52 tests, none unsupported", () => {
      expect(report.entries.length).toBe(52);
      expect(report.unsupported).toEqual([]);
    });

    it("agrees on at least the committed set (no regression)", () => {
      const missing = AGREED.filter((n) => !report.agreed.includes(n));
      expect(missing, `tests that agreed before and do not now: ${missing.join(", ")}`).toEqual([]);
    });

    it("disagrees only on the listed tests, each for a stated reason", () => {
      const unexpected = report.disagreed.filter((n) => !(n in KNOWN_DISAGREEMENTS));
      expect(unexpected, `new disagreements: ${unexpected.join(", ")}`).toEqual([]);
      expect(AGREED.length + Object.keys(KNOWN_DISAGREEMENTS).length).toBe(52);
      for (const e of report.entries.filter((x) => x.status === "disagreed")) {
        expect(e.observation, `${e.name}: exploration incomplete`).not.toBeNull();
        expect(e.observation).not.toBe(e.expected);
      }
    });

    it("every agreement is a complete exploration whose observation is herd7's", () => {
      for (const e of report.entries.filter((x) => x.status === "agreed")) {
        expect(e.result?.complete).toBe(true);
        expect(e.observation).toBe(e.expected);
        const r = e.result!;
        expect(r.positive + r.negative).toBe(r.states.length);
        expect(r.positive > 0).toBe(e.expected !== "Never");
      }
    });
  },
);
