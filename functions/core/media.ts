/**
 * Access to the media a task points at (images, audio): Label Studio upload paths, local files,
 * `s3://` URIs and http(s) URLs. The core only sees this interface; the CLI and the pipeline
 * provide implementations (functions/storage/media.ts).
 */

export class MediaError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface MediaFile {
  /** The file name Label Studio's converter would use (basename, percent-decoding as it does). */
  name: string;
  /** Size in bytes, when known without reading. */
  size?: number;
  /** Path on the local disk, when the file is one (lets sinks copy it without streaming). */
  localPath?: string;
  /** Reads the bytes, or only `[start, end)` (a ranged GET for S3). */
  read(range?: { start: number; end: number }): AsyncIterable<Uint8Array>;
}

export interface MediaAccess {
  /** Finds a media file; throws MediaError with a readable reason when it cannot be reached. */
  open(url: string): Promise<MediaFile>;
}

/** Reads up to `n` bytes from the start of a media file. */
export async function readHead(file: MediaFile, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of file.read({ start: 0, end: n })) {
    parts.push(chunk);
    total += chunk.length;
    if (total >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}
