/**
 * The kernel launcher named in the kernelspec:
 *   node kernel/dist/launch.js kernel --config-file {connection_file}
 * Installs the display layer, then runs tslab's TypeScript kernel in this process.
 */
import { startKernel } from "./display";

export function parseLaunchArgs(argv: string[]): { configFile: string } {
  const [command, flag, configFile] = argv;
  if (
    command !== "kernel" ||
    (flag !== "--config-file" && flag !== "--config-path") ||
    !configFile
  ) {
    throw new Error(
      `execmem-lab launcher: expected "kernel --config-file <connection file>", got ${JSON.stringify(argv.join(" "))}`,
    );
  }
  return { configFile };
}

if (require.main === module) {
  try {
    const { configFile } = parseLaunchArgs(process.argv.slice(2));
    startKernel(configFile).catch((e: unknown) => {
      console.error("execmem-lab kernel failed to start:", e);
      process.exit(1);
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  }
}
