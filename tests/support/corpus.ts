/**
 * The herd7 litmus corpora live in ../shared/litmus beside the checkout (README, "Litmus
 * corpora"). Without them a corpus suite is skipped, with the reason in its title, outside CI;
 * under CI=true it runs and fails (tests/robustness/corpora.test.ts says what is missing).
 */
import { existsSync, readdirSync } from "fs";
import { join } from "path";
import { IN_CI } from "../kernel-support";

export const SHARED_LITMUS = join(__dirname, "..", "..", "..", "shared", "litmus");

export interface Corpus {
  dir: string;
  present: boolean;
  /** Skip the suites that read it (missing, not in CI). */
  skip: boolean;
  /** The .litmus files, sorted ([] when missing). */
  files: string[];
  /** A suite title, saying why it is skipped when it is. */
  title(name: string): string;
}

export function litmusCorpus(name: string): Corpus {
  const dir = join(SHARED_LITMUS, name);
  const present = existsSync(dir);
  const skip = !present && !IN_CI;
  return {
    dir,
    present,
    skip,
    files: present
      ? readdirSync(dir)
          .filter((f) => f.endsWith(".litmus"))
          .sort()
      : [],
    title: (t) =>
      skip
        ? `${t} (SKIPPED: litmus corpus ${dir} not found; it comes with ../shared, see README "Litmus corpora"; in CI this fails instead)`
        : t,
  };
}
