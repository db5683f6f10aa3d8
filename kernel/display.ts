/**
 * The display layer of the execmem-lab kernel, and the one place that touches tslab internals.
 *
 * - installs the display hook the library's `display()`/`progress()` facades look up at
 *   `globalThis[Symbol.for("execmem-lab.display")]`: one output per display with a full MIME
 *   bundle, and update-in-place (display_id + update_display_data);
 * - makes a cell's last expression render through `Symbol.for("Jupyter.display")` (as an
 *   execute_result with its whole bundle) when the value implements it;
 * - reports a thrown error or a TypeScript diagnostic as a Jupyter `error` output
 *   (ename/evalue/traceback) instead of tslab's plain stderr text;
 * - routes every output (stream, display_data, update_display_data, execute_result, error) to the
 *   request that produced it: each execution runs in an AsyncLocalStorage context holding its
 *   writers, so output of a timer, promise or worker message started by a cell goes to that cell
 *   even after later requests of a Run All have started; a display's updates go where the
 *   display went;
 * - resets the process for the runner's next notebook (kernel/reset.ts) on its reset request;
 * - starts tslab's kernel in this process.
 *
 * tslab 1.0.22 internals relied on (checked by {@link checkTslabContract} at start-up and by
 * tests/kernel-tslab-contract.test.ts): dist/converter.createConverter, dist/executor.createExecutor
 * (its console: `log` receives only a cell's last expression value, `error` receives thrown values
 * and diagnostics printed as ("%s%d:%d - %s", file, line, col, text)), dist/jupyter.ZmqServer
 * (handleExecute(sock, msg), handleShellMessage(sock, ...frames), connInfo.key, iopub),
 * dist/jupyter.JupyterHandlerImpl (handleExecute(req, writeStream, writeDisplayData), which queues
 * handleExecuteImpl with the same arguments; execCount; execQueue.reset()), the executor's
 * reset(), and ZmqMessage.createReply/signAndSend.
 */
import { AsyncLocalStorage } from "async_hooks";
import { createHmac, randomBytes, randomUUID } from "crypto";
import { inspect } from "util";
import {
  DISPLAY_HOOK,
  INTERRUPT_HOOK,
  InterruptedError,
  JUPYTER_DISPLAY,
  QUIET,
} from "execmem-lab";
import type { DisplayHook, DisplayOptions, InterruptHook, MimeBundle } from "execmem-lab";
import {
  EarlyInterrupts,
  INTERRUPTED_BEFORE_IT_RAN,
  headerDate,
  type EarlyCell,
} from "./interrupts";
import { withPlotlyFallback } from "./plotly";
import { type ShorthandParser, convertExpanded } from "./shorthand";
import { flush, mark } from "./trace";
import {
  RESET_REPLY,
  RESET_REQUEST,
  resetBlocker,
  resetProcess,
  takeBaseline,
  type ProcessBaseline,
} from "./reset";

/** The tslab version whose internals this module was written against. */
export const TSLAB_VERSION = "1.0.22";

/** display_data / update_display_data content as tslab's writeDisplayData takes it. */
export interface DisplayData {
  data: MimeBundle;
  metadata: { [mime: string]: unknown };
  transient?: { display_id?: string };
}
export type WriteDisplayData = (data: DisplayData, update: boolean) => void;

// ---- the display hook ----------------------------------------------------------------------

let currentWriter: WriteDisplayData | null = null;

/** Set the writer that display outputs go to when no execution context names one. */
export function setDisplayWriter(w: WriteDisplayData | null): void {
  currentWriter = w;
}

function newDisplayId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * Strip values JSON cannot carry, so a bundle always serialises; a plotly figure gets its
 * `text/html` fallback (kernel/plotly.ts).
 */
function jsonSafe(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(withPlotlyFallback(bundle))) {
    if (value === undefined) continue;
    if (value instanceof Uint8Array) out[mime] = Buffer.from(value).toString("base64");
    else out[mime] = value;
  }
  return out;
}

/**
 * The hook object installed at globalThis[Symbol.for("execmem-lab.display")]. `getWriter` is
 * asked once per display; the display's updates go to the same writer (the cell that showed it).
 */
export function createDisplayHook(getWriter: () => WriteDisplayData | null): DisplayHook {
  const write = (w: WriteDisplayData | null, data: DisplayData, update: boolean) => {
    if (!w) {
      // Not executing in a kernel (e.g. the hook installed in a test); show the text.
      console.log(String(data.data["text/plain"] ?? ""));
      return;
    }
    w(data, update);
  };
  return {
    display(bundle: MimeBundle, opts: DisplayOptions) {
      const id = newDisplayId();
      const metadata = opts.metadata ?? {};
      const w = getWriter();
      write(w, { data: jsonSafe(bundle), metadata, transient: { display_id: id } }, false);
      return {
        id,
        update(next: MimeBundle) {
          write(w, { data: jsonSafe(next), metadata, transient: { display_id: id } }, true);
        },
      };
    },
  };
}

/** Install the display hook for this process (idempotent). */
export function installDisplayHook(): DisplayHook {
  const hook = createDisplayHook(() => currentExecution()?.writeDisplayData ?? currentWriter);
  (globalThis as { [DISPLAY_HOOK]?: DisplayHook })[DISPLAY_HOOK] = hook;
  return hook;
}

// ---- interrupts ------------------------------------------------------------------------------

let interruptController = new AbortController();

/**
 * Abort the signal that long work (exploreMany's workers) listens to, and start a fresh one for
 * work started afterwards. Called on an interrupt and on shutdown.
 */
export function abortRunningWork(): void {
  const c = interruptController;
  interruptController = new AbortController();
  c.abort();
}

/** Install the interrupt hook for this process (lib/model/interrupt.ts reads it). */
export function installInterruptHook(): InterruptHook {
  const hook: InterruptHook = { signal: () => interruptController.signal };
  (globalThis as { [INTERRUPT_HOOK]?: InterruptHook })[INTERRUPT_HOOK] = hook;
  return hook;
}

function isQuiet(value: unknown): boolean {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    (value as { [QUIET]?: unknown })[QUIET] === true
  );
}

/** The bundle of a value that renders itself, or null if it does not. */
export function selfBundle(value: unknown): MimeBundle | null {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return null;
  const fn = (value as { [JUPYTER_DISPLAY]?: unknown })[JUPYTER_DISPLAY];
  if (typeof fn !== "function") return null;
  const bundle: unknown = fn.call(value);
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
    throw new TypeError(
      `[Symbol.for("Jupyter.display")]() returned ${inspect(bundle)}; expected a MIME bundle object`,
    );
  }
  const out = jsonSafe(bundle as MimeBundle);
  if (typeof out["text/plain"] !== "string") out["text/plain"] = `<${Object.keys(out).join(", ")}>`;
  return out;
}

// ---- cell errors --------------------------------------------------------------------------

/** A Jupyter error output. */
export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** The executor's console format for one diagnostic (tslab executor.printDiagnostics). */
const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";

/** Turn what tslab's executor printed through console.error into one Jupyter error. */
export function toCellError(printed: unknown[][]): CellError | null {
  if (printed.length === 0) return null;
  const diagnostics = printed.filter((args) => args[0] === DIAGNOSTIC_FORMAT);
  if (diagnostics.length > 0) {
    const lines = diagnostics.map(
      ([, file, line, col, text]) => `${file ? String(file) : ""}${line}:${col} - ${text}`,
    );
    return { ename: "TypeScriptError", evalue: lines[0], traceback: lines };
  }
  const value = printed[printed.length - 1][0];
  if (value instanceof Error) {
    const stack = (value.stack ?? `${value.name}: ${value.message}`).split("\n");
    // Frames below the cell are tslab's and this kernel's: they say nothing about the notebook.
    const cut = stack.findIndex((l) => /node_modules[\\/]tslab[\\/]|kernel[\\/]dist[\\/]/.test(l));
    return {
      ename: value.name || "Error",
      evalue: value.message,
      traceback: cut > 0 ? stack.slice(0, cut) : stack,
    };
  }
  const text = printed.map((args) => args.map((a) => inspect(a)).join(" ")).join("\n");
  return { ename: "Error", evalue: `non-Error thrown: ${text}`, traceback: [text] };
}

// ---- tslab internals ----------------------------------------------------------------------

interface ExecutorConsole {
  log(message?: unknown, ...rest: unknown[]): void;
  error(message?: unknown, ...rest: unknown[]): void;
}
interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  interrupt(): void;
  reset(): void;
  close(): void;
  locals: { [key: string]: unknown };
}
interface TslabConverter {
  convert(prevDecl: string, src: string): unknown;
  addModule(...args: unknown[]): unknown;
  close(): void;
}
interface ConverterSet {
  readonly node: TslabConverter;
  readonly browser: TslabConverter;
  close(): void;
}
interface ZmqReply {
  header: { msg_type: string; [k: string]: unknown };
  content: unknown;
  signAndSend(key: string, sock: unknown): void;
}
interface ZmqMessageLike {
  header?: { date?: string };
  content: { code: string; silent?: boolean; [k: string]: unknown };
  createReply(): ZmqReply;
}
interface ExecuteReply {
  status: string;
  execution_count?: number;
  [k: string]: unknown;
}
interface KernelInfoReply {
  implementation: string;
  implementation_version: string;
  language_info: { name: string; version: string; [k: string]: unknown };
  banner: string;
  [k: string]: unknown;
}
interface TslabHandler {
  execCount: number;
  /** Requests after a failed one are aborted until this queue is reset (200 ms later). */
  execQueue: { reset(delayMs?: number): void };
  handleKernel(): KernelInfoReply;
  handleExecute(
    req: ZmqMessageLike["content"],
    writeStream: (name: string, text: string) => void,
    writeDisplayData: WriteDisplayData,
  ): Promise<ExecuteReply>;
  close(): void;
}
interface TslabServer {
  handler: TslabHandler;
  connInfo: { key: string };
  iopub: unknown;
  handleShellMessage(sock: unknown, ...frames: Buffer[]): Promise<void>;
  init(): Promise<void>;
  close(): void;
}
interface TslabInternals {
  version: string;
  createConverter(opts: { isJS: boolean; isBrowser: boolean }): TslabConverter;
  createExecutor(rootDir: string, convs: ConverterSet, console: ExecutorConsole): TslabExecutor;
  ZmqServer: new (handler: TslabHandler, configPath: string) => TslabServer;
  JupyterHandlerImpl: new (executor: TslabExecutor, isJs: boolean) => TslabHandler;
  /** The TypeScript compiler tslab compiles cells with (@tslab/typescript-for-tslab). */
  typescript: ShorthandParser;
}

/** Load tslab's internals, failing with a clear message if they are not what we rely on. */
export function loadTslab(): TslabInternals {
  /* eslint-disable @typescript-eslint/no-require-imports -- tslab's internals are loaded by path on purpose */
  const version = (require("tslab/package.json") as { version: string }).version;
  const converter = require("tslab/dist/converter") as Partial<TslabInternals>;
  const executor = require("tslab/dist/executor") as Partial<TslabInternals>;
  const jupyter = require("tslab/dist/jupyter") as Partial<TslabInternals>;
  const tsPath = require.resolve("@tslab/typescript-for-tslab", {
    paths: [require.resolve("tslab/package.json")],
  });
  const typescript = require(tsPath) as ShorthandParser;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const internals = {
    version,
    createConverter: converter.createConverter,
    createExecutor: executor.createExecutor,
    ZmqServer: jupyter.ZmqServer,
    JupyterHandlerImpl: jupyter.JupyterHandlerImpl,
    typescript,
  };
  checkTslabContract(internals);
  return internals as TslabInternals;
}

/** Throws naming what changed if tslab's internals are not the ones this module relies on. */
export function checkTslabContract(t: Partial<TslabInternals>): void {
  const problems: string[] = [];
  if (t.version !== TSLAB_VERSION) problems.push(`version is ${t.version}, not ${TSLAB_VERSION}`);
  if (typeof t.createConverter !== "function") problems.push("converter.createConverter missing");
  if (typeof t.createExecutor !== "function") problems.push("executor.createExecutor missing");
  if (typeof t.ZmqServer !== "function") problems.push("jupyter.ZmqServer missing");
  else {
    for (const m of ["handleExecute", "handleShellMessage", "init", "close", "publishStatus"]) {
      if (typeof (t.ZmqServer.prototype as Record<string, unknown>)[m] !== "function") {
        problems.push(`jupyter.ZmqServer.prototype.${m} missing`);
      }
    }
  }
  if (typeof t.JupyterHandlerImpl !== "function")
    problems.push("jupyter.JupyterHandlerImpl missing");
  else {
    for (const m of ["handleExecute", "handleExecuteImpl", "handleKernel"]) {
      if (typeof (t.JupyterHandlerImpl.prototype as Record<string, unknown>)[m] !== "function") {
        problems.push(`jupyter.JupyterHandlerImpl.prototype.${m} missing`);
      }
    }
  }
  for (const f of ["createSourceFile", "forEachChild", "isShorthandPropertyAssignment"] as const) {
    if (typeof t.typescript?.[f] !== "function") problems.push(`typescript.${f} missing`);
  }
  if (problems.length > 0) {
    throw new Error(
      `execmem-lab kernel: tslab internals changed (${problems.join("; ")}); ` +
        `kernel/display.ts was written against tslab ${TSLAB_VERSION}`,
    );
  }
}

/**
 * kernel_info_reply content: tslab's, with the version of the TypeScript compiler that really
 * compiles the cells (tslab reports a fixed "3.7.2") and this kernel as the implementation.
 */
export function kernelInfo(tslab: KernelInfoReply): KernelInfoReply {
  /* eslint-disable @typescript-eslint/no-require-imports -- the compiler tslab itself loads */
  const tsVersion = (
    require(
      require.resolve("@tslab/typescript-for-tslab", { paths: [require.resolve("tslab")] }),
    ) as {
      version: string;
    }
  ).version;
  const own = (require("../package.json") as { version: string }).version;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    ...tslab,
    implementation: "execmem-lab",
    implementation_version: own,
    language_info: { ...tslab.language_info, version: tsVersion },
    banner: `execmem-lab ${own}: TypeScript ${tsVersion} (tslab ${TSLAB_VERSION}), Node.js ${process.versions.node}`,
  };
}

/** One execute_request: where its outputs go and what it left for the reply. */
export interface Execution {
  writeStream: (name: string, text: string) => void;
  writeDisplayData: WriteDisplayData;
  printedErrors: unknown[][];
  result: MimeBundle | null;
}

/** The execution whose code (or async work started by it) is running now. */
const executionContext = new AsyncLocalStorage<Execution>();
/** The execution tslab's queue ran last: output from outside any execution context goes there. */
let lastStarted: Execution | null = null;

/** The execution output belongs to: the one whose async context this is, else the last started. */
export function currentExecution(): Execution | null {
  return executionContext.getStore() ?? lastStarted;
}

/** Run `fn` (an execution of `e`) so that everything it starts, sync or async, belongs to `e`. */
export function runAsExecution<T>(e: Execution, fn: () => T): T {
  lastStarted = e;
  return executionContext.run(e, fn);
}

/** An executor console that routes last-expression values and errors to the current execution. */
export function createExecutorConsole(state: () => Execution | null): ExecutorConsole {
  return {
    log(value?: unknown, ...rest: unknown[]) {
      if (rest.length === 0 && isQuiet(value)) return;
      const e = state();
      let bundle: MimeBundle | null = null;
      try {
        bundle = rest.length === 0 ? selfBundle(value) : null;
      } catch (err) {
        e?.printedErrors.push([err]);
        return;
      }
      if (bundle && e) e.result = bundle;
      else console.log(value, ...rest);
    },
    error(...args: unknown[]) {
      const e = state();
      if (e) e.printedErrors.push(args);
      else console.error(...args);
    },
  };
}

/**
 * Make process.stdout/stderr writes go to the current execution as `stream` outputs. tslab assigns
 * its own writers when it starts an execution (to the one starting, whatever is still running);
 * those assignments are ignored.
 */
function routeStdio(): void {
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream);
    const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
      const e = currentExecution();
      if (!e) return original(chunk as string, encoding as BufferEncoding, cb as () => void);
      const text =
        typeof chunk === "string"
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(
              typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
            );
      e.writeStream(name, text);
      if (typeof encoding === "function") (encoding as () => void)();
      else if (typeof cb === "function") (cb as () => void)();
      return true;
    };
    Object.defineProperty(stream, "write", {
      configurable: true,
      get: () => write,
      set: () => {},
    });
  }
}

export interface StartedKernel {
  server: TslabServer;
  executor: TslabExecutor;
  /** The process before any cell ran, as a reset restores it. */
  baseline: ProcessBaseline;
}

/**
 * Start tslab's TypeScript kernel in this process on the connection file `configPath`, with the
 * display hook installed. Mirrors tslab's own startKernel (dist/main.js) with our console and
 * our execute handling.
 */
export async function startKernel(configPath: string): Promise<StartedKernel> {
  const t = loadTslab();
  mark("tslab");
  installDisplayHook();
  installInterruptHook();
  let node: TslabConverter | undefined;
  let browser: TslabConverter | undefined;
  // Modules a notebook registers (`/** @module name */` cells, local .ts files it imports) stay in
  // tslab's converter and executor, which a reset cannot undo.
  let keepsModules = false;
  const interrupts = new EarlyInterrupts();
  const convs: ConverterSet = {
    get node() {
      if (!node) {
        node = watchModules(createCellConverter(t, false), () => {
          keepsModules = true;
        });
        mark("converter");
      }
      return node;
    },
    get browser() {
      keepsModules = true;
      return (browser ??= createCellConverter(t, true));
    },
    close() {
      node?.close();
      browser?.close();
    },
  };
  const executor = t.createExecutor(process.cwd(), convs, createExecutorConsole(currentExecution));
  const handler = new t.JupyterHandlerImpl(executor, false);
  if (
    typeof handler.execCount !== "number" ||
    typeof handler.execQueue?.reset !== "function" ||
    typeof executor.reset !== "function"
  )
    throw new Error(
      "execmem-lab kernel: tslab internals changed (JupyterHandlerImpl.execCount, execQueue.reset, executor.reset)",
    );
  const server = new t.ZmqServer(handler, configPath);
  const key = () => server.connInfo.key;
  routeStdio();
  const tslabKernelInfo = handler.handleKernel.bind(handler);
  handler.handleKernel = () => {
    mark("kernel_info");
    return kernelInfo(tslabKernelInfo());
  };

  // tslab queues handleExecuteImpl(req, writeStream, writeDisplayData); when the queue runs it,
  // that request's execution becomes the context of everything the cell starts.
  const executions = new WeakMap<WriteDisplayData, Execution>();
  const impl = handler as unknown as {
    handleExecuteImpl(req: unknown, ws: unknown, wdd: WriteDisplayData): Promise<unknown>;
  };
  const queued = impl.handleExecuteImpl.bind(handler);
  // Each request's record for interrupts that come before its code runs (kernel/interrupts.ts).
  const earlyCells = new WeakMap<WriteDisplayData, EarlyCell>();
  impl.handleExecuteImpl = (req, ws, wdd) => {
    const e = executions.get(wdd);
    const early = earlyCells.get(wdd);
    if (early) interrupts.start(early);
    // A cell an interrupt stopped before it ran runs code that says so instead of its own.
    const code = early?.stop ? { ...(req as object), code: INTERRUPTED_BEFORE_IT_RAN } : req;
    const done = e ? runAsExecution(e, () => queued(code, ws, wdd)) : queued(code, ws, wdd);
    return early ? done.finally(() => interrupts.end(early)) : done;
  };

  // Replaces ZmqServer.prototype.handleExecute (same messages, plus `error` and execute_result).
  (server as unknown as { handleExecute: unknown }).handleExecute = async (
    sock: unknown,
    msg: ZmqMessageLike,
  ) => {
    const send = (type: string, content: unknown, target: unknown = server.iopub) => {
      const r = msg.createReply();
      r.header.msg_type = type;
      r.content = content;
      r.signAndSend(key(), target);
    };
    const writeStream = (name: string, text: string) => send("stream", { name, text });
    const writeDisplayData: WriteDisplayData = (data, update) =>
      send(update ? "update_display_data" : "display_data", data);
    clearTimeout(warmTimer);
    mark("execute");
    earlyCells.set(writeDisplayData, interrupts.read(headerDate(msg.header?.date), Date.now()));
    const execution: Execution = { writeStream, writeDisplayData, printedErrors: [], result: null };
    executions.set(writeDisplayData, execution);
    const content = await handler.handleExecute(msg.content, writeStream, writeDisplayData);
    const printed = execution.printedErrors;
    execution.printedErrors = [];
    if (content.status === "error") {
      const err = toCellError(printed) ?? {
        ename: "Error",
        evalue: "cell failed",
        traceback: ["cell failed"],
      };
      send("error", err);
      Object.assign(content, err);
    } else if (printed.length > 0) {
      // e.g. diagnostics of a `//@module` cell, which tslab registers anyway: keep them visible.
      for (const args of printed) writeStream("stderr", formatPrinted(args) + "\n");
    }
    if (content.status === "ok" && execution.result && !msg.content.silent) {
      send("execute_result", {
        execution_count: content.execution_count,
        data: execution.result,
        metadata: {},
      });
    }
    execution.result = null;
    send("execute_reply", content, sock);
    mark("reply");
    setTimeout(flush, 300).unref();
  };

  process.on("SIGINT", () => {
    interrupts.signal(Date.now());
    abortRunningWork();
    executor.interrupt();
  });
  // Shutdown and restart: stop the workers and timers cells left running, then exit (they would
  // keep the process, and the CPU, busy until Jupyter kills it seconds later).
  const close = server.close.bind(server);
  server.close = () => {
    abortRunningWork();
    close();
    setTimeout(() => process.exit(0), 100);
  };
  process.on("uncaughtException", (err) => console.error("UncaughtException:", err));
  process.on("unhandledRejection", (reason) => {
    // Work stopped by an interrupt was reported by the interrupted cell already.
    if (reason instanceof InterruptedError || (reason as Error | null)?.name === "InterruptedError")
      return;
    console.error("UnhandledPromiseRejection:", reason);
  });
  // Bind the sockets first (the ports were chosen by whoever launched us and are only free until
  // someone else takes them). The converter (most of a second of CPU without the startup
  // snapshot) is made by the first cell, or once the kernel has been idle a moment (below), so a
  // kernel answers kernel_info as soon as its ports are bound: the runner takes one that does not
  // for a start that will not finish (kernel/runner/client.ts).
  await server.init();
  mark("bound");

  // Reset between notebooks (the runner's RESET_REQUEST on the control channel): tslab's
  // variables and declarations, the execution count, this module's routing state and what
  // kernel/reset.ts undoes; or say why not, and the runner starts a new kernel.
  const baseline = takeBaseline();
  // Once the kernel has been idle a moment, have the converter read the library's declarations,
  // which nearly every first cell imports; a cell that comes first (Run All, the runner) does
  // that work itself, and doing it twice would only delay it.
  warmTimer = setTimeout(() => {
    warmConverter(convs.node);
    interrupts.busy(Date.now());
  }, WARM_AFTER_MS);
  warmTimer.unref();
  const reset = async (): Promise<{ status: string; evalue?: string }> => {
    abortRunningWork();
    // After a failed cell tslab aborts requests for 200 ms (stop on error): not the next notebook's.
    handler.execQueue.reset();
    if (keepsModules) return { status: "error", evalue: "the notebook registered modules" };
    let why = resetBlocker(baseline);
    // Work a cell's last output started (a throttled progress update) may end just after it.
    for (let i = 0; why && i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      why = resetBlocker(baseline);
    }
    if (why) return { status: "error", evalue: why };
    executor.reset();
    resetProcess(baseline);
    handler.execCount = 0;
    lastStarted = null;
    currentWriter = null;
    return { status: "ok" };
  };
  const shellMessage = server.handleShellMessage.bind(server);
  server.handleShellMessage = async (sock, ...frames) => {
    const req = customRequest(frames, key(), RESET_REQUEST);
    if (!req) return shellMessage(sock, ...frames);
    await (sock as { send(f: (Buffer | string)[]): Promise<void> }).send(
      customReply(req, key(), RESET_REPLY, await reset()),
    );
  };
  return { server, executor, baseline };
}

/** tslab's converter, with shorthand properties written out (kernel/shorthand.ts). */
export function createCellConverter(t: TslabInternals, isBrowser: boolean): TslabConverter {
  const conv = t.createConverter({ isJS: false, isBrowser });
  conv.convert = convertExpanded(t.typescript, conv.convert.bind(conv) as TslabConvert);
  return conv;
}
type TslabConvert = (prevDecl: string, src: string) => { diagnostics?: unknown[] } | undefined;

/** Note when a converter compiles a module that stays registered (see startKernel). */
function watchModules(conv: TslabConverter, registered: () => void): TslabConverter {
  const convert = conv.convert.bind(conv);
  const addModule = conv.addModule.bind(conv);
  conv.convert = (prevDecl, src) => {
    mark("compile");
    const r = convert(prevDecl, src) as { sideOutputs?: unknown[] } | undefined;
    mark("compiled");
    if (r?.sideOutputs?.length) registered();
    return r;
  };
  conv.addModule = (...args) => {
    registered();
    return addModule(...args);
  };
  return conv;
}

const DELIM = "<IDS|MSG>";

interface CustomRequest {
  ids: Buffer[];
  header: { session?: string; username?: string; [k: string]: unknown };
}

/** A signed wire-protocol message of type `msgType` among `frames`, or null (not one of ours). */
function customRequest(frames: Buffer[], key: string, msgType: string): CustomRequest | null {
  const i = frames.findIndex((f) => f.toString("utf8") === DELIM);
  if (i < 0 || frames.length < i + 6) return null;
  const [sig, ...parts] = frames.slice(i + 1, i + 6).map((f) => f.toString("utf8"));
  let header: CustomRequest["header"];
  try {
    header = JSON.parse(parts[0]) as CustomRequest["header"];
  } catch {
    return null;
  }
  if (header.msg_type !== msgType || sign(key, parts) !== sig) return null;
  return { ids: frames.slice(0, i), header };
}

function sign(key: string, parts: string[]): string {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** The frames of the reply to `req`. */
function customReply(
  req: CustomRequest,
  key: string,
  msgType: string,
  content: unknown,
): (Buffer | string)[] {
  const header = {
    msg_id: randomUUID(),
    msg_type: msgType,
    session: req.header.session ?? "",
    username: req.header.username ?? "",
    date: new Date().toISOString(),
    version: "5.3",
  };
  const parts = [header, req.header, {}, content].map((x) => JSON.stringify(x));
  return [...req.ids, DELIM, sign(key, parts), ...parts];
}

/** How long a new kernel waits for a first cell before it warms its converter, ms. */
const WARM_AFTER_MS = 500;
let warmTimer: NodeJS.Timeout | undefined;

/**
 * Compile (not run) `import "execmem-lab"` once, so the declarations of the library are parsed
 * before the first cell. Its diagnostics, if the library cannot be found from here, are dropped:
 * the cell that imports it reports them.
 */
function warmConverter(conv: TslabConverter): void {
  try {
    conv.convert("", 'import "execmem-lab";\n');
  } catch {
    // a cell will meet the same problem and report it
  }
}

function formatPrinted(args: unknown[]): string {
  if (args[0] === DIAGNOSTIC_FORMAT) {
    const [, file, line, col, text] = args;
    return `${file ? String(file) : ""}${line}:${col} - ${text}`;
  }
  return args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" ");
}
