import type { MediaAccess, MediaFile } from '../core/media.ts';

/** A media file read whole by one format of a segment is kept for the others up to this size. */
export const SEGMENT_MEDIA_FILE_BYTES = 8 * 1024 * 1024;
/** Media bytes one segment keeps at most (released when the segment is rendered). */
export const SEGMENT_MEDIA_BYTES = 32 * 1024 * 1024;

/**
 * The media of one segment's writers: every format that includes images (COCO_WITH_IMAGES,
 * YOLO_*_WITH_IMAGES, VOC) opens and reads the same images, so a file read whole once is kept
 * (up to SEGMENT_MEDIA_FILE_BYTES each, SEGMENT_MEDIA_BYTES in all) and given to the other
 * formats without another fetch. Same bytes, so the same output; a read that fails, is cut or is
 * larger than the limits is not kept (the next reader fetches it itself).
 */
export class SegmentMedia implements MediaAccess {
  private readonly opened = new Map<string, Promise<MediaFile>>();
  private readonly bodies = new Map<string, Promise<Buffer | undefined>>();
  private keptBytes = 0;
  constructor(private readonly inner: MediaAccess) {}

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
        localPath: file.localPath,
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
          if (bytes > SEGMENT_MEDIA_FILE_BYTES || this.keptBytes + bytes > SEGMENT_MEDIA_BYTES) {
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
