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
