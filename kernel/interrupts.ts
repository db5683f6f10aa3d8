/**
 * An interrupt that overtakes the request of the cell it is meant to stop. Jupyter sends the
 * execute request on the shell socket and the interrupt as a signal (SIGINT); when the signal
 * arrives first, the kernel is idle and tslab (like ipykernel) ignores it, then reads the request
 * and runs the cell to its end. Here a request sent before an interrupt that came while no cell
 * was executing, and read soon after it, is stopped before its code runs: compiled, its code is
 * replaced by code that throws ({@link INTERRUPTED_BEFORE_IT_RAN}).
 *
 * (A signal that comes later, while a cell is read, compiled or run, is handled by tslab as it
 * always was: the kernel's signal handler runs once the cell's synchronous part has returned,
 * which stops a cell that awaits; breakOnSigint stops code running synchronously.)
 *
 * tslab reads every request as it arrives and executes them one at a time from a queue: each is
 * {@link EarlyInterrupts.read}, later started, compiled and ended.
 */
export interface EarlyCell {
  /** Stop it before its code runs. */
  readonly stop: boolean;
}

export class EarlyInterrupts {
  /** When a SIGINT last came while no cell was executing (ms since the epoch). */
  private idleAt = -Infinity;
  /** The cell the queue executes. */
  private current: EarlyCell | null = null;

  /**
   * @param windowMs how long after an interrupt that came while idle a request sent before it may
   *   still be read and stopped (later, the signal was a click on an idle kernel).
   */
  constructor(private readonly windowMs = 1000) {}

  /**
   * A cell's execute request was read at `now`; `sentAt` is the date of its header (ms since the
   * epoch; undefined when the client gave none). Each interrupt stops one request at most.
   */
  read(sentAt: number | undefined, now: number): EarlyCell {
    const stop =
      sentAt !== undefined && sentAt <= this.idleAt && now - this.idleAt <= this.windowMs;
    this.idleAt = -Infinity;
    return { stop };
  }

  /** The queue starts executing `cell`. */
  start(cell: EarlyCell): void {
    this.current = cell;
  }

  /** A SIGINT arrived at `now`. */
  signal(now: number): void {
    if (this.current === null) this.idleAt = now;
  }

  /** The executing cell compiled: whether to stop it before its code runs. */
  compiled(): boolean {
    return this.current?.stop ?? false; // no cell: a compile of the idle warm-up
  }

  /** `cell` ended (replied, failed or was aborted). */
  end(cell: EarlyCell): void {
    if (this.current === cell) this.current = null;
  }
}

/** The code a cell interrupted before it ran runs instead of its own: the error it shows. */
export const INTERRUPTED_BEFORE_IT_RAN =
  'throw new Error("Script execution was interrupted by SIGINT (before the cell ran)");';
