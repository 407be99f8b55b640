/**
 * The one MediaAccess of the CLI and the pipeline, enforcing a MediaPolicy (core/media-policy.ts)
 * before any request: Label Studio upload paths (a local folder or an S3 prefix), local files only
 * under the allowed roots (after `..`, percent-decoding and symlinks), `s3://` only under the
 * allowed prefixes, http(s) by the host/address policy (safe-http.ts). It also keeps the run's
 * budgets: http(s) requests at once, one time budget for all http(s) media, one byte budget for
 * all media, and a per-host circuit breaker (host-breaker.ts). Every refusal is a MediaError (`refused`) whose message
 * says why; the exporters report it per task and go on.
 */

import { statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { nonPublicAddressReason, nonPublicReason, parseIpAddress } from '../core/ip-address.ts';
import { type MediaRef, mediaBaseName, parseMediaUrl } from '../core/label-studio-urls.ts';
import {
  displayUrl,
  type MediaAccess,
  MediaError,
  type MediaFile,
  mediaFailed,
  mediaRefused,
  mediaSkipped,
} from '../core/media.ts';
import {
  canonicalHost,
  DEFAULT_MEDIA_LIMITS,
  folderPrefix,
  type HttpPolicy,
  hostAllowed,
  type MediaLimits,
  type MediaPolicy,
  s3KeyAllowed,
  unsafeKeyReason,
} from '../core/media-policy.ts';
import { NotFoundError, type ObjectStore } from '../core/object-store.ts';
import { HostBreaker } from './host-breaker.ts';
import { LocalFiles, within } from './local-files.ts';
import { HttpHostError, HttpRefusedError, safeGet } from './safe-http.ts';

type Range = { start: number; end: number };

/**
 * Whether `err` is the AWS SDK's "no credentials" error: its provider chain (environment, shared
 * files, SSO, container and instance metadata) found none. Not a per-object failure, and it does
 * not happen where credentials exist (a Lambda function always has them).
 */
const isMissingCredentials = (err: unknown) =>
  (err as { name?: unknown } | undefined)?.name === 'CredentialsProviderError';

export interface PolicyMediaOptions {
  /**
   * The object store of a bucket (S3 media, uploads under an S3 prefix); absent = no S3 access.
   * May resolve asynchronously (the CLI loads the AWS SDK on first use).
   */
  store?: (bucket: string) => ObjectStore | Promise<ObjectStore>;
  /** The clock (tests). */
  now?: () => number;
}

/** A semaphore: at most `limit` holders. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/**
 * MediaAccess under a MediaPolicy. One instance per export run: budgets and the negative cache
 * are per instance. `open` throws MediaError (refused or unavailable); reads throw MediaError too.
 */
export class PolicyMedia implements MediaAccess {
  readonly policy: MediaPolicy;
  private readonly limits: MediaLimits;
  private readonly slots: Slots;
  private readonly hosts: HostBreaker;
  private bytesRead = 0;
  /**
   * Set when the AWS SDK found no credentials at all (its provider chain ran out): every later
   * s3:// read would fail the same way, each after running the chain again.
   */
  private s3Unavailable?: string;
  private deadline?: number;
  private deadlineSignal?: AbortSignal;
  private readonly localFiles = new LocalFiles(
    (url, body) => this.metered(url, body),
    (url, bytes) => {
      this.checkBytes(url);
      this.countBytes(url, bytes);
    },
  );
  private readonly now: () => number;

  constructor(
    policy: MediaPolicy,
    private readonly options: PolicyMediaOptions = {},
  ) {
    this.policy = policy;
    this.limits = { ...DEFAULT_MEDIA_LIMITS, ...policy.limits };
    this.slots = new Slots(this.limits.concurrency);
    this.hosts = new HostBreaker(this.limits.hostFailures);
    this.now = options.now ?? Date.now;
  }

  async open(url: string): Promise<MediaFile> {
    try {
      return await this.resolve(url, parseMediaUrl(url));
    } catch (err) {
      if (err instanceof MediaError) throw err;
      throw mediaFailed(url, (err as Error).message);
    }
  }

  private resolve(url: string, ref: MediaRef): Promise<MediaFile> {
    switch (ref.kind) {
      case 'upload':
        return this.upload(url, ref.path);
      case 'local-files':
        return this.local(url, ref.path, 'relative-to-roots');
      case 'file':
        return this.local(url, ref.path, 'absolute');
      case 'local':
        return this.local(url, ref.path, 'as-given');
      case 's3':
        return this.s3(url, ref.bucket, ref.key, this.s3Allowed(url, ref.bucket, ref.key));
      case 'http':
        return this.http(url, ref.url);
      case 'gs':
      case 'azure-blob':
        throw mediaRefused(url, `${ref.kind} URIs are not supported`);
      default:
        throw mediaRefused(url, ref.reason);
    }
  }

  // ---- uploads -------------------------------------------------------------------------------

  private async upload(url: string, rel: string): Promise<MediaFile> {
    const where = this.policy.upload;
    if (!where)
      throw mediaRefused(
        url,
        'a Label Studio upload path needs the upload folder (--upload-dir, or media.uploadPrefix in the pipeline)',
      );
    if (rel.split('/').some((s) => s === '..') || rel.includes('\0'))
      throw mediaRefused(url, 'the path escapes the upload folder');
    if ('dir' in where) {
      const root = resolve(where.dir);
      const path = resolve(root, rel);
      if (!within(root, path)) throw mediaRefused(url, 'the path escapes the upload folder');
      return this.localFiles.open(url, path, [root]);
    }
    const key = `${folderPrefix(where.s3.prefix)}${rel}`;
    return this.s3(url, where.s3.bucket, key, undefined);
  }

  // ---- local files ---------------------------------------------------------------------------

  private async local(
    url: string,
    path: string,
    how: 'as-given' | 'absolute' | 'relative-to-roots',
  ): Promise<MediaFile> {
    const roots = this.policy.localRoots.map((r) => resolve(r));
    if (roots.length === 0)
      throw mediaRefused(
        url,
        `local files are outside the allowed media roots (${this.policy.noLocalRootsReason ?? 'none are configured'})`,
      );
    if (path.includes('\0')) throw mediaRefused(url, 'the path has a NUL character');
    if (how === 'relative-to-roots') {
      // Label Studio's local-files URLs are relative to its document root: try each root.
      for (const root of roots) {
        const candidate = resolve(root, path.replace(/^\/+/, ''));
        if (!within(root, candidate)) continue;
        if (statSync(candidate, { throwIfNoEntry: false }))
          return this.localFiles.open(url, candidate, roots);
      }
      throw mediaRefused(url, 'the local-files path is outside the allowed media roots or missing');
    }
    if (how === 'absolute' && !isAbsolute(path))
      throw mediaRefused(url, 'a file: URL needs an absolute path');
    return this.localFiles.open(url, resolve(path), roots);
  }

  // ---- S3 ------------------------------------------------------------------------------------

  /** Why an s3:// URI is refused; undefined when allowed. */
  private s3Allowed(url: string, bucket: string, key: string): MediaError | undefined {
    const unsafe = unsafeKeyReason(key);
    if (unsafe) return mediaRefused(url, unsafe);
    const s3 = this.policy.s3;
    if (s3 === 'any') return undefined;
    const upload = this.policy.upload;
    const allowed = upload && 's3' in upload ? [...s3, upload.s3] : s3;
    if (!s3KeyAllowed(allowed, bucket, key))
      return mediaRefused(
        url,
        allowed.length
          ? `outside the project's media prefixes (${allowed.map((l) => `s3://${l.bucket}/${folderPrefix(l.prefix)}`).join(', ')})`
          : 's3:// media are not allowed (the project configures no media.s3Prefixes)',
      );
    return undefined;
  }

  private async s3(
    url: string,
    bucket: string,
    key: string,
    refusal: MediaError | undefined,
  ): Promise<MediaFile> {
    if (refusal) throw refusal;
    if (unsafeKeyReason(key)) throw mediaRefused(url, unsafeKeyReason(key)!);
    if (!this.options.store) throw mediaRefused(url, 'no S3 access is configured');
    if (this.s3Unavailable) throw mediaSkipped(url, this.s3Unavailable);
    const store = await this.options.store(bucket);
    this.checkBytes(url);
    let info: Awaited<ReturnType<ObjectStore['head']>>;
    try {
      info = await store.head(key);
    } catch (err) {
      if (!isMissingCredentials(err)) throw err;
      // Worded alike for this medium and every later one, so a run of several formats reports the
      // image once (the report merges identical entries), not once with each wording.
      this.s3Unavailable = `no AWS credentials (${(err as Error).message}), found at the first s3:// read of this run`;
      throw mediaSkipped(url, this.s3Unavailable);
    }
    if (!info) throw mediaFailed(url, `not found at ${store.description}/${key}`);
    const self = this;
    return {
      name: basename(key),
      size: info.size,
      read: (range?: Range) =>
        (async function* () {
          self.checkBytes(url);
          let body: AsyncIterable<Uint8Array>;
          try {
            body = (await store.get(key, range)).body;
          } catch (err) {
            if (err instanceof NotFoundError) throw mediaFailed(url, 'no such object');
            throw err;
          }
          yield* self.metered(url, body);
        })(),
    };
  }

  // ---- http(s) -------------------------------------------------------------------------------

  /** Why an http(s) URL is refused by the policy (scheme, host list, literal address); undefined = allowed. */
  private urlRefusal(url: URL, http: HttpPolicy): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return `the scheme ${url.protocol} is not allowed`;
    if (url.username || url.password) return 'URLs with credentials are not allowed';
    if (http.mode === 'off') return 'http(s) media are turned off';
    if (http.mode === 'allow' && !hostAllowed(http.hosts, url))
      return `the host ${url.host} is not on the allowed host list`;
    if (http.mode === 'public') {
      const host = canonicalHost(url.hostname);
      if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name`;
    }
    return undefined;
  }

  private async http(raw: string, url: URL): Promise<MediaFile> {
    const http = this.policy.http;
    const why = this.urlRefusal(url, http);
    if (why) throw mediaRefused(raw, why);
    if (http.mode === 'public') {
      // IP literals are checked here already; names are checked on connect.
      const host = canonicalHost(url.hostname);
      const literal = parseIpAddress(host);
      const reason = literal && nonPublicReason(literal);
      if (reason) throw mediaRefused(raw, `${host} is ${reason}`);
    }
    this.hosts.check(raw, url);
    return {
      name: mediaBaseName({ kind: 'http', url }),
      read: (range?: Range) => this.httpRead(raw, url, range),
    };
  }

  private timeBudget(raw: string): AbortSignal {
    const now = this.now();
    if (this.deadline === undefined) {
      this.deadline = now + this.limits.runTimeMs;
      this.deadlineSignal = AbortSignal.timeout(this.limits.runTimeMs);
    }
    if (now >= this.deadline || this.deadlineSignal!.aborted)
      throw mediaRefused(
        raw,
        `the run's time budget for http(s) media (${this.limits.runTimeMs / 1000} s) is used up`,
      );
    return this.deadlineSignal!;
  }

  private async *httpRead(raw: string, url: URL, range?: Range): AsyncGenerator<Uint8Array> {
    this.hosts.check(raw, url);
    this.checkBytes(raw);
    const signal = this.timeBudget(raw);
    const release = await this.slots.acquire();
    try {
      this.hosts.check(raw, url);
      const signalNow = this.timeBudget(raw);
      const http = this.policy.http;
      let res: Awaited<ReturnType<typeof safeGet>>;
      try {
        res = await safeGet(url, {
          policy: http,
          addressCheck: (a) => nonPublicAddressReason(a),
          urlCheck: (u) => this.urlRefusal(u, http) ?? this.hostRefusal(raw, url, u),
          timeoutMs: this.limits.timeoutMs,
          redirects: this.limits.redirects,
          range,
          signal: signalNow,
        });
      } catch (err) {
        throw this.httpError(raw, url, err, signal);
      }
      const body = res.response;
      // A server that ignores the range sends the whole file: skip to the start ourselves.
      let skip = range && body.statusCode === 200 ? range.start : 0;
      let remaining = range ? range.end - range.start : Number.POSITIVE_INFINITY;
      let total = 0;
      const iterator = body[Symbol.asyncIterator]();
      // One listener on the run's budget signal per request (not per chunk).
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => {});
      try {
        while (remaining > 0) {
          let timer: NodeJS.Timeout | undefined;
          const idle = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new HttpHostError(`no data for ${this.limits.timeoutMs / 1000} s`)),
              this.limits.timeoutMs,
            );
          });
          let next: IteratorResult<Buffer>;
          try {
            next = await Promise.race([iterator.next(), idle, aborted]);
          } catch (err) {
            throw this.httpError(raw, url, err, signal);
          } finally {
            clearTimeout(timer);
          }
          if (next.done) break;
          let chunk: Uint8Array = next.value;
          if (skip > 0) {
            const n = Math.min(skip, chunk.length);
            skip -= n;
            chunk = chunk.subarray(n);
          }
          if (chunk.length > remaining) chunk = chunk.subarray(0, remaining);
          remaining -= chunk.length;
          total += chunk.length;
          if (total > this.limits.fileBytes)
            throw mediaRefused(raw, `larger than the limit of ${this.limits.fileBytes} bytes per file`);
          this.countBytes(raw, chunk.length);
          if (chunk.length) yield chunk;
        }
      } finally {
        signal.removeEventListener('abort', onAbort!);
        body.destroy();
      }
    } finally {
      release();
    }
  }

  /**
   * The circuit breaker applied to each request of `first` (redirect targets included): throws
   * mediaSkipped (not a policy refusal, so it is not returned as one); undefined otherwise.
   */
  private hostRefusal(raw: string, first: URL, target: URL): undefined {
    const why = this.hosts.skipped(target, target.host);
    if (!why) return undefined;
    if (target.href === first.href) throw mediaSkipped(raw, why);
    throw mediaSkipped(raw, `redirected to ${displayUrl(target.href)}: ${why}`);
  }

  private httpError(raw: string, url: URL, err: unknown, budget: AbortSignal): MediaError {
    if (err instanceof MediaError) return err;
    if (err instanceof HttpRefusedError) return mediaRefused(raw, err.message);
    if (budget.aborted || (err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') {
      this.hosts.fail(url, raw);
      return mediaRefused(
        raw,
        `the run's time budget for http(s) media (${this.limits.runTimeMs / 1000} s) is used up`,
      );
    }
    if (err instanceof HttpHostError) {
      this.hosts.fail(url, raw);
      return mediaFailed(raw, err.message);
    }
    return mediaFailed(raw, (err as Error).message);
  }

  // ---- bytes ---------------------------------------------------------------------------------

  private checkBytes(raw: string): void {
    if (this.bytesRead >= this.limits.runBytes)
      throw mediaRefused(raw, `the run's byte budget for media (${this.limits.runBytes} bytes) is used up`);
  }

  private countBytes(raw: string, n: number): void {
    this.bytesRead += n;
    if (this.bytesRead > this.limits.runBytes)
      throw mediaRefused(raw, `the run's byte budget for media (${this.limits.runBytes} bytes) is used up`);
  }

  private async *metered(
    raw: string,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      this.countBytes(raw, chunk.length);
      yield chunk;
    }
  }

  /** Bytes read so far in this run (all sources). */
  get bytes(): number {
    return this.bytesRead;
  }
}
