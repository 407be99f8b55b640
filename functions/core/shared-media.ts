import type { MediaAccess, MediaFile } from './media.ts';

/** A media file read whole by one format is kept for the others up to this size. */
export const SHARED_MEDIA_FILE_BYTES = 8 * 1024 * 1024;
/** Media bytes one SharedMedia keeps at most (released with it). */
export const SHARED_MEDIA_BYTES = 32 * 1024 * 1024;

/**
 * Media shared by the formats of one run over a few tasks — one task of a multi-format export
 * (core/export.ts) or one segment of a render (pipeline/segments-render.ts): every format that
 * includes images (COCO_WITH_IMAGES, YOLO_*_WITH_IMAGES, VOC) opens and reads the same images, so a
 * file read whole once is kept (up to SHARED_MEDIA_FILE_BYTES each, SHARED_MEDIA_BYTES in all) and
 * given to the other formats without another fetch. Same bytes, so the same output; a read that
 * fails, is cut or is larger than the limits is not kept (the next reader fetches it itself).
 */
export class SharedMedia implements MediaAccess {
  private readonly opened = new Map<string, Promise<MediaFile>>();
  private readonly bodies = new Map<string, Promise<Buffer | undefined>>();
  private keptBytes = 0;
  /** `maxBytes`: what this instance keeps at most (default SHARED_MEDIA_BYTES). */
  constructor(
    private readonly inner: MediaAccess,
    private readonly maxBytes = SHARED_MEDIA_BYTES,
  ) {}

  open(url: string): Promise<MediaFile> {
    let p = this.opened.get(url);
    if (!p) {
      p = this.inner.open(url);
      this.opened.set(url, p);
      // A failure is not kept: another format tries again, as in a run over every task.
      p.catch(() => this.opened.delete(url));
    }
    return p.then(
      (file): MediaFile => ({
        name: file.name,
        size: file.size,
        ...(file.copyByPath ? { copyByPath: file.copyByPath } : {}),
        read: (range) => this.read(url, file, range),
      }),
    );
  }

  private async *read(url: string, file: MediaFile, range?: { start: number; end: number }) {
    const held = this.bodies.get(url);
    if (held) {
      const body = await held;
      if (body) {
        yield range ? body.subarray(range.start, Math.min(range.end, body.length)) : body;
        return;
      }
    }
    if (range || held) {
      yield* file.read(range);
      return;
    }
    let done!: (b: Buffer | undefined) => void;
    this.bodies.set(url, new Promise((r) => (done = r)));
    const parts: Buffer[] = [];
    let bytes = 0;
    let keep = true;
    let ended = false;
    try {
      for await (const chunk of file.read()) {
        if (keep) {
          bytes += chunk.length;
          if (bytes > SHARED_MEDIA_FILE_BYTES || this.keptBytes + bytes > this.maxBytes) {
            keep = false;
            parts.length = 0;
          } else parts.push(Buffer.from(chunk));
        }
        yield chunk;
      }
      ended = true;
    } finally {
      // Kept only when read to the end (not when the reader stopped early or the read failed).
      if (ended && keep && (file.size === undefined || file.size === bytes)) {
        const body = Buffer.concat(parts);
        this.keptBytes += body.length;
        done(body);
      } else {
        this.bodies.delete(url);
        done(undefined);
      }
    }
  }
}

/** Media bytes kept per task by PerTaskMedia (a few tasks' media copies may be in flight at once). */
export const PER_TASK_MEDIA_BYTES = 16 * 1024 * 1024;

/**
 * A SharedMedia per task, for a run of several formats over a task stream (core/export.ts): the
 * formats convert one task after the other, so what one fetched is given to the next; `next()`
 * starts the next task's, and the previous one is freed once its reads have ended.
 */
export class PerTaskMedia implements MediaAccess {
  private current: SharedMedia;
  constructor(private readonly inner: MediaAccess) {
    this.current = new SharedMedia(inner, PER_TASK_MEDIA_BYTES);
  }

  next(): void {
    this.current = new SharedMedia(this.inner, PER_TASK_MEDIA_BYTES);
  }

  open(url: string): Promise<MediaFile> {
    return this.current.open(url);
  }
}
