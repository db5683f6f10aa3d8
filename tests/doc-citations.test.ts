/** Comments in lib/ and kernel/ that cite a section of docs/ ("docs/model.md §Outcomes") name one that exists. */
import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative } from "path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "dist" && name !== "node_modules") out.push(...sources(p));
    } else if (/\.(ts|mjs|js)$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** The section names (headings without the #s) of a markdown text. */
function headings(md: string): string[] {
  return [...md.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => m[1]);
}

/** Citations "docs/x.md §Section" in a text: the file and the section as written. */
function citations(text: string): { doc: string; section: string }[] {
  return [...text.matchAll(/(docs\/[\w.-]+\.md) §([^),;.\n]+?)(?=[),;.\n]|$)/g)].map((m) => ({
    doc: m[1],
    section: m[2].trim(),
  }));
}

describe("citations of docs/ sections", () => {
  it("finds citations and headings", () => {
    expect(citations("x (docs/model.md §Memory aliases). y docs/cli.md §Exit codes, z")).toEqual([
      { doc: "docs/model.md", section: "Memory aliases" },
      { doc: "docs/cli.md", section: "Exit codes" },
    ]);
    expect(headings("# A\ntext\n## B c\n### D")).toEqual(["A", "B c", "D"]);
  });

  it("every cited section of docs/ exists", () => {
    const missing: string[] = [];
    let seen = 0;
    for (const file of [...sources(join(root, "lib")), ...sources(join(root, "kernel"))]) {
      for (const c of citations(readFileSync(file, "utf8"))) {
        seen++;
        let doc: string;
        try {
          doc = readFileSync(join(root, c.doc), "utf8");
        } catch {
          missing.push(`${relative(root, file)}: ${c.doc} does not exist`);
          continue;
        }
        if (!headings(doc).includes(c.section))
          missing.push(`${relative(root, file)}: ${c.doc} has no section "${c.section}"`);
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
