/**
 * A progress bar on stderr for long work (feature extraction, coreset selection, downloads,
 * training). On a terminal it redraws one line; otherwise (CI, a log file) it prints a line
 * at most every few seconds so logs stay short. `--quiet` commands pass `enabled: false`.
 */
export interface ProgressOptions {
  total: number;
  label: string;
  unit?: string;
  enabled?: boolean;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private extra = '';
  private drawn: { done: number; extra: string } | null = null;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? true;
  }

  /** Advances by `n` units; `info` (e.g. "loss 0.42") is shown after the bar. */
  tick(n = 1, info?: string): void {
    this.done += n;
    if (info !== undefined) this.extra = info;
    this.draw(false);
  }

  finish(info?: string): void {
    if (info !== undefined) this.extra = info;
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    const tty = this.stream.isTTY === true;
    if (!final && now - this.lastDraw < (tty ? 100 : 5000)) return;
    // A log gets no second line for the same state (a last tick, then finish).
    if (!tty && this.drawn !== null && this.drawn.done === this.done && this.drawn.extra === this.extra) return;
    this.drawn = { done: this.done, extra: this.extra };
    this.lastDraw = now;
    const { total, label, unit = 'it' } = this.opts;
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const frac = total > 0 ? Math.min(1, this.done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const eta = rate > 0 && total > this.done ? ` eta ${formatSeconds((total - this.done) / rate)}` : '';
    const line = `${label} [${bar}] ${this.done}/${total} ${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s${eta}${this.extra ? ' ' + this.extra : ''}`;
    if (tty) this.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else this.stream.write(line + '\n');
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
