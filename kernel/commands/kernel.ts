/** `execmem-lab kernel install|uninstall [--user | --prefix DIR]` */
import type { Command } from "commander";
import {
  DISPLAY_NAME,
  installKernelspec,
  jupyterPathHint,
  uninstallKernelspec,
} from "../kernelspec";

export function register(program: Command): void {
  const kernel = program
    .command("kernel")
    .description(`manage the "${DISPLAY_NAME}" Jupyter kernelspec`);
  kernel
    .command("install")
    .description("register the kernelspec with Jupyter (default: for this user)")
    .option("--user", "install for this user (default)")
    .option(
      "--prefix <dir>",
      "install into DIR/share/jupyter/kernels (point JUPYTER_PATH at DIR/share/jupyter)",
    )
    .action((opts: { user?: boolean; prefix?: string }) => {
      const dir = installKernelspec(opts);
      console.log(`installed kernelspec "${DISPLAY_NAME}" in ${dir}`);
      const hint = opts.prefix ? jupyterPathHint(opts.prefix) : null;
      if (hint) console.log(hint);
    });
  kernel
    .command("uninstall")
    .description("remove the kernelspec")
    .option("--user", "remove the per-user kernelspec (default)")
    .option("--prefix <dir>", "remove it from DIR/share/jupyter/kernels")
    .action((opts: { user?: boolean; prefix?: string }) => {
      const dir = uninstallKernelspec(opts);
      console.log(`removed kernelspec "${DISPLAY_NAME}" (${dir})`);
    });
}
