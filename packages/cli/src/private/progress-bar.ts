/**
 * A one-line progress bar for uploads, redrawn in place on a terminal. Where
 * the stream is not a terminal, nothing is drawn.
 */
import { formatSize } from '@devcontainer-factory/core';
import type { OutputStream } from '../cli-environment';

export class ProgressBar {
  private lastLine = '';
  private finished = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  update(loaded: number, total: number): void {
    if (!this.enabled || this.finished || total <= 0) return;
    const ratio = Math.min(1, Math.max(0, loaded / total));
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    const sizes = `${formatSize(loaded)}/${formatSize(total)}`;
    const room = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - sizes.length - 12));
    const filled = Math.round(ratio * room);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(room - filled)}] ${percent} ${sizes}`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.stream.write(`\r\u001b[2K${line}`);
  }

  /** Ends the bar's line (call once, after the last update). */
  done(): void {
    if (!this.enabled || this.finished) return;
    this.finished = true;
    if (this.lastLine) this.stream.write('\n');
  }
}
