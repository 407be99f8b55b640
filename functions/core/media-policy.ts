/**
 * The media policy: which media a task may make an export read. Task data is untrusted, so every
 * MediaAccess is built from one explicit MediaPolicy (CLI flags or the project's pipeline config)
 * and checks it before any request (functions/storage/media.ts). This module holds the policy's
 * shape and its pure decisions (S3 prefix and host confinement); docs/media-policy.md explains it.
 */
import { formatIp, parseIpAddress } from './ip-address.ts';

/** An S3 location: a bucket and a key prefix (`''` = the whole bucket). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/**
 * http(s) media:
 *  - `off`: never fetched;
 *  - `public`: any host whose address (checked on connect, after DNS) is public unicast;
 *  - `allow`: only these hosts (`name`, `name:port`, `*.suffix`, IP literals), whatever they resolve to;
 *  - `any`: any host (the CLI's default: the user's own Label Studio often runs on localhost).
 */
export type HttpPolicy =
  | { mode: 'off' }
  | { mode: 'public' }
  | { mode: 'any' }
  | { mode: 'allow'; hosts: readonly string[] };

/** Bounds on the media one export run may fetch; what exceeds them is refused and reported. */
export interface MediaLimits {
  /** Connect + response headers of one http(s) request, and the longest pause between body chunks, ms. */
  timeoutMs: number;
  /** Wall time for all http(s) media of one run, from its first request, ms. */
  runTimeMs: number;
  /** Bytes of all media one run may read (every source). */
  runBytes: number;
  /** Bytes of one http(s) file. */
  fileBytes: number;
  /** http(s) requests at once. */
  concurrency: number;
  /** Failures (timeouts, connection errors, 5xx) after which a host's further URLs are refused at once. */
  hostFailures: number;
  /** Redirects followed per request, each one checked like the first URL. */
  redirects: number;
}

export const DEFAULT_MEDIA_LIMITS: MediaLimits = {
  timeoutMs: 5_000,
  runTimeMs: 120_000,
  runBytes: 8 * 1024 ** 3,
  fileBytes: 512 * 1024 ** 2,
  concurrency: 8,
  hostFailures: 2,
  redirects: 3,
};

export interface MediaPolicy {
  /**
   * Where Label Studio's `/data/upload/…` files are: a local copy of its upload folder (CLI
   * `--upload-dir`) or an S3 prefix (the pipeline's `media.uploadPrefix`); absent = refused.
   */
  upload?: { dir: string } | { s3: S3Location };
  /**
   * Local folders whose files plain paths, `file:` URLs and local-files URLs may name. Empty (the
   * pipeline): no task-referenced local file is ever read.
   */
  localRoots: readonly string[];
  /**
   * Why a local file is refused when `localRoots` is empty, naming the knob of the caller (the CLI's
   * `--media-root`, the pipeline's media settings); default "none are configured".
   */
  noLocalRootsReason?: string;
  /** `s3://` media: `any` (the CLI, with the user's own credentials) or only under these prefixes. */
  s3: 'any' | readonly S3Location[];
  http: HttpPolicy;
  limits: MediaLimits;
}

/** Parses `s3://bucket/prefix` into a location; throws Error for anything else. */
export function s3Location(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1], prefix: m[2] };
}

/** A prefix as a key-prefix filter: `''` or ending in exactly one `/` (`raw` and `raw/` mean one folder). */
export function folderPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * Why an S3 key cannot be used as given: `.`/`..` segments (also percent-encoded), backslashes or
 * control characters, which some layers normalise and so could leave the allowed prefix.
 */
export function unsafeKeyReason(key: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'the key has control characters or backslashes';
  let decoded = key;
  for (let i = 0; i < 3; i++) {
    const next = decoded.replace(/%2e/gi, '.').replace(/%2f/gi, '/');
    if (next === decoded) break;
    decoded = next;
  }
  for (const k of new Set([key, decoded])) {
    if (k.split('/').some((seg) => seg === '.' || seg === '..')) return 'the key has "." or ".." segments';
  }
  return undefined;
}

/** True when `bucket`/`key` lies under one of the locations (prefix match on folder prefixes). */
export function s3KeyAllowed(locations: readonly S3Location[], bucket: string, key: string): boolean {
  return locations.some((l) => l.bucket === bucket && key.startsWith(folderPrefix(l.prefix)));
}

/** True when two key prefixes of one bucket overlap (one lies under the other). */
export function prefixesOverlap(a: string, b: string): boolean {
  const fa = folderPrefix(a);
  const fb = folderPrefix(b);
  return fa.startsWith(fb) || fb.startsWith(fa);
}

/** A host name for comparisons: lower case, no brackets, IP literals canonical (IPv4-mapped as IPv4). */
export function canonicalHost(host: string): string {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const ip = parseIpAddress(h);
  return ip ? formatIp(ip) : h;
}

/**
 * True when a URL's host (and port) is on an allow-list. Entries: `host` (any port), `host:port`,
 * `[v6]:port`, or `*.example.com` (subdomains only).
 */
export function hostAllowed(hosts: readonly string[], url: URL): boolean {
  const host = canonicalHost(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return hosts.some((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(entry.trim());
    if (!m) return false;
    if (m[2] !== undefined && m[2] !== port) return false;
    const want = m[1].toLowerCase();
    if (want.startsWith('*.')) return host.endsWith(want.slice(1));
    return canonicalHost(want) === host;
  });
}

/** Parses a CLI/config http policy: `off`, `public`, `any`, or a comma-separated host list. */
export function parseHttpPolicy(text: string): HttpPolicy {
  const t = text.trim();
  if (t === 'off' || t === 'public' || t === 'any') return { mode: t };
  const hosts = t
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0) throw new Error('expected off, public, any, or a comma-separated list of hosts');
  return { mode: 'allow', hosts };
}
