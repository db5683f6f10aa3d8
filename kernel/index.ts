/** Programmatic API of execmem-lab-kernel: the runner, the report, the kernelspec, the CLI. */
export { runNotebooks, describeFailures, discoverNotebooks, RunnerInputError } from "./runner/run";
export type { RunOptions, RunResult, NotebookResult } from "./runner/run";
export { runNotebook } from "./runner/execute";
export type { NotebookRun, CellFailure, CellStatus, FailureKind } from "./runner/execute";
export { KernelClient, CellTimeoutError, KernelDiedError } from "./runner/client";
export { readNotebook, serializeNotebook } from "./runner/notebook";
export type { Notebook, Cell, Output } from "./runner/notebook";
export { CHECK_TAG, DEFAULT_SANITIZERS, compareOutputs } from "./runner/checks";
export { PARAMETERS_TAG, INJECTED_TAG, parseParam, injectParameters } from "./runner/params";
export { terminalProgress, silentProgress } from "./runner/progress";
export type { ProgressSink } from "./runner/progress";
export { renderNotebookPage, renderIndexPage } from "./report/html";
export {
  installKernelspec,
  uninstallKernelspec,
  kernelJson,
  KERNEL_NAME,
  DISPLAY_NAME,
} from "./kernelspec";
export { createProgram, main, COMMANDS } from "./cli";
export type { CommandModule } from "./cli";
export { FigureRenderer, renderFigures, renderFile, chromiumPath, CHROMIUM_ARGS } from "./render";
export type { FigureJSON, RenderOptions, BrowserOptions, DrawResult, ImageFormat } from "./render";
