/**
 * An aggregate budget of decoded brush-mask pixels, per task and per export run (sec-08: a 530 KB
 * task of uniform 8000×8000 RLE masks decodes to 611 MB; a 64 MiB storage object to ~300 GB).
 * `brushMaxPixels` bounds one region; this bounds their sum. Each brush writer (BRUSH_TO_NUMPY,
 * BRUSH_TO_PNG, BRUSH_TO_COCO) has its own budget, so every format of one run sees the same regions.
 * A region is charged before its RLE is decoded (its size is declared in the header), and a region
 * the budget refuses is reported and left out, not decoded.
 */

/** Why a region was refused by the budget; the message is the report reason. */
export class PixelBudgetError extends Error {
  override name = 'PixelBudgetError';
}

export class PixelBudget {
  private task = 0;
  private total = 0;

  /**
   * @param maxTaskPixels most decoded pixels (width × height, summed over regions) for one task
   * @param maxTotalPixels most decoded pixels for the whole run
   */
  constructor(
    readonly maxTaskPixels: number,
    readonly maxTotalPixels: number,
  ) {}

  /** Starts counting a new task. */
  startTask(): void {
    this.task = 0;
  }

  /** Charges one region of `pixels` decoded pixels; throws PixelBudgetError (charging nothing) when over. */
  take(pixels: number): void {
    if (this.task + pixels > this.maxTaskPixels) {
      throw new PixelBudgetError(
        `the task's brush masks would decode to more than ${this.maxTaskPixels} pixels (option brushMaxTaskPixels; ${this.task} used, this mask ${pixels})`,
      );
    }
    if (this.total + pixels > this.maxTotalPixels) {
      throw new PixelBudgetError(
        `the export's brush masks would decode to more than ${this.maxTotalPixels} pixels (option brushMaxTotalPixels; ${this.total} used, this mask ${pixels})`,
      );
    }
    this.task += pixels;
    this.total += pixels;
  }

  /** Pixels charged so far in the run. */
  get used(): number {
    return this.total;
  }
}
