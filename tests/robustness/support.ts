/** Helpers of the bad-input tests: the CLI as a child process, killed if it hangs. */
import { spawnCli, type CliOutcome } from "../kernel-support";

export { CLI, ROOT, tempDir } from "../kernel-support";

export type Outcome = CliOutcome;

/** Run `node kernel/dist/cli.js ARGS`; kill it after `timeoutMs` (a hang is a result, not a stuck test). */
export function cli(args: string[], opts: Parameters<typeof spawnCli>[1] = {}): Promise<Outcome> {
  return spawnCli(args, { timeoutMs: 20_000, ...opts });
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

export const fixture = (name: string) => `tests/fixtures/robustness/${name}`;
