/**
 * How Label Studio's converter names an image it references (docs/label-studio-behaviour.md#image-naming): the path its
 * media resolver (`get_local_path` / `download_and_cache`) returns, which COCO writes as
 * `file_name` and YOLO/VOC turn into label file names. Pure functions over URL strings; whether a
 * file exists or could be fetched is decided by the caller and passed in.
 *
 * The reference's behaviour depends on its environment:
 *  - a Label Studio hostname (`LABEL_STUDIO_URL`) plus an access token turn upload, local-files,
 *    storage-proxy and cloud URLs into downloadable URLs, and so into hashed cache names
 *    `<md5_8(final URL)>__<name>`;
 *  - without a hostname those URLs raise, and the exporters fall back to the raw value (plain
 *    basename, e.g. `/data/upload/18/image1.jpg` → `image1.jpg`).
 * We take the hostname from the `hostname` export option and assume a token comes with it (Label
 * Studio always has one). With no hostname configured — the default — we reproduce the
 * no-hostname behaviour: raw basenames for those URL kinds.
 */
import { createHash } from 'node:crypto';

export type ImageUrlKind = 'local-files' | 'upload' | 'storage-proxy' | 'cloud' | 'other';

/** Python `os.path.basename` (POSIX): the text after the last `/`. */
export function pyBasename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Python `os.path.splitext` (POSIX): a last extension, leading dots of the name not counting. */
export function pySplitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) {
      if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
    }
  }
  return [p, ''];
}

/** The first 8 hex digits of the MD5 of a string's UTF-8 bytes. */
export function md5Prefix(key: string): string {
  return createHash('md5').update(key, 'utf8').digest('hex').slice(0, 8);
}

/** The reference's cache file name: `<md5_8(key)>__<filename>`. */
export function cacheFileName(key: string, filename: string): string {
  return `${md5Prefix(key)}__${filename}`;
}

export interface UrlParts {
  scheme: string;
  netloc: string;
  path: string;
  params: string;
  query: string;
  fragment: string;
}

const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// Schemes whose last path segment may carry `;params` (Python's urllib.parse.uses_params).
const USES_PARAMS = new Set([
  '',
  'ftp',
  'hdl',
  'prospero',
  'http',
  'imap',
  'https',
  'shttp',
  'rtsp',
  'rtsps',
  'rtspu',
  'sip',
  'sips',
  'mms',
  'sftp',
  'tel',
]);

/** Python's `urllib.parse.urlparse`, enough of it to find a URL's path as the reference does. */
export function urlParse(input: string): UrlParts {
  // Leading C0 controls and spaces are stripped, tabs and newlines removed (Python ≥ 3.11.4).
  let url = input.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  let netloc = '';
  let params = '';
  let query = '';
  let fragment = '';
  const colon = url.indexOf(':');
  if (colon > 0 && SCHEME_CHARS.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon).toLowerCase();
    url = url.slice(colon + 1);
  }
  if (url.startsWith('//')) {
    let end = url.length;
    for (const c of '/?#') {
      const i = url.indexOf(c, 2);
      if (i >= 0 && i < end) end = i;
    }
    netloc = url.slice(2, end);
    url = url.slice(end);
  }
  const hash = url.indexOf('#');
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  if (USES_PARAMS.has(scheme) && url.includes(';')) {
    const i = url.includes('/') ? url.indexOf(';', url.lastIndexOf('/')) : url.indexOf(';');
    if (i >= 0) {
      params = url.slice(i + 1);
      url = url.slice(0, i);
    }
  }
  return { scheme, netloc, path: url, params, query, fragment };
}

/** Python's `urllib.parse.unquote` (UTF-8, invalid sequences replaced), with `+` as space when asked. */
export function pyUnquote(s: string, plusAsSpace = false): string {
  const text = plusAsSpace ? s.replace(/\+/g, ' ') : s;
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; ) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    for (const b of encoder.encode(ch)) bytes.push(b);
    i += ch.length;
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}

/** `parse_qs(query).get(name, [None])[0]`: the first non-blank value of a query parameter. */
export function queryParam(query: string, name: string): string | undefined {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue; // no "=": dropped (keep_blank_values=False)
    const value = part.slice(eq + 1);
    if (value === '') continue;
    if (pyUnquote(part.slice(0, eq), true) === name) return pyUnquote(value, true);
  }
  return undefined;
}

/** Label Studio's `concat_urls`. */
export function concatUrls(base: string, url: string): string {
  return `${base.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/** `upload/…` and `/upload/…` are Label Studio upload paths missing their `/data` prefix. */
export function normaliseUploadUrl(url: string): string {
  if (url.startsWith('upload') || url.startsWith('/upload'))
    return `/data${url.startsWith('/') ? '' : '/'}${url}`;
  return url;
}

export const isCloudUri = (url: string): boolean =>
  url.startsWith('s3:') || url.startsWith('gs:') || url.startsWith('azure-blob:');

/** Which branch of the reference resolver a URL takes (after upload normalisation). */
export function imageUrlKind(rawUrl: string): ImageUrlKind {
  const url = normaliseUploadUrl(rawUrl);
  if (url.startsWith('/data/') && url.includes('?d=')) return 'local-files';
  if (url.startsWith('/data/upload')) return 'upload';
  if (isCloudUri(url)) return 'cloud';
  const path = urlParse(url).path;
  if (path.startsWith('/storage-data/uploaded') || path.startsWith('storage-data/uploaded'))
    return 'storage-proxy';
  return 'other';
}

/**
 * A value the reference may find as an existing local path (it checks `os.path.exists` first):
 * no URL scheme and none of Label Studio's URL shapes. Only such values are worth probing.
 */
export function isLocalPathCandidate(raw: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw)) return false;
  return imageUrlKind(raw) === 'other';
}

/** The text after `?d=` of a local-files URL. */
const localFilesPart = (url: string): string => url.split('?d=')[1] ?? '';

/** An upload URL rewritten to the storage proxy, as the reference does before downloading it. */
function storageProxy(url: string): { url: string; filepath: string } {
  let uploadPath = url.replace(/^\/+/, '');
  if (uploadPath.startsWith('data/')) uploadPath = uploadPath.slice('data/'.length);
  const filepath = queryParam(urlParse(url).query, 'filepath') ?? uploadPath;
  return { url: `/storage-data/uploaded/?filepath=${filepath}`, filepath };
}

/** The final URL and file name of a storage-proxy download. */
function storageProxyTarget(
  url: string,
  hostname: string,
  filepath?: string,
): { key: string; filename: string } {
  const parts = urlParse(url);
  let key = concatUrls(hostname, parts.path || '/storage-data/uploaded/');
  if (parts.query) key += `?${parts.query}`;
  const sfp = filepath ?? queryParam(parts.query, 'filepath');
  const filename = pyBasename(sfp ?? '') || pyBasename(urlParse(key).path);
  return { key, filename };
}

export interface ReferencePath {
  /**
   * - `cache`: a `<md5_8>__<name>` file in the image dir (downloaded, or named so without download);
   * - `source`: found at its source (upload folder, local-files root) and kept under its own name;
   * - `raw`: resolution failed (or was not attempted) and the raw value is used.
   */
  kind: 'cache' | 'source' | 'raw';
  /** The file name (`images/<name>` for cache and source files). */
  name: string;
}

export interface LabelOnlyEnv {
  /** Label Studio's URL, as `LABEL_STUDIO_URL`; undefined = not configured. */
  hostname?: string;
  /** The task id (cloud URIs need one to be presigned). */
  taskId?: unknown;
  /** An upload URL's file was found in the upload folder. */
  uploadFound?: boolean;
  /** A local-files URL's file was found under the local-files root. */
  localFilesFound?: boolean;
}

/**
 * The reference's resolution when it does not download (COCO, YOLO, YOLO_OBB; VOC when downloads
 * are off). Values that exist as local paths are handled by the caller before this.
 */
export function labelOnlyReferencePath(raw: string, env: LabelOnlyEnv = {}): ReferencePath {
  const rawResult: ReferencePath = { kind: 'raw', name: pyBasename(raw) };
  const url = normaliseUploadUrl(raw);
  const kind = imageUrlKind(url);
  const host = env.hostname;
  switch (kind) {
    case 'local-files': {
      if (env.localFilesFound) return { kind: 'source', name: pyBasename(localFilesPart(url)) };
      if (!host) return rawResult;
      const key = concatUrls(host, url);
      return { kind: 'cache', name: cacheFileName(key, pyBasename(localFilesPart(key))) };
    }
    case 'upload': {
      if (env.uploadFound) return { kind: 'source', name: pyBasename(url) };
      if (!host) return rawResult;
      const proxy = storageProxy(url);
      const target = storageProxyTarget(proxy.url, host, proxy.filepath);
      return { kind: 'cache', name: cacheFileName(target.key, target.filename) };
    }
    case 'storage-proxy': {
      if (!host) return rawResult;
      const target = storageProxyTarget(url, host);
      return { kind: 'cache', name: cacheFileName(target.key, target.filename) };
    }
    case 'cloud': {
      if (!host || env.taskId === undefined || env.taskId === null) return rawResult;
      return { kind: 'cache', name: cacheFileName(url, pyBasename(url)) };
    }
    default:
      return { kind: 'cache', name: cacheFileName(url, pyBasename(urlParse(url).path)) };
  }
}

/**
 * The name of an image the reference downloaded (or copied) into its image dir, for an image we
 * fetched through our own media access: uploads keep their basename, everything else gets the
 * hashed cache name (cloud URIs hashed on the URI itself, as the reference does).
 */
export function fetchedReferenceName(raw: string, hostname?: string): string {
  const url = normaliseUploadUrl(raw);
  switch (imageUrlKind(url)) {
    case 'local-files':
      return cacheFileName(url, pyBasename(localFilesPart(url)));
    case 'upload':
      return pyBasename(url);
    case 'storage-proxy': {
      const target = storageProxyTarget(url, hostname ?? '');
      return cacheFileName(hostname ? target.key : url, target.filename);
    }
    case 'cloud':
      return cacheFileName(url, pyBasename(url));
    default:
      return cacheFileName(url, pyBasename(urlParse(url).path));
  }
}

/** YOLO's label stem: the name without its last extension, cut to 251 characters (code points). */
export function labelStem(name: string): string {
  const stem = pySplitext(pyBasename(name))[0];
  const cps = [...stem];
  return cps.length > 251 ? cps.slice(0, 251).join('') : stem;
}
