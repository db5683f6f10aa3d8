/**
 * The execmem-lab command line. Each subcommand lives in kernel/commands/<name>.ts and exports
 * `register(program)`; adding one is one line in COMMANDS below.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { Command, CommanderError } from "commander";
import { JupyterMissingError } from "./kernelspec";
import { RunnerInputError } from "./runner/run";
import { UsageError } from "./commands/options";
import * as kernel from "./commands/kernel";
import * as run from "./commands/run";
import * as explore from "./commands/explore";
import * as render from "./commands/render";
import * as litmus from "./commands/litmus";
import * as agree from "./commands/agree";

export interface CommandModule {
  register(program: Command): void;
}

/** The registered subcommands. */
export const COMMANDS: CommandModule[] = [kernel, run, explore, render, litmus, agree];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function createProgram(): Command {
  const program = new Command("execmem-lab")
    .description(
      "execmem-lab: the execmem/JIT text synchronisation arguments, run on a machine model",
    )
    .version(packageVersion())
    // Set before the subcommands are added: they copy these settings. A bad option or argument
    // is one line on stderr and exit 2 (main), not the whole usage.
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`execmem-lab: ${str.replace(/^error: /, "")}`),
    });
  for (const c of COMMANDS) c.register(program);
  return program;
}

/** Rewrite papermill-style `-p NAME VALUE` into `-p NAME=VALUE` for commander. */
export function rewriteParamPairs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (
      (a === "-p" || a === "--parameter") &&
      i + 2 < args.length + 1 &&
      args[i + 1] !== undefined
    ) {
      const name = args[i + 1];
      if (/^[A-Za-z_$][\w$]*=/.test(name)) {
        out.push(a, name);
        i += 1;
      } else if (args[i + 2] !== undefined) {
        out.push(a, `${name}=${args[i + 2]}`);
        i += 2;
      } else {
        out.push(a, name);
        i += 1;
      }
    } else if (a === "--") {
      out.push(...args.slice(i));
      break;
    } else {
      out.push(a);
    }
  }
  return out;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([argv[0], argv[1], ...rewriteParamPairs(argv.slice(2))]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (
      e instanceof RunnerInputError ||
      e instanceof JupyterMissingError ||
      e instanceof UsageError
    ) {
      console.error(`execmem-lab: ${e.message}`);
      return 2;
    }
    console.error(`execmem-lab: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
