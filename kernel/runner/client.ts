/**
 * A minimal Jupyter client: launches the execmem-lab kernel as a child process and talks the
 * Jupyter wire protocol (v5.3) to it over zeromq. No Python or Jupyter needed.
 */
import { spawn, type ChildProcess } from "child_process";
import { createHmac, randomBytes, randomUUID } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { connect as tcpConnect, createServer } from "net";
import { tmpdir } from "os";
import { getHeapStatistics } from "v8";
import { join, resolve } from "path";
import * as zmq from "zeromq";
import { RESET_REPLY, RESET_REQUEST } from "../reset";
import { KERNEL_DIST } from "../files";
import { kernelSnapshotArgs, snapshotTunables } from "../snapshot";

/** The launcher the kernelspec names (compiled kernel/launch.ts). */
export const LAUNCHER = resolve(__dirname, "..", "launch.js");

const DELIM = Buffer.from("<IDS|MSG>");

export interface Header {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface Message {
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** Ports handed to kernels by this process (never handed out twice). */
const reserved = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

/**
 * A free port for a kernel to bind. Chosen at random below Linux's ephemeral range
 * (32768-60999), so outgoing connections (ours included) cannot take it before the kernel binds
 * it; ports already given to another kernel of this process are skipped.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (reserved.has(port)) continue;
    reserved.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error("no free TCP port found for the kernel in 20000-31999");
}

/**
 * The connection of a new kernel: five free ports on 127.0.0.1 (some of them given in `ports`)
 * and a fresh key.
 */
export async function newConnection(
  ports: Partial<
    Pick<ConnectionInfo, `${"shell" | "iopub" | "stdin" | "control" | "hb"}_port`>
  > = {},
): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = await Promise.all(
    [1, 2, 3, 4, 5].map(() => freePort()),
  );
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    ...ports,
    key: randomBytes(16).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: "execmem-lab",
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function listening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

export class KernelDiedError extends Error {
  constructor(
    message: string,
    readonly log: string,
    readonly outOfMemory = false,
    /**
     * The process is alive but never answered, or what it publishes never reaches us: a start
     * that will not finish.
     */
    readonly stuck = false,
  ) {
    super(message);
    this.name = "KernelDiedError";
  }
}

export class CellTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`cell timed out after ${seconds} s`);
    this.name = "CellTimeoutError";
  }
}

/** The iopub messages and reply of one execute_request. */
export interface Execution {
  /** msg_id of the execute_request (the parent_header.msg_id of its outputs). */
  msgId: string;
  reply: Record<string, unknown>;
  /** iopub messages whose parent is this request, in order (status messages left out). */
  messages: Message[];
}

export interface StartOptions {
  /** Working directory of the kernel (the notebook's directory). */
  cwd: string;
  /** How long to wait for the kernel to answer kernel_info, in ms. */
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * The launcher script (default {@link LAUNCHER}). The built launcher, the one the startup
   * snapshot runs, starts from the snapshot; any other starts without it.
   */
  launcher?: string;
  /** V8 heap limit of the kernel process, MB (--max-old-space-size); default node's. */
  heapMb?: number;
  /**
   * A kernel that has not answered kernel_info this long after it started (ms, default 15 s; a
   * kernel answers within a second or two), or that answers on shell but whose iopub messages
   * have not reached us by then, is killed and started again.
   */
  silentMs?: number;
}

/** The kernel's heap limit in MB: the one given, else node's default on this machine. */
export function kernelHeapLimitMb(heapMb?: number): number {
  return heapMb ?? Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}

/**
 * The node arguments before `kernel --config-file FILE` that start a kernel: from its startup
 * snapshot (kernel/snapshot.ts) when there is one for this launcher and V8 configuration, else
 * the launcher script. The snapshot runs the built launcher, so naming that one (or none) starts
 * from it; another launcher, or a heap limit (a V8 flag the snapshot was not built with), does not.
 */
export function kernelNodeArgs(
  opts: Pick<StartOptions, "launcher" | "heapMb">,
  env: NodeJS.ProcessEnv,
): string[] {
  const heap = opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [];
  const builtLauncher =
    opts.launcher === undefined || resolve(opts.launcher) === join(KERNEL_DIST, "launch.js");
  const snapshot = builtLauncher && !opts.heapMb ? kernelSnapshotArgs(env) : null;
  return [...heap, ...(snapshot ?? [opts.launcher ?? LAUNCHER])];
}

const RECONNECT_MS = 20;
/**
 * How long the handshake waits for a kernel_info's status on iopub before asking again: it
 * comes at once when the subscription is through, and a new request costs the kernel little.
 */
const IOPUB_WAIT_MS = 5;

export class KernelClient {
  private readonly session = randomUUID();
  // The sockets connect before a started kernel has bound its ports and retry every
  // reconnectInterval ms (zmq's default 100 ms would idle up to that long after the bind).
  private readonly shell = new zmq.Dealer({ reconnectInterval: RECONNECT_MS });
  private readonly control = new zmq.Dealer({ reconnectInterval: RECONNECT_MS });
  private readonly iopub = new zmq.Subscriber({ reconnectInterval: RECONNECT_MS });
  private readonly waiters = new Map<string, (m: Message) => void>();
  private readonly iopubListeners = new Set<(m: Message) => void>();
  private exited: { code: number | null; signal: string | null } | null = null;
  private exitListeners = new Set<() => void>();
  private log = "";
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly conn: ConnectionInfo,
    private readonly tmp: string,
    private readonly heapLimitMb: number,
  ) {
    for (const s of [child.stdout, child.stderr]) {
      s?.setEncoding("utf8");
      s?.on("data", (d: string) => {
        this.log = (this.log + d).slice(-20_000);
      });
    }
    // "close", not "exit": by then the process's stderr has been read to the end.
    child.on("close", (code, signal) => {
      this.exited = { code, signal };
      for (const l of this.exitListeners) l();
    });
  }

  /**
   * Launch a kernel and wait until it answers on shell and iopub. If another process took one
   * of its ports first (EADDRINUSE), or the process never answered or its iopub never reached
   * us (see {@link StartOptions.silentMs}), try again with new ports (3 attempts).
   */
  static async start(opts: StartOptions): Promise<KernelClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await KernelClient.startOnce(opts);
      } catch (e) {
        const again =
          e instanceof KernelDiedError &&
          (e.stuck || /EADDRINUSE|Address already in use/.test(e.log));
        if (!again || attempt >= 3) throw e;
      }
    }
  }

  private static async startOnce(opts: StartOptions): Promise<KernelClient> {
    const conn = await newConnection();
    const tmp = mkdtempSync(join(tmpdir(), "execmem-lab-kernel-"));
    const connFile = join(tmp, "connection.json");
    writeFileSync(connFile, JSON.stringify(conn));
    const env = opts.env ?? process.env;
    const args = kernelNodeArgs(opts, env);
    const child = spawn(process.execPath, [...args, "kernel", "--config-file", connFile], {
      cwd: opts.cwd,
      env: {
        ...env,
        ...(args.includes("--snapshot-blob") && { GLIBC_TUNABLES: snapshotTunables(env) }),
        // The kernel exits when this process is gone (see kernel/launch.ts).
        JPY_PARENT_PID: String(process.pid),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const client = new KernelClient(child, conn, tmp, kernelHeapLimitMb(opts.heapMb));
    track(client);
    try {
      await client.connect(opts.startTimeoutMs ?? 60_000, opts.silentMs ?? 15_000);
    } catch (e) {
      client.kill();
      throw e;
    }
    return client;
  }

  /** What the kernel process printed on its own stdout/stderr (last 20 kB). */
  get processLog(): string {
    return this.log;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private addr(port: number): string {
    return `tcp://${this.conn.ip}:${port}`;
  }

  private async connect(timeoutMs: number, silentMs: number): Promise<void> {
    const started = Date.now();
    this.shell.connect(this.addr(this.conn.shell_port));
    this.control.connect(this.addr(this.conn.control_port));
    this.iopub.connect(this.addr(this.conn.iopub_port));
    this.iopub.subscribe();
    void this.pump(this.shell, (m) => this.waiters.get(m.parent_header.msg_id ?? "")?.(m));
    void this.pump(this.control, (m) => this.waiters.get(m.parent_header.msg_id ?? "")?.(m));
    void this.pump(this.iopub, (m) => {
      for (const l of this.iopubListeners) l(m);
    });
    // Ask kernel_info until the kernel answers and its iopub reaches us (the SUB socket only
    // receives once its subscription has propagated: the slow-joiner problem). The status a
    // kernel publishes for any of these requests says the subscription is through.
    const deadline = Date.now() + timeoutMs;
    const asked = new Set<string>();
    let replies = 0;
    let subscribed!: () => void;
    const through = new Promise<true>((r) => (subscribed = () => r(true)));
    const off = this.onIopub((m) => {
      if (asked.has(m.parent_header.msg_id ?? "")) subscribed();
    });
    try {
      for (;;) {
        const msg = this.message("kernel_info_request", {});
        asked.add(msg.header.msg_id);
        try {
          await this.request(this.shell, msg, 1000);
          replies++;
          // Once subscribed, the reply's status follows at once; if it does not come, ask again
          // (the SUB socket reconnects every RECONNECT_MS until the kernel has bound its port).
          if (await Promise.race([through, sleep(IOPUB_WAIT_MS).then(() => false)])) return;
        } catch (e) {
          if (e instanceof KernelDiedError) throw e;
          if (!(e instanceof RequestTimeout)) throw e;
        }
        if (Date.now() > deadline) {
          throw new KernelDiedError(
            `kernel did not answer within ${Math.round(timeoutMs / 1000)} s ` +
              `(${replies} of ${asked.size} kernel_info requests answered, none seen on iopub)`,
            this.log,
          );
        }
        // It answers, but what it publishes never reaches us (its iopub port is not its own, say).
        if (replies > 0 && Date.now() - started > silentMs && !this.exited) {
          throw new KernelDiedError(
            `kernel answered but its iopub messages did not arrive within ${silentMs / 1000} s`,
            this.log,
            false,
            true,
          );
        }
        // Not a word from it: it never bound its ports, or its shell port takes connections but
        // it does not answer (both seen under heavy load, about one start in a hundred).
        if (replies === 0 && Date.now() - started > silentMs && !this.exited) {
          const bound = await listening(this.conn.shell_port);
          throw new KernelDiedError(
            bound
              ? `kernel process bound its ports but did not answer within ${silentMs / 1000} s`
              : `kernel process did not bind its ports within ${silentMs / 1000} s`,
            this.log,
            false,
            true,
          );
        }
      }
    } finally {
      off();
    }
  }

  private async pump(sock: zmq.Dealer | zmq.Subscriber, on: (m: Message) => void): Promise<void> {
    try {
      for await (const frames of sock) {
        const m = this.parse(frames);
        if (m) on(m);
      }
    } catch {
      // socket closed
    }
  }

  private sign(parts: string[]): string {
    const h = createHmac("sha256", this.conn.key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  private parse(frames: Buffer[]): Message | null {
    const i = frames.findIndex((f) => f.equals(DELIM));
    if (i < 0 || frames.length < i + 6) return null;
    const parts = frames.slice(i + 2, i + 6).map((f) => f.toString("utf8"));
    if (this.sign(parts) !== frames[i + 1].toString("utf8")) return null;
    return {
      header: JSON.parse(parts[0]) as Header,
      parent_header: JSON.parse(parts[1]) as Partial<Header>,
      metadata: JSON.parse(parts[2]) as Record<string, unknown>,
      content: JSON.parse(parts[3]) as Record<string, unknown>,
    };
  }

  private message(msg_type: string, content: Record<string, unknown>): Message {
    return {
      header: {
        msg_id: randomUUID(),
        msg_type,
        session: this.session,
        username: "execmem-lab",
        date: new Date().toISOString(),
        version: "5.3",
      },
      parent_header: {},
      metadata: {},
      content,
    };
  }

  private async send(sock: zmq.Dealer, m: Message): Promise<void> {
    const parts = [m.header, m.parent_header, m.metadata, m.content].map((x) => JSON.stringify(x));
    await sock.send([DELIM, this.sign(parts), ...parts]);
  }

  onIopub(l: (m: Message) => void): () => void {
    this.iopubListeners.add(l);
    return () => this.iopubListeners.delete(l);
  }

  private onExit(l: () => void): () => void {
    this.exitListeners.add(l);
    return () => this.exitListeners.delete(l);
  }

  private diedError(): KernelDiedError {
    const e = this.exited;
    // V8 prints this and aborts when the heap is full: say so in one line, not native frames.
    if (/JavaScript heap out of memory|Reached heap limit/.test(this.log))
      return new KernelDiedError(
        `the kernel ran out of memory (limit ${this.heapLimitMb} MB of heap; raise it with --kernel-memory MB)`,
        this.log,
        true,
      );
    const how = e?.signal ? `signal ${e.signal}` : `exit code ${e?.code}`;
    // The error lines say why; if there are none, the last lines.
    const lines = this.log.trim().split("\n");
    const errors = lines.filter((l) => /\b\w*Error\b|EADDRINUSE/.test(l)).slice(0, 3);
    const tail = (errors.length ? errors : lines.slice(-5)).join("\n");
    return new KernelDiedError(`kernel process died (${how})${tail ? `:\n${tail}` : ""}`, this.log);
  }

  private request(sock: zmq.Dealer, m: Message, timeoutMs: number): Promise<Message> {
    return new Promise<Message>((res, rej) => {
      if (this.exited) return rej(this.diedError());
      const id = m.header.msg_id;
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(id);
        offExit();
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new RequestTimeout());
      }, timeoutMs);
      const offExit = this.onExit(() => {
        cleanup();
        rej(this.diedError());
      });
      this.waiters.set(id, (reply) => {
        cleanup();
        res(reply);
      });
      this.send(sock, m).catch((e: unknown) => {
        cleanup();
        rej(e);
      });
    });
  }

  /** Send a shell request (kernel_info_request, inspect_request, ...) and return the reply. */
  async shellRequest(
    msg_type: string,
    content: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<Message> {
    return this.request(this.shell, this.message(msg_type, content), timeoutMs);
  }

  /**
   * Execute `code`; resolves when both the execute_reply and the iopub `idle` status for this
   * request arrived. `onMessage` sees each iopub message as it arrives.
   */
  async execute(
    code: string,
    opts: {
      timeoutMs: number;
      onMessage?: (m: Message) => void;
      /** The date in the request's header (default: now), as when the request was made earlier. */
      sentAt?: Date;
    },
  ): Promise<Execution> {
    const req = this.message("execute_request", {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    if (opts.sentAt !== undefined) {
      if (!(opts.sentAt instanceof Date) || Number.isNaN(opts.sentAt.getTime()))
        throw new TypeError(`execute: sentAt must be a valid Date, not ${String(opts.sentAt)}`);
      req.header.date = opts.sentAt.toISOString();
    }
    const messages: Message[] = [];
    let idle!: () => void;
    const idleSeen = new Promise<void>((r) => (idle = r));
    const off = this.onIopub((m) => {
      if (m.parent_header.msg_id !== req.header.msg_id) {
        // Outputs of async work started by an earlier cell, and display updates, still matter.
        if (m.header.msg_type === "update_display_data") {
          messages.push(m);
          opts.onMessage?.(m);
        }
        return;
      }
      if (m.header.msg_type === "status") {
        if (m.content.execution_state === "idle") idle();
        return;
      }
      messages.push(m);
      opts.onMessage?.(m);
    });
    try {
      const work = (async () => {
        const reply = await this.request(this.shell, req, 2 ** 31 - 1);
        await idleSeen;
        return reply;
      })();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new CellTimeoutError(opts.timeoutMs / 1000)), opts.timeoutMs);
      });
      try {
        const reply = await Promise.race([work, timeout]);
        return { msgId: req.header.msg_id, reply: reply.content, messages };
      } finally {
        clearTimeout(timer);
        work.catch(() => {});
      }
    } finally {
      off();
    }
  }

  /**
   * Ask the kernel to reset itself for another notebook (kernel/reset.ts): variables, globals,
   * loaded modules, environment, execution count. Resolves to null once it has, or to the reason
   * it cannot (work a cell started still runs, a changed built-in, ...): then shut it down.
   */
  async reset(timeoutMs = 5000): Promise<string | null> {
    if (this.closed || this.exited) return "the kernel is gone";
    try {
      const r = await this.request(this.control, this.message(RESET_REQUEST, {}), timeoutMs);
      if (r.header.msg_type !== RESET_REPLY) return `unexpected ${r.header.msg_type}`;
      return r.content.status === "ok" ? null : String(r.content.evalue ?? "refused");
    } catch (e) {
      return e instanceof RequestTimeout ? "no reply" : (e as Error).message;
    }
  }

  /** Ask the kernel to shut down; kill it if it has not exited after `graceMs`. */
  async shutdown(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    if (!this.exited) {
      const exited = new Promise<void>((r) => {
        if (this.exited) r();
        else this.onExit(r);
      });
      try {
        await this.request(
          this.control,
          this.message("shutdown_request", { restart: false }),
          graceMs,
        );
      } catch {
        // fall through to kill
      }
      await Promise.race([exited, sleep(graceMs)]);
    }
    this.kill();
  }

  /** Kill the kernel process and close the sockets. */
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
    live.delete(this);
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub]) {
      s.linger = 0;
      s.close();
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

class RequestTimeout extends Error {}

/** Kernels started by this process; killed if it exits first (Ctrl-C, crash). */
const live = new Set<KernelClient>();
let exitHookInstalled = false;
function track(c: KernelClient): void {
  live.add(c);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const k of live) k.kill();
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
