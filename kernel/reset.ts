/**
 * Resetting a kernel process between notebooks, so that the runner can run the next notebook in
 * the same process instead of starting a new kernel: a kernel's start costs more CPU than many
 * notebooks do.
 *
 * A reset undoes what a notebook can leave behind: its variables (tslab's executor state, done
 * by the caller), the globals it added or replaced, every module it loaded (the library
 * included: its module-level state starts afresh), process.env, the working directory and
 * process.exitCode. What cannot be undone makes the reset refuse, and the runner starts a new
 * kernel instead: work still running (timers, workers, sockets, child processes), listeners added
 * to `process`, and changed built-in prototypes.
 */
import { dirname, sep } from "path";

/** The process as the kernel left it once started, before any cell ran. */
export interface ProcessBaseline {
  /** Modules loaded by the kernel itself (require.cache keys), without the library's. */
  modules: Set<string>;
  globals: Map<PropertyKey, PropertyDescriptor>;
  env: { [name: string]: string | undefined };
  cwd: string;
  listeners: Map<string | symbol, number>;
  resources: Map<string, number>;
  prototypes: Map<object, Map<PropertyKey, PropertyDescriptor>>;
}

/**
 * Kinds of getActiveResourcesInfo() that belong to the kernel's compiler and sockets, not to a
 * cell: TypeScript's file watchers (a cell importing a module adds some) and file reads.
 */
const KERNEL_RESOURCES = new Set(["FSEventWrap", "StatWatcher", "FSReqCallback", "FSReqPromise"]);

/** Built-in prototypes and constructors whose properties a cell may change but a reset cannot restore. */
const BUILTINS: object[] = [
  Object,
  Object.prototype,
  Function.prototype,
  Array,
  Array.prototype,
  String.prototype,
  Number.prototype,
  Boolean.prototype,
  Symbol.prototype,
  BigInt.prototype,
  Promise,
  Promise.prototype,
  Map.prototype,
  Set.prototype,
  WeakMap.prototype,
  Error.prototype,
  RegExp.prototype,
  Date.prototype,
  JSON,
  Math,
  Reflect,
  Object.getPrototypeOf(Int8Array.prototype) as object,
  Object.getPrototypeOf(function* () {}.prototype) as object,
];

function descriptors(o: object): Map<PropertyKey, PropertyDescriptor> {
  const m = new Map<PropertyKey, PropertyDescriptor>();
  for (const k of Reflect.ownKeys(o)) {
    const d = Reflect.getOwnPropertyDescriptor(o, k);
    if (d) m.set(k, d);
  }
  return m;
}

function sameDescriptor(a: PropertyDescriptor | undefined, b: PropertyDescriptor): boolean {
  return (
    a !== undefined &&
    a.value === b.value &&
    a.get === b.get &&
    a.set === b.set &&
    a.writable === b.writable &&
    a.enumerable === b.enumerable &&
    a.configurable === b.configurable
  );
}

function activeResources(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (!KERNEL_RESOURCES.has(r)) m.set(r, (m.get(r) ?? 0) + 1);
  }
  return m;
}

function processListeners(): Map<string | symbol, number> {
  const m = new Map<string | symbol, number>();
  for (const e of process.eventNames()) m.set(e, process.listenerCount(e));
  return m;
}

/** The folder of the library ("execmem-lab"), whose modules a reset always forgets. */
function libraryDir(): string | null {
  try {
    return dirname(dirname(require.resolve("execmem-lab")));
  } catch {
    return null;
  }
}

/** Record the process as it is now: call once the kernel has started, before any cell. */
export function takeBaseline(): ProcessBaseline {
  const lib = libraryDir();
  const modules = new Set(
    Object.keys(require.cache).filter((f) => lib === null || !f.startsWith(lib + sep)),
  );
  return {
    modules,
    globals: descriptors(globalThis),
    env: { ...process.env },
    cwd: process.cwd(),
    listeners: processListeners(),
    resources: activeResources(),
    prototypes: new Map(BUILTINS.map((o) => [o, descriptors(o)])),
  };
}

/** Why the process cannot be reset to `b`, or null if it can. */
export function resetBlocker(b: ProcessBaseline): string | null {
  const now = activeResources();
  for (const [kind, n] of now) {
    const extra = n - (b.resources.get(kind) ?? 0);
    if (extra > 0) return `${extra} ${kind} still active (work a cell started is running)`;
  }
  const listeners = processListeners();
  for (const e of new Set([...listeners.keys(), ...b.listeners.keys()])) {
    if ((listeners.get(e) ?? 0) !== (b.listeners.get(e) ?? 0))
      return `process listeners for ${String(e)} changed`;
  }
  for (const [o, before] of b.prototypes) {
    const after = descriptors(o);
    if (after.size !== before.size) return "a built-in prototype was changed";
    for (const [k, d] of before)
      if (!sameDescriptor(after.get(k), d))
        return `a built-in prototype was changed (${String(k)})`;
  }
  return null;
}

/**
 * Undo what cells did to the process (see the module comment). Call only when
 * {@link resetBlocker} returned null; tslab's executor state is the caller's.
 */
export function resetProcess(b: ProcessBaseline): void {
  const g = globalThis as { [k: PropertyKey]: unknown };
  for (const k of Reflect.ownKeys(globalThis)) {
    if (!b.globals.has(k)) Reflect.deleteProperty(globalThis, k);
  }
  for (const [k, d] of b.globals) {
    if (!sameDescriptor(Reflect.getOwnPropertyDescriptor(globalThis, k), d)) {
      if (!Reflect.defineProperty(globalThis, k, d) && "value" in d) g[k] = d.value;
    }
  }
  for (const k of Object.keys(process.env)) if (!(k in b.env)) delete process.env[k];
  for (const [k, v] of Object.entries(b.env)) if (v !== undefined) process.env[k] = v;
  if (process.cwd() !== b.cwd) process.chdir(b.cwd);
  process.exitCode = undefined;
  for (const f of Object.keys(require.cache)) {
    if (!b.modules.has(f)) delete require.cache[f];
  }
}

/** The runner's control message asking a kernel to reset itself for the next notebook. */
export const RESET_REQUEST = "execmem_lab_reset_request";
/** Its reply: `{ status: "ok" }`, or `{ status: "error", evalue }` saying why the kernel cannot. */
export const RESET_REPLY = "execmem_lab_reset_reply";
