/**
 * Access to the media a task points at (images, audio): Label Studio upload paths, local files,
 * `s3://` URIs and http(s) URLs. The core only sees this interface; the CLI and the pipeline
 * provide implementations (functions/storage/media.ts).
 */

/**
 * Media that cannot be used: not found, unreachable, or refused by the media policy (`refused`).
 * The message names the (shortened) URL and the reason; exporters report it per task and go on.
 */
export class MediaError extends Error {
  constructor(
    message: string,
    readonly url: string,
    /**
     * True when the URL was not read at all: the media policy refused it, a budget ran out, or its
     * host is skipped after repeated failures (mediaSkipped).
     */
    readonly refused = false,
    /** The message without the URL, for reports that name the URL themselves. */
    readonly detail: string = message,
  ) {
    // No stack trace: a MediaError is an expected outcome, reported by its message, and a run over
    // tasks whose media are all unreachable makes one per task (capturing the stack was 5 % of
    // a 10,000-task VOC run without credentials for its s3:// images).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'MediaError';
  }
}

/** An error's text without the URL when it is a MediaError (the caller names the URL). */
export function mediaReason(err: unknown): string {
  if (err instanceof MediaError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}

/** Longest URL text quoted in messages and reports. */
export const MAX_URL_IN_MESSAGES = 200;

/** A URL for messages: at most 200 characters (`…` marks a cut), control characters escaped. */
export function displayUrl(url: string): string {
  const clean = url.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return clean.length > MAX_URL_IN_MESSAGES ? `${clean.slice(0, MAX_URL_IN_MESSAGES - 1)}…` : clean;
}

/** A refusal by the media policy: `media not allowed: <url>: <reason>`. */
export function mediaRefused(url: string, reason: string): MediaError {
  return new MediaError(
    `media not allowed: ${displayUrl(url)}: ${reason}`,
    url,
    true,
    `media not allowed: ${reason}`,
  );
}

/**
 * Media not fetched because its host failed too often in this run (the per-host circuit breaker):
 * `media skipped: <url>: <reason>`. Not a policy refusal: the URL is allowed, its host is not tried
 * again.
 */
export function mediaSkipped(url: string, reason: string): MediaError {
  return new MediaError(
    `media skipped: ${displayUrl(url)}: ${reason}`,
    url,
    true,
    `media skipped: ${reason}`,
  );
}

/**
 * The host (and port) of a URL as its text writes it — `[::ffff:127.0.0.1]:8080` or
 * `2130706433:8080`, not WHATWG URL's normalized `[::ffff:7f00:1]:8080` / `127.0.0.1:8080` — with
 * any user info left out and control characters escaped; undefined when the text has no
 * `scheme://host`.
 */
export function writtenHost(url: string): string | undefined {
  const m = /^\s*[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(url);
  const host = m?.[1].slice(m[1].lastIndexOf('@') + 1);
  return host ? displayUrl(host) : undefined;
}

/** A failure to read allowed media: `<url>: <reason>`. */
export function mediaFailed(url: string, reason: string): MediaError {
  return new MediaError(`${displayUrl(url)}: ${reason}`, url, false, reason);
}

export interface MediaFile {
  /** The file name Label Studio's converter would use (basename, percent-decoding as it does). */
  name: string;
  /** Size in bytes, when known without reading. */
  size?: number;
  /**
   * For a file on the local disk: its path, for a sink to copy it without streaming. Call it only
   * to copy the file: it charges the whole size to the run's byte budget (once per file), and
   * throws MediaError `refused` past the budget.
   */
  copyByPath?(): string;
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
