/**
 * The entry of the kernel's V8 startup snapshot (`node --build-snapshot`, see kernel/snapshot.ts).
 *
 * Building: loads the TypeScript compiler tslab uses, creates tslab's converter in the kernel
 * package's folder exactly as a kernel does and compiles `import "execmem-lab"`, then keeps the
 * compiler and the declaration files that program parsed and bound (lib.es2022, @types, the
 * library's .d.ts). A snapshot builder may only require Node's built-in modules, so the few
 * JavaScript files this needs are loaded by {@link loadModule} below.
 *
 * Starting from the snapshot (`node --snapshot-blob BLOB kernel --config-file FILE`): the
 * compiler is handed to tslab through require's cache, and every program tslab creates gets a
 * kept declaration file instead of parsing it again, if the file on disk still has the same text
 * (otherwise it is parsed as usual). Then kernel/launch.ts runs as it would without a snapshot.
 */
import { existsSync, readFileSync, statSync } from "fs";
import { dirname, join, resolve } from "path";
import { startupSnapshot } from "v8";
import { compileFunction } from "vm";

/** The parts of a TypeScript SourceFile and compiler host used here. */
export interface SourceFileLike {
  text: string;
  fileName: string;
  path: string;
  isDeclarationFile: boolean;
  languageVersion: number;
  impliedNodeFormat?: number;
}
type CreateOptions = number | { languageVersion: number; impliedNodeFormat?: number };
interface CompilerHostLike {
  readFile(fileName: string): string | undefined;
  toPath(fileName: string): string;
  getSourceFile(fileName: string, opts: CreateOptions, onError?: unknown, fresh?: boolean): unknown;
  getSourceFileByPath(
    fileName: string,
    path: string,
    opts: CreateOptions,
    onError?: unknown,
    fresh?: boolean,
  ): unknown;
}
type CreateProgram = (
  roots: string[],
  options: unknown,
  host: CompilerHostLike,
  ...rest: unknown[]
) => unknown;
interface WatchHostLike {
  createProgram: CreateProgram;
}
export type TypeScript = { [name: string]: unknown } & {
  createWatchCompilerHost(...args: unknown[]): WatchHostLike;
  createWatchProgram(host: WatchHostLike): {
    getProgram(): { getProgram(): { getSourceFiles(): SourceFileLike[] } };
  };
};

interface LoadedModule {
  exports: unknown;
}

const loaded = new Map<string, LoadedModule>();

function asFile(p: string): string | null {
  for (const c of [p, `${p}.js`, `${p}.json`, join(p, "index.js")]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/** Node's resolution of `id` from `dir`, for packages with a "main" (all this needs). */
function resolveFrom(dir: string, id: string): string {
  if (id.startsWith(".") || id.startsWith("/")) {
    const f = asFile(resolve(dir, id));
    if (f) return f;
  } else {
    const bare = id.startsWith("@") ? id.split("/").slice(0, 2).join("/") : id.split("/")[0];
    for (let d = dir; ; d = dirname(d)) {
      const pkg = join(d, "node_modules", bare);
      if (existsSync(pkg)) {
        if (id === bare && existsSync(join(pkg, "package.json"))) {
          const main = (
            JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { main?: string }
          ).main;
          const f = asFile(join(pkg, main ?? "index.js"));
          if (f) return f;
        }
        const f = asFile(join(d, "node_modules", id));
        if (f) return f;
      }
      if (d === dirname(d)) break;
    }
  }
  throw new Error(`kernel snapshot: cannot resolve ${id} from ${dir}`);
}

/** A CommonJS loader for plain JavaScript files (a snapshot builder's require has built-ins only). */
function loadModule(file: string): unknown {
  const done = loaded.get(file);
  if (done) return done.exports;
  const m: LoadedModule = { exports: {} };
  loaded.set(file, m);
  if (file.endsWith(".json")) {
    m.exports = JSON.parse(readFileSync(file, "utf8"));
    return m.exports;
  }
  const wrapper = compileFunction(
    readFileSync(file, "utf8"),
    ["exports", "require", "module", "__filename", "__dirname"],
    { filename: file },
  ) as (e: unknown, r: (id: string) => unknown, m: LoadedModule, f: string, d: string) => void;
  const req = (id: string): unknown => {
    if (!id.startsWith(".") && !id.startsWith("/")) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built-in module, by name
        return require(id);
      } catch {
        // a package: load it ourselves
      }
    }
    return loadModule(resolveFrom(dirname(file), id));
  };
  wrapper.call(m.exports, m.exports, req, m, file, dirname(file));
  return m.exports;
}

/** A file's size and time of change, as kept files are compared by; undefined if it is gone. */
export function statKey(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.size} ${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * `ts` with createWatchCompilerHost wrapped: the programs of the watch hosts it makes take a kept
 * declaration file where the file on disk has the same text. tslab's own files (the program's
 * roots: the cell and the previous cells' declarations) are always read afresh. `stats` (by
 * path: size and time of change when the file was kept) spare reading a file that still has them.
 */
export function withKeptFiles(
  ts: TypeScript,
  kept: Map<string, SourceFileLike>,
  stats: Map<string, string> = new Map(),
): TypeScript {
  const shim: TypeScript = Object.create(null) as TypeScript;
  for (const name of Object.keys(ts)) {
    Object.defineProperty(shim, name, {
      get: () => ts[name],
      enumerable: true,
      configurable: true,
    });
  }
  const checked = new Map<string, string>(stats);
  const createWatchCompilerHost = (...args: unknown[]): WatchHostLike => {
    const host = ts.createWatchCompilerHost(...args);
    const createProgram = host.createProgram;
    const patched = new WeakSet<CompilerHostLike>();
    host.createProgram = (roots, options, h, ...rest) => {
      if (h && !patched.has(h)) {
        patched.add(h);
        const own = new Set(roots.map((f) => h.toPath(f)));
        const byPath = h.getSourceFileByPath.bind(h);
        h.getSourceFileByPath = (fileName, path, opts, onError, fresh) => {
          const f = fresh || own.has(path) ? undefined : kept.get(path);
          const version = typeof opts === "number" ? opts : opts.languageVersion;
          const format = typeof opts === "number" ? undefined : opts.impliedNodeFormat;
          if (f && f.languageVersion === version && f.impliedNodeFormat === format) {
            // Compared by text once; then by size and time of change, as the watch does.
            const stat = statKey(fileName);
            if (
              stat !== undefined &&
              (checked.get(path) === stat || h.readFile(fileName) === f.text)
            ) {
              checked.set(path, stat);
              return f;
            }
          }
          return byPath(fileName, path, opts, onError, fresh);
        };
        h.getSourceFile = (fileName, opts, onError, fresh) =>
          h.getSourceFileByPath(fileName, h.toPath(fileName), opts, onError, fresh);
      }
      return createProgram(roots, options, h, ...rest);
    };
    return host;
  };
  Object.defineProperty(shim, "createWatchCompilerHost", {
    value: createWatchCompilerHost,
    enumerable: true,
    configurable: true,
  });
  return shim;
}

function build(): void {
  const tslabDir = dirname(resolveFrom(__dirname, "tslab/package.json"));
  const tsPath = resolveFrom(tslabDir, "@tslab/typescript-for-tslab");
  const ts = loadModule(tsPath) as TypeScript;
  // Capture the watch program tslab's converter creates, to read the files it parsed.
  let watch: ReturnType<TypeScript["createWatchProgram"]> | undefined;
  const capture = Object.create(null) as TypeScript;
  for (const name of Object.keys(ts)) {
    Object.defineProperty(capture, name, {
      get: () => ts[name],
      enumerable: true,
      configurable: true,
    });
  }
  Object.defineProperty(capture, "createWatchProgram", {
    value: (h: WatchHostLike) => (watch = ts.createWatchProgram(h)),
    enumerable: true,
  });
  (loaded.get(tsPath) as LoadedModule).exports = capture;
  const { createConverter } = loadModule(join(tslabDir, "dist", "converter.js")) as {
    createConverter(o: { isJS: boolean; isBrowser: boolean }): {
      convert(prev: string, src: string): unknown;
      close(): void;
    };
  };
  const conv = createConverter({ isJS: false, isBrowser: false });
  conv.convert("", 'import "execmem-lab";\n');
  const kept = new Map<string, SourceFileLike>();
  const stats = new Map<string, string>();
  const cwd = process.cwd();
  for (const f of watch?.getProgram().getProgram().getSourceFiles() ?? []) {
    if (f.isDeclarationFile && dirname(f.path) !== cwd) {
      kept.set(f.path, f);
      const stat = statKey(f.fileName);
      if (stat !== undefined) stats.set(f.path, stat);
    }
  }
  conv.close();
  watch = undefined;
  loaded.clear();
  const shim = withKeptFiles(ts, kept, stats);

  startupSnapshot.setDeserializeMainFunction(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node's module system, at run time
    const Module = require("module") as {
      new (id: string): LoadedModule & { filename: string; loaded: boolean; paths: string[] };
      _cache: { [file: string]: unknown };
      _nodeModulePaths(dir: string): string[];
      _resolveFilename(id: string, parent: unknown): string;
      createRequire(file: string): NodeJS.Require;
    };
    const req = Module.createRequire(__filename);
    let resolved = "";
    try {
      resolved = Module.createRequire(join(tslabDir, "package.json")).resolve(
        "@tslab/typescript-for-tslab",
      );
    } catch {
      // tslab is gone: launch.ts reports it
    }
    if (resolved === tsPath) {
      const m = new Module(tsPath);
      m.filename = tsPath;
      m.loaded = true;
      m.paths = Module._nodeModulePaths(dirname(tsPath));
      m.exports = shim;
      Module._cache[tsPath] = m;
    }
    (req("./launch") as { runLauncher(argv: string[]): void }).runLauncher(process.argv.slice(1));
  });
}

if (startupSnapshot.isBuildingSnapshot()) build();
