/**
 * What `dcf local` reports: each stage of each image and feature, with its
 * result and time, as it happens and in the summary.
 */

export type StageStatus = 'ok' | 'skipped' | 'failed';

export interface StageReport {
  /** `validate`, `pack`, `prepare`, `build`, `manifest`, `test`, `release`; `layout`, `version guard`, `publish`, `collection`. */
  readonly stage: string;
  readonly status: StageStatus;
  /** One line: what the stage did, or why it was skipped or failed. */
  readonly detail: string;
  readonly ms: number;
}

/** Receives each stage when it ends. */
export type StageListener = (subject: { readonly kind: 'image' | 'feature'; readonly id: string }, report: StageReport) => void;

/** Thrown by a stage body to mark the stage failed with a message for the user. */
export class LocalStageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalStageError';
  }
}

/** Runs the stages of one image or feature in order, timing each and telling the listener. */
export class StageRecorder {
  readonly stages: StageReport[] = [];

  constructor(
    private readonly subject: { readonly kind: 'image' | 'feature'; readonly id: string },
    private readonly listener: StageListener,
    private readonly now: () => number,
  ) {}

  /** True when a stage failed. */
  get failed(): boolean {
    return this.stages.some((s) => s.status === 'failed');
  }

  /**
   * Runs `body`; its string is the stage's detail. A thrown error marks the stage
   * failed (its message the detail) and is rethrown.
   */
  async run<T>(stage: string, body: () => Promise<{ value: T; detail: string }>): Promise<T> {
    const start = this.now();
    try {
      const { value, detail } = await body();
      this.record({ stage, status: 'ok', detail, ms: this.now() - start });
      return value;
    } catch (e) {
      this.record({ stage, status: 'failed', detail: (e as Error)?.message ?? String(e), ms: this.now() - start });
      throw e;
    }
  }

  skip(stage: string, reason: string): void {
    this.record({ stage, status: 'skipped', detail: reason, ms: 0 });
  }

  private record(report: StageReport): void {
    this.stages.push(report);
    this.listener(this.subject, report);
  }
}
