/** The layer order of lib/ (docs/architecture.md): no import goes up. */
import { join } from "path";
import { describe, expect, it } from "vitest";
import {
  LAYERS,
  importKey,
  layerOf,
  layerViolations,
  libImports,
  relativeImports,
  type LibImport,
} from "./support/layers";

/**
 * Upward imports tolerated while they are being removed, as "from -> to" (paths under lib/).
 * Any other upward import fails the test; an entry that no longer occurs is reported.
 */
const KNOWN_UPWARD: readonly string[] = [];

const imports = libImports(join(__dirname, "..", "lib"));

describe("layer order of lib/", () => {
  it("reads the imports of every layer", () => {
    const layers = new Set(imports.map((i) => layerOf(i.from)));
    expect([...layers].sort()).toEqual(LAYERS.map((_l, k) => k));
    expect(imports.some((i) => i.from === "scenario/spec.ts" && i.to === "model/index.ts")).toBe(
      true,
    );
  });

  it("no import goes up the layer order (beyond the known ones being removed)", () => {
    const found = layerViolations(imports);
    const unexpected = found
      .filter((v) => !KNOWN_UPWARD.includes(importKey(v)))
      .map((v) => `${v.reason} [${importKey(v)}]`);
    const gone = KNOWN_UPWARD.filter((k) => !found.some((v) => importKey(v) === k));
    if (gone.length)
      console.warn(`layers: allow-list entries no longer needed: ${gone.join("; ")}`);
    const left = KNOWN_UPWARD.filter((k) => !gone.includes(k));
    if (left.length) console.warn(`layers: upward imports still allowed: ${left.join("; ")}`);
    expect(unexpected).toEqual([]);
  });

  it("every import resolves to a file of lib/", () => {
    expect(imports.filter((i) => i.to.endsWith("(unresolved)")).map(importKey)).toEqual([]);
  });
});

describe("the layer checker", () => {
  const imp = (from: string, to: string): LibImport => ({ from, to, spec: to });

  it("accepts imports down the order and sideways within a layer", () => {
    expect(
      layerViolations([
        imp("machine/machine.ts", "model/index.ts"),
        imp("explorer/explore.ts", "machine/layout.ts"),
        imp("cost/model.ts", "execmem/arch.ts"),
        imp("index.ts", "display.ts"),
        imp("plots/verdict.ts", "plots/colors.ts"),
      ]),
    ).toEqual([]);
  });

  it("names the file and the import of an upward import", () => {
    const v = layerViolations([
      imp("machine/machine.ts", "model/index.ts"),
      { from: "machine/machine.ts", to: "explorer/result.ts", spec: "../explorer/result" },
      imp("model/outcome.ts", "arch/index.ts"),
      imp("display.ts", "explorer/query.ts"),
      imp("plots/figure.ts", "index.ts"),
    ]);
    expect(v.map(importKey)).toEqual([
      "machine/machine.ts -> explorer/result.ts",
      "model/outcome.ts -> arch/index.ts",
      "display.ts -> explorer/query.ts",
      "plots/figure.ts -> index.ts",
    ]);
    expect(v[0].reason).toContain("machine/machine.ts");
    expect(v[0].reason).toContain('"../explorer/result"');
  });

  it("fails a file in no layer", () => {
    expect(layerViolations([imp("helpers.ts", "model/index.ts")])[0].reason).toBe(
      "helpers.ts is in no layer",
    );
    expect(layerViolations([imp("model/x.ts", "helpers.ts")])[0].reason).toBe(
      "helpers.ts is in no layer",
    );
  });
});

describe("tests reach lib/ through its public surface", () => {
  it("no test imports a module of lib/ other than lib/index.ts", () => {
    const root = join(__dirname, "..");
    const deep = relativeImports(__dirname, root)
      .filter((i) => i.to.startsWith("lib/") && i.to !== "lib/index.ts")
      .map((i) => `${i.from} imports "${i.spec}" (${i.to}): import it from the lib/ index`);
    expect(deep).toEqual([]);
  });
});
