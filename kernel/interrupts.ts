/**
 * An interrupt that overtakes the request of the cell it is meant to stop. Jupyter sends the
 * execute request on the shell socket and the interrupt as a signal (SIGINT); when the signal
 * arrives first, the kernel is idle and tslab (like ipykernel) ignores it, then reads the request
 * and runs the cell to its end. Here a request sent before an interrupt that came while no cell
 * was executing, and read soon after it, is stopped before it runs: its code is replaced by code
 * that throws ({@link INTERRUPTED_BEFORE_IT_RAN}).
 *
 * (A signal that comes later, while a cell is read, compiled or run, is handled by tslab as it
 * always was: the kernel's signal handler runs once the cell's synchronous part has returned,
 * which stops a cell that awaits; breakOnSigint stops code running synchronously.)
 *
 * tslab reads every request as it arrives and executes them one at a time from a queue: each is
 * {@link EarlyInterrupts.read}, later started and ended.
 */
export interface EarlyCell {
  /** Stop it before its code runs. */
  readonly stop: boolean;
}

/**
 * A Jupyter header's `date` in ms since the epoch, or undefined when it has none or it names no
 * time zone (Jupyter's dates are UTC; a date without a zone would be read as local time).
 */
export function headerDate(date: unknown): number | undefined {
  if (typeof date !== "string" || !/(?:Z|[+-]\d\d:?\d\d)$/i.test(date)) return undefined;
  const t = Date.parse(date);
  return Number.isNaN(t) ? undefined : t;
}

/** A lag (ms) below which the front end's clock is taken to be the kernel's. */
const LAG_NOISE_MS = 50;

/** A signal handled this soon (ms) after the kernel's own idle work may have come during it. */
const BUSY_GAP_MS = 5;

export class EarlyInterrupts {
  /** When a SIGINT last came while no cell was executing (ms since the epoch, kernel's clock). */
  private idleAt = -Infinity;
  /** The cell the queue executes. */
  private current: EarlyCell | null = null;
  /**
   * The least (read time - header date) of the requests read so far: the front end's clock's
   * lag behind the kernel's plus the least delivery time (0 before the first request).
   */
  private lag = Infinity;
  /** When the kernel's own work done while idle (the converter's warm-up) last ended. */
  private busyUntil = -Infinity;

  /**
   * @param windowMs how long after an interrupt that came while idle a request sent before it may
   *   still be read and stopped (later, the signal was a click on an idle kernel).
   */
  constructor(private readonly windowMs = 1000) {}

  /**
   * A cell's execute request was read at `now`; `sentAt` is the date of its header (the front
   * end's clock, ms since the epoch; undefined when it gave none). Its date, moved by the lag
   * of the requests read before it, must not be later than the interrupt. Each interrupt stops
   * one request at most.
   */
  read(sentAt: number | undefined, now: number): EarlyCell {
    // None yet, or below LAG_NOISE_MS (delivery time, not another clock): none.
    const lag = !Number.isFinite(this.lag) || Math.abs(this.lag) < LAG_NOISE_MS ? 0 : this.lag;
    const stop =
      sentAt !== undefined && sentAt + lag <= this.idleAt && now - this.idleAt <= this.windowMs;
    if (sentAt !== undefined) this.lag = Math.min(this.lag, now - sentAt);
    this.idleAt = -Infinity;
    return { stop };
  }

  /** The queue starts executing `cell`. */
  start(cell: EarlyCell): void {
    this.current = cell;
  }

  /** `cell` ended (replied, failed or was aborted). */
  end(cell: EarlyCell): void {
    if (this.current === cell) this.current = null;
  }

  /** The kernel's own work done while idle ended at `now` (a signal may have waited for it). */
  busy(now: number): void {
    this.busyUntil = now;
  }

  /**
   * A SIGINT was handled at `now`. Right after the kernel's own idle work it may have come at any
   * time during that work, so it is not taken as coming at `now`.
   */
  signal(now: number): void {
    if (this.current === null && now - this.busyUntil >= BUSY_GAP_MS) this.idleAt = now;
  }
}

/** The code a cell interrupted before it ran runs instead of its own: the error it shows. */
export const INTERRUPTED_BEFORE_IT_RAN =
  'throw new Error("Script execution was interrupted by SIGINT (before the cell ran)");';
