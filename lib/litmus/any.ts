/** Running a litmus file of any supported architecture: AArch64 or RISCV, by its header. */
import { LitmusError, litmusArch, readLitmusFile } from "./frame";
import { parseLitmus } from "./parse";
import { parseRiscvLitmus } from "./riscv";
import { runRiscvTest, type RiscvTranslateOptions } from "./riscv-translate";
import { runLitmusTest, type LitmusOptions, type LitmusResult } from "./run";

/** Reads a litmus file and runs it on the machine of its architecture. */
export function runLitmusFile(
  path: string,
  opts: LitmusOptions & RiscvTranslateOptions = {},
): LitmusResult {
  const text = readLitmusFile(path);
  if (litmusArch(text) === "RISCV") return runRiscvTest(parseRiscvLitmus(text, path), opts);
  if (opts.arch !== undefined)
    throw new LitmusError(
      `--arch ${opts.arch} applies to RISCV tests; this is not one`,
      path,
      1,
      1,
    );
  return runLitmusTest(parseLitmus(text, path), opts);
}
