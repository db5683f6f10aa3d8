#!/usr/bin/env node
// Builds notebooks/*.ipynb from the percent-format sources in notebooks/src/*.ts:
//   // %% [markdown]            a markdown cell; its lines are written as "// text"
//   // %% tags=["parameters"]  a code cell with tags
//   // %%                      a code cell
//   // %% [include] FILE.ts     a code cell holding notebooks/src/FILE.ts (shared helpers)
// Usage: node notebooks/make.mjs [--check]   (--check: exit 1 if an .ipynb is out of date)
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const check = process.argv.includes("--check");

export function toNotebook(text, name) {
  const cells = [];
  let cur = null;
  const flush = () => {
    if (!cur) return;
    while (cur.lines.length && cur.lines[cur.lines.length - 1].trim() === "") cur.lines.pop();
    while (cur.lines.length && cur.lines[0].trim() === "") cur.lines.shift();
    if (cur.lines.length) cells.push(cur);
  };
  for (const line of text.split("\n")) {
    const m = /^\/\/ %%(.*)$/.exec(line);
    if (m) {
      flush();
      const rest = m[1].trim();
      const inc = /^\[include\]\s+(\S+)/.exec(rest);
      if (inc) {
        cells.push({ type: "code", tags: [], lines: readFileSync(join(src, inc[1]), "utf8").trimEnd().split("\n") });
        cur = null;
        continue;
      }
      const md = rest.startsWith("[markdown]");
      const t = /tags=(\[.*\])/.exec(rest);
      cur = { type: md ? "markdown" : "code", tags: t ? JSON.parse(t[1]) : [], lines: [] };
      continue;
    }
    if (!cur) continue;
    cur.lines.push(cur.type === "markdown" ? line.replace(/^\/\/ ?/, "") : line);
  }
  flush();
  const source = (ls) => ls.map((l, i) => (i < ls.length - 1 ? l + "\n" : l));
  return {
    cells: cells.map((c, i) => {
      const id = `${name.replace(/[^A-Za-z0-9-]/g, "-")}-${i + 1}`.slice(0, 64);
      const metadata = c.tags.length ? { tags: c.tags } : {};
      return c.type === "markdown"
        ? { cell_type: "markdown", id, metadata, source: source(c.lines) }
        : { cell_type: "code", id, metadata, source: source(c.lines), execution_count: null, outputs: [] };
    }),
    metadata: {
      kernelspec: { name: "execmem-lab", display_name: "execmem-lab (TypeScript)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

let stale = 0;
for (const f of readdirSync(src).filter((x) => x.endsWith(".ts") && !x.startsWith("_")).sort()) {
  const name = f.replace(/\.ts$/, "");
  const out = join(here, `${name}.ipynb`);
  const json = JSON.stringify(toNotebook(readFileSync(join(src, f), "utf8"), name), null, 1) + "\n";
  if (check) {
    if (!existsSync(out) || readFileSync(out, "utf8") !== json) {
      console.error(`out of date: notebooks/${name}.ipynb (run node notebooks/make.mjs)`);
      stale++;
    }
  } else writeFileSync(out, json);
}
if (stale) process.exit(1);
