/** Where a command writes: its lines (stdout), its errors (stderr); tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** A terminal: progress rewrites one line in place (default: process.stderr.isTTY). */
  tty?: boolean;
  /** Raw text to stderr (progress on a terminal); default process.stderr.write. */
  errRaw?(text: string): void;
}

/** The console: lines to stdout, errors to stderr. */
export const consoleIo: Io = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
};

/** A command's exit code for the process (0 leaves it as it is). */
export function exitWith(code: number): void {
  if (code !== 0) process.exitCode = code;
}

/** A command over files, as the CLI and the tests call it; returns the exit code. */
export type FileCommand<O> = (files: string[], opts?: O, io?: Io) => number;

/** What a command made of one file: its exit code, and its JSON record or its text lines. */
export interface FileOutcome<J> {
  /** 0, 1 (an expectation contradicted) or 2 (the file could not be run). */
  code: number;
  record?: J;
  lines?: readonly string[];
}

/**
 * Runs a command over its files: each file's lines (a blank line between files), or with `json`
 * every record in one document `{ files }`. The exit code is the highest of the files'.
 */
export function runFiles<J>(
  files: readonly string[],
  json: boolean | undefined,
  io: Io,
  run: (file: string) => FileOutcome<J>,
): number {
  let code = 0;
  const records: J[] = [];
  files.forEach((file, i) => {
    const o = run(file);
    code = Math.max(code, o.code);
    if (json) {
      if (o.record) records.push(o.record);
    } else if (o.lines) {
      if (i > 0) io.out("");
      for (const l of o.lines) io.out(l);
    }
  });
  if (json) io.out(JSON.stringify({ files: records }, null, 2));
  return code;
}

/** A file's error as a command shows it: prefixed by the file unless it names its place. */
export function errorMessage(file: string, e: unknown, located: boolean): string {
  const message = e instanceof Error ? e.message : String(e);
  return located || message.startsWith(file) ? message : `${file}: ${message}`;
}
