/**
 * Label Studio's media URL shapes in one place: what a task's image/audio value points at. Used by
 * every MediaAccess (CLI and pipeline) so they agree on what `/data/upload/…` means.
 *
 *  - upload: `/data/upload/<path>`, also `upload/<path>` and `/upload/<path>` (Label Studio prepends
 *    `/data`); `?query` and `#fragment` are dropped, the path is percent-decoded;
 *  - local-files: `/data/local-files/?d=<path>` (any `/data/…?d=`), the `d` value percent-decoded;
 *  - s3 / gs / azure-blob: cloud URIs (`s3://bucket/key`, key taken literally);
 *  - http: `http://` or `https://` URLs (parsed with the WHATWG URL parser);
 *  - file: `file:` URLs, the path percent-decoded;
 *  - local: anything else without a scheme (a path on the machine that runs the export);
 *  - unsupported: any other scheme.
 */

export type MediaRef =
  | { kind: 'upload'; path: string }
  | { kind: 'local-files'; path: string }
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'gs' | 'azure-blob'; uri: string }
  | { kind: 'http'; url: URL }
  | { kind: 'file'; path: string }
  | { kind: 'local'; path: string }
  | { kind: 'unsupported'; reason: string };

export type MediaRefKind = MediaRef['kind'];

/** Percent-decoding that keeps malformed escapes as they are. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `upload/…` and `/upload/…` are Label Studio upload paths missing their `/data` prefix. */
export function withDataPrefix(url: string): string {
  return /^\/?upload\//.test(url) ? `/data/${url.replace(/^\//, '')}` : url;
}

/** The text before the first `?` or `#`. */
const withoutQuery = (s: string) => s.split(/[?#]/, 1)[0];

/** Classifies a task's media value (see the module comment); never throws. */
export function parseMediaUrl(raw: string): MediaRef {
  const url = withDataPrefix(raw.trim());
  if (url.startsWith('/data/upload/')) {
    return { kind: 'upload', path: safeDecode(withoutQuery(url.slice('/data/upload/'.length))) };
  }
  const localFiles = /^\/data\/[^?#]*\?(?:.*&)?d=([^&#]*)/.exec(url);
  if (localFiles) return { kind: 'local-files', path: safeDecode(localFiles[1].replace(/\+/g, ' ')) };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1].toLowerCase();
  if (scheme === undefined) return { kind: 'local', path: raw };
  if (scheme === 's3') {
    const m = /^s3:\/\/([^/?#]+)\/(.*)$/i.exec(url);
    if (!m || m[2] === '') return { kind: 'unsupported', reason: 'an s3:// URI needs a bucket and a key' };
    return { kind: 's3', bucket: m[1], key: m[2] };
  }
  if (scheme === 'gs' || scheme === 'azure-blob') return { kind: scheme, uri: url };
  if (scheme === 'http' || scheme === 'https') {
    try {
      return { kind: 'http', url: new URL(url) };
    } catch {
      return { kind: 'unsupported', reason: 'not a valid URL' };
    }
  }
  if (scheme === 'file') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { kind: 'unsupported', reason: 'not a valid file: URL' };
    }
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost')
      return { kind: 'unsupported', reason: 'file: URLs on other hosts are not supported' };
    return { kind: 'file', path: safeDecode(parsed.pathname) };
  }
  // A Windows drive letter (C:\…) is a local path, not a scheme.
  if (/^[A-Za-z]:[\\/]/.test(url)) return { kind: 'local', path: raw };
  return { kind: 'unsupported', reason: `unsupported URL scheme "${scheme}:"` };
}

/** The file name Label Studio would give the media: the basename of its path or key. */
export function mediaBaseName(ref: MediaRef): string {
  const last = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  switch (ref.kind) {
    case 'upload':
    case 'local-files':
    case 'file':
    case 'local':
      return last(ref.path);
    case 's3':
      return last(ref.key);
    case 'http':
      return last(ref.url.pathname);
    case 'gs':
    case 'azure-blob':
      return last(withoutQuery(ref.uri));
    default:
      return '';
  }
}
