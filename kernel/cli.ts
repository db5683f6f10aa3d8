/**
 * The execmem-lab command line. Each subcommand lives in kernel/commands/<name>.ts and exports
 * `register(program)`; adding one is one line in COMMANDS below. Only the module of the command
 * given is loaded (all of them for help or a name that is none of them): `kernel install` or
 * `run` starts without the model, `explore` without the runner.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { Command, CommanderError } from "commander";
import { UsageError } from "./errors";

export interface CommandModule {
  register(program: Command): void;
}

/* eslint-disable @typescript-eslint/no-require-imports -- each loaded when its command is used */
/** The subcommands: name and module. */
export const COMMANDS: Record<string, () => CommandModule> = {
  kernel: () => require("./commands/kernel"),
  run: () => require("./commands/run"),
  explore: () => require("./commands/explore"),
  render: () => require("./commands/render"),
  litmus: () => require("./commands/litmus"),
  agree: () => require("./commands/agree"),
};
/* eslint-enable @typescript-eslint/no-require-imports */

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The command line, with every subcommand, or with `args`' (the arguments after the program
 * name) only, when its first word names one.
 */
export function createProgram(args: string[] = []): Command {
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
  const first = args.find((a) => !a.startsWith("-"));
  const names =
    first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  for (const name of names) COMMANDS[name]().register(program);
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
  const args = rewriteParamPairs(argv.slice(2));
  try {
    await createProgram(args).parseAsync([argv[0], argv[1], ...args]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
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
