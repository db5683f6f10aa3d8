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
import { existsSync, readFileSync, realpathSync, statSync } from "fs";
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
    getProgram(): {
      getProgram(): {
        getSourceFiles(): SourceFileLike[];
        getCompilerOptions(): { typeRoots?: string[] };
        getAutomaticTypeDirectiveResolutions(): {
          forEach(f: (r: ResolutionLike, name: string) => void): void;
        };
      };
    };
  };
};

interface LoadedModule {
  exports: unknown;
}

const loaded = new Map<string, LoadedModule>();
/** Once the snapshot is started: Node's require, for what the modules loaded here require then. */
let runtimeRequire: ((from: string, id: string) => unknown) | null = null;

/** The file `p` names (as Node's require completes it), by its real path; null if none. */
function asFile(p: string): string | null {
  for (const c of [p, `${p}.js`, `${p}.json`, join(p, "index.js")]) {
    if (existsSync(c) && statSync(c).isFile()) return realpathSync(c);
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

/**
 * Built-in modules not to load while building: worker_threads keeps the count of working-folder
 * changes in a SharedArrayBuffer, which a snapshot cannot hold (a worker started later then fails
 * in process.cwd()).
 */
const LATE_BUILTINS = new Set(["worker_threads", "node:worker_threads"]);

/** A stand-in for built-in module `id` that loads it at its first use, in the started kernel. */
function lateBuiltin(file: string, id: string): unknown {
  const real = (): object => {
    if (!runtimeRequire) throw new Error(`kernel snapshot: ${id} used while building`);
    return runtimeRequire(file, id) as object;
  };
  return new Proxy(Object.create(null) as object, {
    get: (_, key) => Reflect.get(real(), key) as unknown,
    has: (_, key) => Reflect.has(real(), key),
  });
}

/** A CommonJS loader for plain JavaScript files (a snapshot builder's require has built-ins only). */
function loadModule(file: string, patch: (source: string) => string = (x) => x): unknown {
  const done = loaded.get(file);
  if (done) return done.exports;
  const m: LoadedModule = { exports: {} };
  loaded.set(file, m);
  if (file.endsWith(".json")) {
    m.exports = JSON.parse(readFileSync(file, "utf8"));
    return m.exports;
  }
  const wrapper = compileFunction(
    patch(readFileSync(file, "utf8")),
    ["exports", "require", "module", "__filename", "__dirname"],
    { filename: file },
  ) as (e: unknown, r: (id: string) => unknown, m: LoadedModule, f: string, d: string) => void;
  const req = (id: string): unknown => {
    if (runtimeRequire) return runtimeRequire(file, id);
    if (LATE_BUILTINS.has(id)) return lateBuiltin(file, id);
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
/** A file's text, or undefined if it cannot be read. */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function statKey(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.size} ${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Whether a node_modules/@typescript folder is in `dir` or above it. */
function typescriptPackages(dir: string, stat: (f: string) => string | undefined): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (stat(join(d, "node_modules", "@typescript")) !== undefined) return true;
    if (d === dirname(d)) return false;
  }
}

interface CompilerOptionsLike {
  types?: string[];
  typeRoots?: string[];
}
interface DirectoryHostLike {
  directoryExists?(dir: string): boolean;
  getDirectories?(dir: string): string[];
  fileExists(file: string): boolean;
  readFile(file: string): string | undefined;
}

/**
 * `options` naming the automatic types (each package in a type root, but those whose
 * package.json says `"typings": null`) as `types`, found as TypeScript's
 * getAutomaticTypeDirectiveNames does but with JSON.parse: its own parser, cold in a new kernel,
 * takes most of a tenth of a second over the ten package.json files of @types.
 */
function withAutomaticTypes(ts: TypeScript, options: CompilerOptionsLike, h: unknown): unknown {
  const host = h as DirectoryHostLike;
  if (options.types || !options.typeRoots || !host.directoryExists || !host.getDirectories)
    return options;
  const normalize = ts.normalizePath as (p: string) => string;
  const combine = ts.combinePaths as (...p: string[]) => string;
  const base = ts.getBaseFileName as (p: string) => string;
  const readJson = ts.readJson as (p: string, host: unknown) => { typings?: unknown };
  const types: string[] = [];
  for (const root of options.typeRoots) {
    if (!host.directoryExists(root)) continue;
    for (const dir of host.getDirectories(root)) {
      const normalized = normalize(dir);
      const packageJson = combine(root, normalized, "package.json");
      let typings: unknown;
      if (host.fileExists(packageJson)) {
        try {
          typings = (JSON.parse(host.readFile(packageJson) ?? "") as { typings?: unknown }).typings;
        } catch {
          typings = readJson(packageJson, host).typings;
        }
      }
      const name = base(normalized);
      if (typings !== null && !name.startsWith(".")) types.push(name);
    }
  }
  return { ...options, types };
}

/** A module or type reference resolution, as TypeScript keeps it on a source file. */
interface ResolutionLike {
  resolvedModule?: { resolvedFileName: string };
  resolvedTypeReferenceDirective?: { resolvedFileName?: string; primary?: boolean };
}
interface ResolutionsLike {
  get(name: string, mode: number | undefined): ResolutionLike | undefined;
}
type FileReferenceLike = string | { fileName: string; resolutionMode?: number };
type Resolver<R> = (
  names: R[],
  containingFile: string,
  redirected: unknown,
  options: unknown,
  containingSourceFile: SourceFileLike | undefined,
  ...rest: unknown[]
) => ResolutionLike[];

/** Where the snapshot's program found the automatic types (`@types/*`), for `typeRoots`. */
export interface AutomaticTypes {
  typeRoots: string;
  resolutions: Map<string, ResolutionLike>;
}

/**
 * A module object whose properties read those of `m` at each use, as CommonJS's `__importStar`
 * copies them, except those in `replaced`.
 */
export function forwarding(m: TypeScript, replaced: { [name: string]: unknown } = {}): TypeScript {
  const out = Object.create(null) as TypeScript;
  for (const name of Object.keys(m)) {
    Object.defineProperty(out, name, { get: () => m[name], enumerable: true, configurable: true });
  }
  for (const [name, value] of Object.entries(replaced)) {
    Object.defineProperty(out, name, { value, enumerable: true, configurable: true });
  }
  return out;
}

/**
 * `ts` with createWatchCompilerHost wrapped: the programs of the watch hosts it makes take a kept
 * declaration file where the file on disk has the same text. tslab's own files (the program's
 * roots: the cell and the previous cells' declarations) are always read afresh. `stats` (by
 * path: size and time of change when the file was kept) spare reading a file that still has them.
 *
 * Module and type references of a kept file are resolved as they were when it was kept while
 * every file they resolved to still has its size and time of change (then a resolution, which
 * probes the file system, cannot differ unless a file was added where none was); so are the
 * automatic types (`@types/*`) for the same type roots. Otherwise TypeScript resolves them.
 */
export function withKeptFiles(
  ts: TypeScript,
  kept: Map<string, SourceFileLike>,
  stats: Map<string, string> = new Map(),
  automatic?: AutomaticTypes,
): TypeScript {
  const checked = new Map<string, string>(stats);
  const modeOfUse = ts.getModeForUsageLocation as (f: unknown, name: unknown) => number | undefined;
  const modeOfRef = ts.getModeForFileReference as (
    ref: FileReferenceLike,
    format: number | undefined,
  ) => number | undefined;
  const lower = ts.toFileNameLowerCase as (name: string) => string;
  const inferred = ts.inferredTypesContainingFile as string;
  const createWatchCompilerHost = (...args: unknown[]): WatchHostLike => {
    const host = ts.createWatchCompilerHost(...args);
    const createProgram = host.createProgram;
    const patched = new WeakSet<CompilerHostLike>();
    // Size and time of change by file name, read again for a program made a second or more after
    // the last reading (the first cell makes three programs within a moment; a watch polls its
    // files every 0.25 to 2 s).
    let now = new Map<string, string | undefined>();
    let readAt = 0;
    const stat = (fileName: string): string | undefined => {
      if (!now.has(fileName)) now.set(fileName, statKey(fileName));
      return now.get(fileName);
    };
    host.createProgram = (roots, options, h, ...rest) => {
      if (Date.now() - readAt >= 1000) {
        now = new Map();
        readAt = Date.now();
      }
      if (h) options = withAutomaticTypes(ts, options as CompilerOptionsLike, h);
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
            const s = stat(fileName);
            if (s !== undefined && (checked.get(path) === s || h.readFile(fileName) === f.text)) {
              checked.set(path, s);
              return f;
            }
          }
          return byPath(fileName, path, opts, onError, fresh);
        };
        h.getSourceFile = (fileName, opts, onError, fresh) =>
          h.getSourceFileByPath(fileName, h.toPath(fileName), opts, onError, fresh);
        // A name that did not resolve (an ambient module such as "fs") is taken as it was.
        const same = (r: ResolutionLike | undefined): r is ResolutionLike => {
          if (!r) return false;
          const file =
            r.resolvedModule?.resolvedFileName ??
            r.resolvedTypeReferenceDirective?.resolvedFileName;
          return file === undefined || checked.get(h.toPath(file)) === stat(file);
        };
        /** The kept resolutions of `names` in `file`, if all of them still hold. */
        const keptResolutions = <R>(
          names: R[],
          file: SourceFileLike | undefined,
          of: ((f: SourceFileLike) => ResolutionsLike | undefined) | null,
          key: (name: R) => [string, number | undefined],
        ): ResolutionLike[] | undefined => {
          const table = file && kept.get(file.path) === file && of ? of(file) : undefined;
          if (!table) return undefined;
          const out = names.map((n) => table.get(...key(n)));
          return out.every(same) ? out : undefined;
        };
        const keptFile = (f: SourceFileLike) => kept.get(f.path) === f;
        // Each `/// <reference lib>` first looks for a package overriding that library
        // ("@typescript/lib-es2020") in node_modules above the current folder; where there is no
        // node_modules/@typescript at all, say at once that there is none.
        const cacheOf = (h as unknown as { getModuleResolutionCache?: () => unknown })
          .getModuleResolutionCache;
        const cache = cacheOf?.call(h) as
          | {
              getFromDirectoryCache?(name: string, mode: unknown, dir: string, r: unknown): unknown;
            }
          | undefined;
        const fromCache = cache?.getFromDirectoryCache?.bind(cache);
        if (cache && fromCache) {
          const noOverride = { resolvedModule: undefined, failedLookupLocations: [] };
          cache.getFromDirectoryCache = (name, mode, dir, redirected) =>
            fromCache(name, mode, dir, redirected) ??
            (name.startsWith("@typescript/lib-") && !redirected && !typescriptPackages(dir, stat)
              ? noOverride
              : undefined);
        }
        const modules = (h as unknown as { resolveModuleNameLiterals?: Resolver<unknown> })
          .resolveModuleNameLiterals;
        if (modules) {
          (
            h as unknown as { resolveModuleNameLiterals: Resolver<{ text: string }> }
          ).resolveModuleNameLiterals = (names, containingFile, redirected, opts, file, ...rest) =>
            (!redirected &&
              file &&
              keptFile(file) &&
              keptResolutions(
                names,
                file,
                (f) => (f as { resolvedModules?: ResolutionsLike }).resolvedModules,
                (n) => [n.text, modeOfUse(file, n)],
              )) ||
            modules.call(h, names, containingFile, redirected, opts, file, ...rest);
        }
        const types = (
          h as unknown as { resolveTypeReferenceDirectiveReferences?: Resolver<unknown> }
        ).resolveTypeReferenceDirectiveReferences;
        if (types) {
          const name = (r: FileReferenceLike) => (typeof r === "string" ? r : lower(r.fileName));
          (
            h as unknown as { resolveTypeReferenceDirectiveReferences: Resolver<FileReferenceLike> }
          ).resolveTypeReferenceDirectiveReferences = (
            names,
            containingFile,
            redirected,
            opts,
            file,
            ...rest
          ) => {
            let out: ResolutionLike[] | undefined;
            if (!redirected && file && keptFile(file)) {
              out = keptResolutions(
                names,
                file,
                (f) =>
                  (f as { resolvedTypeReferenceDirectiveNames?: ResolutionsLike })
                    .resolvedTypeReferenceDirectiveNames,
                (r) => [name(r), modeOfRef(r, file.impliedNodeFormat)],
              );
            } else if (
              !redirected &&
              !file &&
              automatic &&
              containingFile.endsWith(`/${inferred}`) &&
              JSON.stringify((opts as { typeRoots?: string[] }).typeRoots) === automatic.typeRoots
            ) {
              const found = names.map((r) => automatic.resolutions.get(name(r)));
              if (found.every((r) => same(r) && r.resolvedTypeReferenceDirective?.primary))
                out = found as ResolutionLike[];
            }
            return out ?? types.call(h, names, containingFile, redirected, opts, file, ...rest);
          };
        }
      }
      return createProgram(roots, options, h, ...rest);
    };
    return host;
  };
  return forwarding(ts, { createWatchCompilerHost });
}

/**
 * tslab's converter (1.0.22) compiles a cell twice when it declares anything: once to read the
 * names it declares (the bound cell's `locals`), then with `export { those names }` appended.
 * Each compilation is a new program, type checker and builder state over all declaration files.
 * The names come as well from binding the cell alone (the binder works file by file), so read
 * them that way and compile once.
 */
const ONE_PROGRAM_PER_CELL: SourcePatch = {
  name: "oneProgramPerCell",
  edits: [
    {
      from: `    function convert(prevDecl, src) {
        updateContent(prevDecl, src);
        let declsFile = builder.getSourceFile(declFilename);
        let srcFile = builder.getSourceFile(srcFilename);
        const locals = srcFile.locals;`,
      to: `    function convert(prevDecl, src) {
        const cell = ts.createSourceFile(srcFilename, srcPrefix + src, transpileTarget);
        ts.bindSourceFile(cell, { target: transpileTarget });
        const locals = cell.locals;
        if (!locals || locals.size === 0) updateContent(prevDecl, src);
        let declsFile = builder.getSourceFile(declFilename);
        let srcFile = builder.getSourceFile(srcFilename);`,
    },
  ],
};

/**
 * tslab's converter makes its first program (and builder state, over every declaration file) with
 * empty cell files when it is created, and the first cell makes another. Make the first one with
 * the first cell's files instead: the watch program starts at the first content given to
 * convert, inspect or complete (or before the first module added), and close before it is a no-op.
 * It edits the convert of {@link ONE_PROGRAM_PER_CELL}, so applies only after it.
 */
const FIRST_PROGRAM_AT_FIRST_CELL: SourcePatch = {
  name: "firstProgramAtFirstCell",
  edits: [
    {
      from: `    const watch = ts.createWatchProgram(host);
    if (!builder) {
        throw new Error("builder is not created");
    }
`,
      to: `    let watch = null;
    function startWatch() {
        watch = ts.createWatchProgram(host);
        if (!builder) {
            throw new Error("builder is not created");
        }
    }
`,
    },
    {
      // A cell that declares names is compiled once they are exported (oneProgramPerCell):
      // there may be no program before.
      from: `        if (!locals || locals.size === 0) updateContent(prevDecl, src);
        let declsFile = builder.getSourceFile(declFilename);
        let srcFile = builder.getSourceFile(srcFilename);`,
      to: `        if (!locals || locals.size === 0) updateContent(prevDecl, src);
        let declsFile = builder && builder.getSourceFile(declFilename);
        let srcFile = builder && builder.getSourceFile(srcFilename);`,
    },
    {
      from: `    function close() {
        watch.close();`,
      to: `    function close() {
        if (watch) watch.close();`,
    },
    {
      from: `    function updateContent(decls, src) {
`,
      to: `    function updateContent(decls, src) {
        if (!watch) {
            declContent = decls;
            srcContent = src;
            startWatch();
            return;
        }
`,
    },
    {
      from: `    function addModuleWithPath(path, content) {
`,
      to: `    function addModuleWithPath(path, content) {
        if (!watch) startWatch();
`,
    },
  ],
};

/** The changes to tslab's converter (dist/converter.js) the snapshot loads it with. */
export const TSLAB_CONVERTER_PATCHES: readonly SourcePatch[] = [
  ONE_PROGRAM_PER_CELL,
  FIRST_PROGRAM_AT_FIRST_CELL,
];

/** tslab's converter source with {@link TSLAB_CONVERTER_PATCHES} applied (those it holds). */
export function patchTslabConverter(source: string): string {
  return applyPatches(source, TSLAB_CONVERTER_PATCHES).source;
}

/** A change to a module's source: each `from`, found exactly once, replaced by its `to`. */
export interface SourcePatch {
  name: string;
  edits: readonly { from: string; to: string }[];
}

/**
 * `source` with those of `patches` applied whose every `from` it holds exactly once (a patch
 * whose text is not all there is left out whole); the names of those applied.
 */
export function applyPatches(
  source: string,
  patches: readonly SourcePatch[],
): { source: string; applied: string[] } {
  const applied: string[] = [];
  for (const p of patches) {
    if (!p.edits.every((e) => source.split(e.from).length === 2)) continue;
    for (const e of p.edits) source = source.replace(e.from, () => e.to);
    applied.push(p.name);
  }
  return { source, applied };
}

/**
 * Changes to TypeScript 5.0.4 (@tslab/typescript-for-tslab's lib/typescript.js) that spare work
 * every program of every cell repeats, each with the same result as the code it replaces.
 */
export const TYPESCRIPT_PATCHES: readonly SourcePatch[] = [
  {
    // createProgram sorts the default library files by a priority computed from each file's
    // path at every comparison: compute it once per file.
    name: "libFilePriorityOnce",
    edits: [
      {
        from: "files = stableSort(processingDefaultLibFiles, compareDefaultLibFiles).concat(processingOtherFiles);",
        to: `const libFilePriority = /* @__PURE__ */ new Map();
      const libFilePriorityOf = (f) => {
        let p = libFilePriority.get(f);
        if (p === void 0) libFilePriority.set(f, p = getDefaultLibFilePriority(f));
        return p;
      };
      files = stableSort(processingDefaultLibFiles, (a, b) => compareValues(libFilePriorityOf(a), libFilePriorityOf(b))).concat(processingOtherFiles);`,
      },
    ],
  },
  {
    // The table of library features (read only) was built anew for each name the checker cannot
    // find, which transpileModule (no default library) meets for every global a cell uses.
    name: "scriptTargetFeaturesOnce",
    edits: [
      {
        from: "  function getScriptTargetFeatures() {\n",
        to: `  var scriptTargetFeatures;
  function getScriptTargetFeatures() {
    return scriptTargetFeatures || (scriptTargetFeatures = getScriptTargetFeaturesTable());
  }
  function getScriptTargetFeaturesTable() {
`,
      },
    ],
  },
  {
    // The implied module format of a file depends on its path only under node16/nodenext
    // module resolution: normalize the path only then.
    name: "impliedFormatPathOnlyWhenUsed",
    edits: [
      {
        from: "const result = getImpliedNodeFormatForFileWorker(getNormalizedAbsolutePath(fileName, currentDirectory), moduleResolutionCache2",
        to: "const result = getImpliedNodeFormatForFileWorker(getEmitModuleResolutionKind(options2) === 3 /* Node16 */ || getEmitModuleResolutionKind(options2) === 99 /* NodeNext */ ? getNormalizedAbsolutePath(fileName, currentDirectory) : fileName, moduleResolutionCache2",
      },
    ],
  },
  {
    // A file found again by the very name it was found by cannot differ from it in casing.
    name: "casingCheckOnlyForOtherNames",
    edits: [
      {
        from: "if (file2 && !(options.forceConsistentCasingInFileNames === false)) {\n          const checkedName = file2.fileName;",
        to: "if (file2 && file2.fileName !== fileName && !(options.forceConsistentCasingInFileNames === false)) {\n          const checkedName = file2.fileName;",
      },
    ],
  },
  {
    // A builder state lists, for every file of every program, the files it references. For a
    // declaration file object seen in an earlier program, keep that list (which the builder only
    // reads; the last four for each file) for programs where what it is made of is the same:
    // the file's path and what its module and type references resolve to, and in the program
    // the ambient modules with the files declaring them, the files by name and whether each is
    // a module, and the module augmentations with what they resolve to.
    name: "referencedFilesKept",
    edits: [
      {
        from: "const newReferences = getReferencedFiles(newProgram, sourceFile, newProgram.getCanonicalFileName);",
        to: "const newReferences = getReferencedFilesKept(newProgram, sourceFile, newProgram.getCanonicalFileName);",
      },
      {
        from: "        function getReferencedFiles(program, sourceFile, getCanonicalFileName) {\n",
        to: `        const referencedFilesKept = /* @__PURE__ */ new WeakMap();
        const referencesContexts = /* @__PURE__ */ new WeakMap();
        let lastReferencesContext;
        function referencesContext(program) {
          let context = referencesContexts.get(program);
          if (context !== void 0) return context;
          const projects = program.getResolvedProjectReferences();
          if (projects && projects.length) {
            context = null;
          } else {
            const parts = [JSON.stringify(program.getCompilerOptions()), String(program.useCaseSensitiveFileNames())];
            for (const m of program.getTypeChecker().getAmbientModules()) {
              parts.push("module " + m.escapedName);
              for (const d of m.declarations || []) {
                const f = getSourceFileOfNode(d);
                parts.push(f ? f.resolvedPath : "");
              }
            }
            program.getFilesByNameMap().forEach((f, path) => {
              parts.push(path + (f ? (f.symbol ? "\tm " : "\ts ") + f.resolvedPath : "\t-"));
            });
            for (const f of program.getSourceFiles()) {
              for (const name of f.moduleAugmentations) parts.push(f.resolvedPath + "\t" + augmentationKey(f, name));
            }
            context = parts.join("\\n");
            if (context === lastReferencesContext) context = lastReferencesContext;
            lastReferencesContext = context;
          }
          referencesContexts.set(program, context);
          return context;
        }
        function augmentationKey(file, name) {
          if (!isStringLiteralLike(name)) return "-";
          const r = getResolvedModule(file, name.text, getModeForUsageLocation(file, name));
          return r ? name.text + "\\t" + r.resolvedFileName + "\\t" + r.extension + "\\t" + !!r.isExternalLibraryImport : name.text;
        }
        function referencesInputs(file) {
          const inputs = [file.resolvedPath];
          const add = (name) => {
            const r = isStringLiteralLike(name) ? getResolvedModule(file, name.text, getModeForUsageLocation(file, name)) : void 0;
            if (r) inputs.push(r.resolvedFileName, r.extension, r.isExternalLibraryImport, r.resolvedUsingTsExtension);
            else inputs.push(void 0);
          };
          for (const name of file.imports) add(name);
          for (const name of file.moduleAugmentations) add(name);
          if (file.resolvedTypeReferenceDirectiveNames) {
            file.resolvedTypeReferenceDirectiveNames.forEach((r, name, mode) => inputs.push(name, mode, r.resolvedTypeReferenceDirective && r.resolvedTypeReferenceDirective.resolvedFileName));
          }
          return inputs;
        }
        function getReferencedFilesKept(program, sourceFile, getCanonicalFileName) {
          const context = referencesContext(program);
          if (context === null || !sourceFile.isDeclarationFile) return getReferencedFiles(program, sourceFile, getCanonicalFileName);
          const inputs = referencesInputs(sourceFile);
          let kept = referencedFilesKept.get(sourceFile);
          if (!kept) referencedFilesKept.set(sourceFile, kept = []);
          for (const k of kept) {
            if (k.context === context && arrayIsEqualTo(k.inputs, inputs)) return k.references;
          }
          const references = getReferencedFiles(program, sourceFile, getCanonicalFileName);
          if (kept.length >= 4) kept.pop();
          kept.unshift({ context, inputs, references });
          return references;
        }
        function getReferencedFiles(program, sourceFile, getCanonicalFileName) {
`,
      },
    ],
  },
];

/** TypeScript's source with {@link TYPESCRIPT_PATCHES} applied (those it holds the text of). */
export function patchTypeScript(source: string): string {
  return applyPatches(source, TYPESCRIPT_PATCHES).source;
}

function build(): void {
  const tslabDir = dirname(resolveFrom(__dirname, "tslab/package.json"));
  const tsPath = resolveFrom(tslabDir, "@tslab/typescript-for-tslab");
  const ts = loadModule(tsPath, patchTypeScript) as TypeScript;
  // Capture the watch program tslab's converter creates, to read the files it parsed.
  let watch: ReturnType<TypeScript["createWatchProgram"]> | undefined;
  const capture = forwarding(ts, {
    createWatchProgram: (h: WatchHostLike) => (watch = ts.createWatchProgram(h)),
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
  const program = watch?.getProgram().getProgram();
  const automatic: AutomaticTypes = {
    typeRoots: JSON.stringify(program?.getCompilerOptions().typeRoots),
    resolutions: new Map(),
  };
  program?.getAutomaticTypeDirectiveResolutions().forEach((r, name) => {
    automatic.resolutions.set(name, r);
  });
  for (const f of program?.getSourceFiles() ?? []) {
    if (f.isDeclarationFile && dirname(f.path) !== cwd) {
      kept.set(f.path, f);
      const stat = statKey(f.fileName);
      if (stat !== undefined) stats.set(f.path, stat);
    }
  }
  conv.close();
  watch = undefined;
  loaded.clear();
  const shim = withKeptFiles(ts, kept, stats, automatic);
  // The JavaScript a kernel loads before its first cell: tslab's converter and executor (bound
  // to the shim) and the library. A kernel takes them if none of their files
  // changed since (by size and time of change), else loads them all from disk as usual.
  loaded.set(tsPath, { exports: shim });
  loadModule(join(tslabDir, "dist", "converter.js"), patchTslabConverter);
  loadModule(join(tslabDir, "dist", "executor.js"));
  loadModule(resolveFrom(dirname(__dirname), "execmem-lab"));
  loaded.delete(tsPath);
  const modules = [...loaded].map(([file, m]) => ({ file, m, stat: statKey(file) }));
  loaded.clear();
  // What the snapshot was built from, checked again at each start: the kernelspec's shell step
  // starts from the snapshot without reading its stamp (kernel/snapshot.ts).
  const entry = join(__dirname, "snapshot-entry.js");
  const built = { entry: readText(entry), typescript: statKey(tsPath) };

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
    const { mark } = req("./trace") as { mark(l: string): void };
    mark("main");
    let resolved = "";
    try {
      resolved = Module.createRequire(join(tslabDir, "package.json")).resolve(
        "@tslab/typescript-for-tslab",
      );
    } catch {
      // tslab is gone: launch.ts reports it
    }
    runtimeRequire = (from, id) => Module.createRequire(from)(id);
    const register = (file: string, exports: unknown) => {
      const m = new Module(file);
      m.filename = file;
      m.loaded = true;
      m.paths = Module._nodeModulePaths(dirname(file));
      m.exports = exports;
      Module._cache[file] = m;
    };
    // Built from these very files, else everything is loaded from disk, as without a snapshot.
    if (resolved !== tsPath) {
      // tslab is gone or moved: launch.ts reports it
    } else if (readText(entry) !== built.entry || statKey(tsPath) !== built.typescript) {
      mark("snapshot-unused");
      console.error(
        "execmem-lab kernel: its startup snapshot was built from other files than these; " +
          "starting without it (npm run build makes it again)",
      );
    } else {
      register(tsPath, shim);
      if (modules.every((k) => k.stat !== undefined && statKey(k.file) === k.stat)) {
        for (const k of modules) register(k.file, k.m.exports);
      }
    }
    (req("./launch") as { runLauncher(argv: string[]): void }).runLauncher(process.argv.slice(1));
  });
}

if (startupSnapshot.isBuildingSnapshot()) build();
