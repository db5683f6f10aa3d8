/**
 * Reader of herd7 RISC-V instruction-fetch litmus tests (`RISCV NAME`, `Variant=self`): the
 * common layout is frame.ts, instructions riscv-insn.ts; riscv-translate.ts makes a scenario of
 * a riscv64 variant from one.
 */
import { checkLabels, failIn, headerValues, readCode, readFrame, readLitmusFile } from "./frame";
import { readInitTarget, readValue, type At, type CodeAt, type InitValueOf } from "./frame";
import { decodeRv, rvReg, type RvInsn } from "./riscv-insn";

export type RvValue = InitValueOf<RvInsn>;

export interface RvInit {
  thread: number | null;
  name: string;
  value: RvValue;
  line: number;
  column: number;
}

export type RvCode = CodeAt<RvInsn>;

export interface RiscvTest {
  file: string;
  arch: "RISCV";
  name: string;
  header: Record<string, string>;
  init: RvInit[];
  threads: { name: string; code: RvCode[] }[];
  condition: { text: string; line: number; column: number };
  locations: string[];
}

/** Reads and parses a RISC-V litmus file. */
export function loadRiscvLitmus(path: string): RiscvTest {
  return parseRiscvLitmus(readLitmusFile(path), path);
}

/** Parses the text of a herd7 RISC-V litmus file; errors are LitmusErrors with file:line:col. */
export function parseRiscvLitmus(source: string, file = "<litmus>"): RiscvTest {
  const f = readFrame(source, file, "RISCV");
  const fail = failIn(file);
  const decode = (text: string, at: At) =>
    decodeRv(text, (msg, instruction) => fail(msg, at, instruction));
  const variant = (f.header.Variant?.text ?? "")
    .split(/[,\s]+/)
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  if (variant.includes("vm"))
    fail(
      "unsupported: page-table state (Variant=vm: virtual-memory tests need page-table initial values)",
      f.header.Variant,
      "Variant=vm",
    );

  const init: RvInit[] = [];
  for (const e of f.init) {
    const eq = e.text.indexOf("=");
    if (eq < 0) fail(`expected "T:reg=value" or "location=value", got "${e.text}"`, e);
    const lhs = e.text.slice(0, eq).trim();
    const rhs = e.text.slice(eq + 1).trim();
    if (/[()]/.test(lhs) || /^\(|\b(oa|PTE|PA|TTD)\b/.test(rhs))
      fail(`unsupported: page-table state "${e.text}"`, e, e.text);
    const { thread, name } = readInitTarget(
      lhs,
      (x) => {
        const r = rvReg(x);
        if (!r) fail(`"${x}" is not a RISC-V register (x0..x31 or an ABI name)`, e);
        if (r === "zero") fail("x0 (zero) cannot be given a value", e);
        return r!;
      },
      /^(?:[A-Za-z_]\w*\s+)?\*?\s*([A-Za-z_]\w*)$/,
      () => fail(`expected "T:reg=value" or "location=value", got "${e.text}"`, e),
    );
    init.push({
      thread,
      name,
      value: readValue(rhs, e, fail, decode),
      line: e.line,
      column: e.column,
    });
  }

  const handler = f.columns.find((c) => c.handler);
  if (handler)
    fail(
      `fault handlers ("${handler.text}") are not supported in RISC-V tests`,
      handler,
      handler.text,
    );
  const cols = readCode(f, decode, (name) => rvReg(name) === null);
  const threads = f.threads.map((t, ti) => ({
    name: t.text,
    code: [...cols[ti].code, { labels: cols[ti].after, insn: null }] as RvCode[],
  }));
  checkLabels(threads, fail, f.threads[0]);
  return {
    file,
    arch: "RISCV",
    name: f.name,
    header: headerValues(f),
    init,
    threads,
    condition: f.condition,
    locations: f.locations,
  };
}
