/** The "execmem-lab (TypeScript)" kernelspec: written by us, installed through `jupyter kernelspec`. */
import { spawnSync } from "child_process";
import { UsageError } from "./errors";
import { makeDirs } from "./files";
import { SNAPSHOT_GLIBC_TUNABLES, SNAPSHOT_V8_FLAGS } from "./snapshot";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from "fs";
import { tmpdir } from "os";
import { delimiter, join, resolve } from "path";

export const KERNEL_NAME = "execmem-lab";
export const DISPLAY_NAME = "execmem-lab (TypeScript)";
/** The launcher compiled from kernel/launch.ts. */
export const LAUNCHER = resolve(__dirname, "launch.js");

/** What to set so that Jupyter finds a kernelspec installed with `--prefix DIR`. */
export function jupyterPathHint(
  prefix: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const dir = join(resolve(prefix), "share", "jupyter");
  const current = (env.JUPYTER_PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((p) => resolve(p));
  if (current.includes(dir)) return null;
  return `Jupyter looks there only with JUPYTER_PATH=${dir} (e.g. export JUPYTER_PATH=${dir}${env.JUPYTER_PATH ? delimiter + "$JUPYTER_PATH" : ""})`;
}

export const INSTALL_HELP =
  "Install Jupyter first, e.g. on Debian/Ubuntu: apt-get install jupyter-client jupyter-nbconvert python3-nbclient " +
  "(add jupyter-notebook or pip install jupyterlab for a front end), then run this again.";

/** Jupyter is not installed: bad input to the command (exit 2). */
export class JupyterMissingError extends UsageError {
  constructor(what: string) {
    super(`${what}: Jupyter was not found on PATH (no "jupyter" executable). ${INSTALL_HELP}`);
    this.name = "JupyterMissingError";
  }
}

export interface KernelJson {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal";
  metadata: Record<string, unknown>;
}

/**
 * What kernel.json runs with `node -e`: the launcher (argv[1]), or, when the checkout it was
 * installed from has moved, a one-line hint instead of Node's stack trace (Jupyter shows the
 * kernel's stderr in its log).
 */
export const BOOTSTRAP =
  "const [l,...a]=process.argv.slice(1);let m;try{m=require(l)}catch(e){" +
  'if(e&&e.code==="MODULE_NOT_FOUND"&&!require("fs").existsSync(l)){' +
  "console.error(`execmem-lab kernel: its launcher ${l} no longer exists (the checkout moved or " +
  'was removed); run "npx execmem-lab kernel install" again from the checkout`);process.exit(1)}' +
  "throw e}m.runLauncher(a)";

/**
 * The shell step of kernel.json on POSIX systems ($1 node, $2 BOOTSTRAP, $3 the launcher, $4 the
 * connection file, $5 the snapshot's V8 flags): start the kernel from its startup snapshot when
 * the snapshot's launch file for this Node.js version (kernel/snapshot.ts, snapshotLaunchFile,
 * beside the launcher) names this node and these flags and its blob is there, with
 * SNAPSHOT_GLIBC_TUNABLES before any GLIBC_TUNABLES of the user's; else as a script. Only
 * `node --version` runs before the kernel (V8 refuses a snapshot of another Node.js, or started
 * with other flags). `exec`, so that the kernel is the process Jupyter started and signals.
 */
export const SNAPSHOT_LAUNCH =
  'v=$("$1" --version 2>/dev/null); s="${3%/*}/snapshot/kernel-$v.launch"; k=; b=; ' +
  'if [ "$EXECMEM_LAB_KERNEL_SNAPSHOT" != 0 ] && [ -n "$v" ] && [ -r "$s" ]; then ' +
  '{ read -r k; read -r b; } < "$s"; fi; ' +
  'if [ -n "$b" ] && [ "$k" = "$1 $5" ] && [ -f "$b" ]; then ' +
  `GLIBC_TUNABLES=${SNAPSHOT_GLIBC_TUNABLES}\${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}; ` +
  'export GLIBC_TUNABLES; exec "$1" $5 --snapshot-blob "$b" kernel --config-file "$4"; fi; ' +
  'exec "$1" -e "$2" "$3" kernel --config-file "$4"';

export function kernelJson(platform: NodeJS.Platform = process.platform): KernelJson {
  const direct = [process.execPath, "-e", BOOTSTRAP, LAUNCHER, "kernel", "--config-file"];
  return {
    argv:
      platform === "win32"
        ? [...direct, "{connection_file}"]
        : [
            "/bin/sh",
            "-c",
            SNAPSHOT_LAUNCH,
            "execmem-lab-kernel",
            process.execPath,
            BOOTSTRAP,
            LAUNCHER,
            "{connection_file}",
            SNAPSHOT_V8_FLAGS.join(" "),
          ],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { "execmem-lab": { launcher: LAUNCHER } },
  };
}

/** Absolute path of `name` on PATH, or null. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export interface Location {
  user?: boolean;
  prefix?: string;
}

function locationArgs(loc: Location): string[] {
  if (loc.user && loc.prefix)
    throw new Error("kernel install: give either --user or --prefix DIR, not both");
  return loc.prefix ? [`--prefix=${resolve(loc.prefix)}`] : ["--user"];
}

function runJupyter(jupyter: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(jupyter, args, { encoding: "utf8", env });
  if (r.error) throw new Error(`running ${jupyter} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) {
    // A Python traceback ends with the line that says why.
    const last = (r.stderr || r.stdout).trim().split("\n").pop() ?? "";
    throw new Error(`${jupyter} ${args.join(" ")} exited with ${r.status}: ${last}`);
  }
  return `${r.stdout}${r.stderr}`;
}

/**
 * Register the kernelspec (default: for this user; with a prefix: in PREFIX/share/jupyter/kernels).
 * Returns the directory it was installed in.
 */
export function installKernelspec(
  loc: Location = {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  const args = locationArgs(loc);
  if (loc.prefix) {
    // jupyter kernelspec would answer a Python traceback: check first, say it in one line.
    const kernels = join(resolve(loc.prefix), "share", "jupyter", "kernels");
    try {
      makeDirs(kernels);
      accessSync(kernels, constants.W_OK);
    } catch (e) {
      throw new UsageError(
        `kernel install: cannot write to ${loc.prefix}: ${(e as Error).message}`,
      );
    }
  }
  const jupyter = which("jupyter", env);
  if (!jupyter) throw new JupyterMissingError("kernel install");
  if (!existsSync(LAUNCHER)) {
    throw new Error(
      `kernel install: the launcher ${LAUNCHER} is missing; build first (npm run build)`,
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), "execmem-lab-spec-"));
  try {
    const dir = join(tmp, KERNEL_NAME);
    mkdirSync(dir);
    writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelJson(), null, 2) + "\n");
    const out = runJupyter(
      jupyter,
      ["kernelspec", "install", "--replace", `--name=${KERNEL_NAME}`, ...args, dir],
      env,
    );
    const m = /Installed kernelspec \S+ in (.+)/.exec(out);
    return m
      ? m[1].trim()
      : loc.prefix
        ? join(resolve(loc.prefix), "share", "jupyter", "kernels", KERNEL_NAME)
        : out.trim();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Remove the kernelspec; returns the directory removed. */
export function uninstallKernelspec(
  loc: Location = {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (loc.user && loc.prefix)
    throw new Error("kernel uninstall: give either --user or --prefix DIR, not both");
  if (loc.prefix) {
    const dir = join(resolve(loc.prefix), "share", "jupyter", "kernels", KERNEL_NAME);
    if (!existsSync(dir))
      throw new Error(`kernel uninstall: no ${KERNEL_NAME} kernelspec in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    return dir;
  }
  const jupyter = which("jupyter", env);
  if (!jupyter) throw new JupyterMissingError("kernel uninstall");
  const out = runJupyter(jupyter, ["kernelspec", "remove", "-y", KERNEL_NAME], env);
  const m = /Removed (.+)/.exec(out);
  return m ? m[1].trim() : out.trim();
}
