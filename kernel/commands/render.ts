/** `execmem-lab render FIGURE.json OUT.png|OUT.svg` — a figure to an image with headless Chromium. */
import { InvalidArgumentError, type Command } from "commander";
import { renderFile } from "../render";

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number > 0, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command("render")
    .description(
      "render a plotly figure (JSON, as the library's figures serialise) to PNG or SVG with headless Chromium",
    )
    .argument("<figure>", "figure JSON file ({data, layout})")
    .argument("<out>", "output image, .png or .svg")
    .option(
      "-W, --width <px>",
      "width (default: the figure's layout.width, else 900)",
      positiveNumber("--width"),
    )
    .option(
      "-H, --height <px>",
      "height (default: the figure's layout.height, else 600)",
      positiveNumber("--height"),
    )
    .option("-s, --scale <n>", "pixel ratio of PNGs", positiveNumber("--scale"), 1)
    .option(
      "--chromium <path>",
      "Chromium binary (default $EXECMEM_LAB_CHROMIUM or /usr/bin/chromium)",
    )
    .action(
      async (
        figure: string,
        out: string,
        opts: { width?: number; height?: number; scale: number; chromium?: string },
      ) => {
        await renderFile(figure, out, {
          width: opts.width,
          height: opts.height,
          scale: opts.scale,
          executablePath: opts.chromium,
        });
        console.log(`wrote ${out}`);
      },
    );
}
