/**
 * Xen's console as the model keeps it: printk text split into lines, each line carrying the
 * "(XEN) " prefix Xen's printk puts at the start of every line, kept in an array the caller reads.
 * // xen/drivers/char/console.c (Xen 4.2.0): printk -> vprintk, "(XEN) " prefix per line
 */
import type { TraceRecorder } from '../trace';

export const XEN_CONSOLE_PREFIX = '(XEN) ';

export class XenConsole {
  /** every completed line, with its "(XEN) " prefix */
  readonly lines: string[] = [];
  private pending = '';

  constructor(private readonly trace: TraceRecorder | null) {}

  /**
   * printk: appends text; every "\n" ends a line. Text after the last "\n" waits for the rest of
   * its line (as Xen's console does with a partial line).
   */
  printk(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.pending += text.slice(start, nl);
      this.flushLine();
      start = nl + 1;
    }
    this.pending += text.slice(start);
  }

  /**
   * guest_console_write: a guest's CONSOLEIO_write text, sent to the serial line as is (no
   * "(XEN) " prefix; only debug builds let a domU write).
   */
  guestWrite(text: string): void {
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      this.lines.push(line);
      if (this.trace !== null) this.trace.emit({ type: 'console', source: 'guest', line });
    }
  }

  /** guest-level warnings printk_ratelimit() dropped (the model has no clock: after the burst, all) */
  suppressed = 0;
  private ratelimitTokens = 10;

  /**
   * printk of an XENLOG_GUEST warning (gdprintk): always on a debug build; on a release build
   * only while printk_ratelimit() lets it (a burst of 10; then one per 5 s of time the model
   * does not have).
   */
  guestWarning(text: string, printAll: boolean): void {
    if (!printAll) {
      if (this.ratelimitTokens === 0) { this.suppressed++; return; }
      this.ratelimitTokens--;
    }
    this.printk(text);
  }

  /** The lines printed since `mark` (an earlier `lines.length`). */
  since(mark: number): string[] {
    return this.lines.slice(mark);
  }

  private flushLine(): void {
    const line = XEN_CONSOLE_PREFIX + this.pending;
    this.pending = '';
    this.lines.push(line);
    if (this.trace !== null) this.trace.emit({ type: 'console', source: 'xen', line });
  }
}
