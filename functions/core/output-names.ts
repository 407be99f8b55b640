/**
 * Output file names derived from task data (image, audio and mask names), made safe for every place
 * an export is written: a folder (255 bytes per path segment), an S3 prefix (1,024 bytes per key,
 * the sink's prefix included) and a zip (no `..`, `\` taken as a separator).
 *
 * One rule, used by every writer that makes a name from task data: a name Label Studio's converter
 * could write is kept byte for byte. A name that would break is mapped:
 *  - `/`, `\`, C0 control characters (NUL included), DEL, lone UTF-16 surrogates and the
 *    bidirectional formatting controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)
 *    become `_`;
 *  - a segment `.` or `..` (or an empty one) becomes underscores;
 *  - a name longer than its byte budget is cut at a UTF-8 character boundary;
 *  - a mapped name always ends in `~<hash>` before its extension, the hash taken over the whole
 *    original name, so different names stay different and the same name maps the same way in every
 *    run, writer and sink (no state, no order dependence).
 * The extension (up to 16 bytes) is kept, so a mapped image still opens as an image and YOLO's
 * `labels/<stem>.txt` still pairs with `images/<stem>.<ext>`.
 *
 * The byte budget: 255 per segment, and, when the sink reports one (`OutputSink.maxPathBytes`, the
 * store's key limit minus its prefix), whatever the whole relative path has left.
 */
import { createHash } from 'node:crypto';

/** Most bytes of one path segment on common file systems (ext4, APFS, NTFS in UTF-16 units). */
export const MAX_SEGMENT_BYTES = 255;
/** S3's limit on a key, in UTF-8 bytes. */
export const S3_MAX_KEY_BYTES = 1024;
/** An extension longer than this is not kept apart when a name is shortened. */
const MAX_EXT_BYTES = 16;
/** Hex digits of the SHA-256 of the original name in a mapped name. */
const HASH_HEX = 10;

// Separators, C0 controls, DEL, UTF-16 surrogates not part of a pair (with /u only lone ones match),
// and the bidirectional formatting controls (ALM U+061C, LRM/RLM U+200E–F, embeddings and overrides
// U+202A–E, isolates U+2066–9), which make a name display differently from its bytes ("Trojan
// Source": `x<U+202E>gnp.exe` shows as `xexe.png`).
const UNSAFE = /[/\\\u0000-\u001f\u007f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The longest prefix of `s` of at most `max` UTF-8 bytes, cut between characters (code points). */
export function cutUtf8(s: string, max: number): string {
  if (utf8Bytes(s) <= max) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = utf8Bytes(ch);
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/** A short stable hash of a name (SHA-256 of its UTF-8 bytes, first 10 hex digits). */
export function nameHash(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_HEX);
}

/** The last extension of a segment (`.png`), leading dots of the name not counting; '' if none. */
function extensionOf(segment: string): string {
  const dot = segment.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(segment.slice(0, dot + 1))) return '';
  const ext = segment.slice(dot);
  return utf8Bytes(ext) <= MAX_EXT_BYTES ? ext : '';
}

/**
 * One path segment made safe within `maxBytes` UTF-8 bytes (255 by default). Returns `name`
 * itself when it is already safe; otherwise `<cleaned stem, cut>~<hash>.<ext>` as described above.
 * With a budget too small even for the hash and extension, the result is the hash cut to the
 * budget (a write under it may still fail; sinks report that as one skipped file).
 */
export function safeSegment(name: string, maxBytes = MAX_SEGMENT_BYTES): string {
  const limit = Math.min(maxBytes, MAX_SEGMENT_BYTES);
  return isSafeSegment(name, limit) ? name : mappedSegment(name, limit);
}

/** Whether `name` is kept as it is by `safeSegment` within `limit` bytes. */
function isSafeSegment(name: string, limit: number): boolean {
  UNSAFE.lastIndex = 0;
  const dotsOnly = name === '' || name === '.' || name === '..';
  return !dotsOnly && !UNSAFE.test(name) && utf8Bytes(name) <= limit;
}

/**
 * `name` mapped as `safeSegment` maps an unsafe name: `<cleaned stem, cut>~<hash of name><ext>`.
 * `ext` replaces the name's own extension (a label file named after its image); the stem is then
 * cut to leave room for the longer of the two, so with extensions of equal length the stem is the
 * one the image gets.
 */
function mappedSegment(name: string, limit: number, ext?: string): string {
  const cleaned = name.replace(UNSAFE, '_');
  const dotsOnly = cleaned === '' || cleaned === '.' || cleaned === '..';
  const base = dotsOnly ? '_'.repeat(Math.max(cleaned.length, 1)) : cleaned;
  const own = extensionOf(base);
  const stem = base.slice(0, base.length - own.length);
  const hash = `~${nameHash(name)}`;
  const tail = hash + (ext ?? own);
  const room = limit - utf8Bytes(hash) - Math.max(utf8Bytes(own), utf8Bytes(ext ?? own));
  if (room < 0) return cutUtf8(nameHash(name), Math.max(limit, 1));
  return cutUtf8(stem, room) + tail;
}

/** What a sink tells writers about its name limits (see OutputSink.maxPathBytes). */
export interface NameLimits {
  /** Most UTF-8 bytes of a whole relative path in this output; undefined = per segment only. */
  maxPathBytes?: number;
}

/**
 * The relative path `<dir>/<name>` for a file named after task data: `dir` is the writer's own
 * folder (`labels`, `images`, `''` for the output root; trusted, never from data), `name` one
 * segment derived from data, made safe with `safeSegment` within what the sink's path budget
 * leaves after `dir/`.
 */
export function outputPath(limits: NameLimits | undefined, dir: string, name: string): string {
  const lead = dir ? `${dir}/` : '';
  return lead + safeSegment(name, segmentBudget(limits, lead));
}

/** The bytes left for one segment under `lead` (`dir/` or ''). */
function segmentBudget(limits: NameLimits | undefined, lead: string): number {
  return limits?.maxPathBytes === undefined
    ? MAX_SEGMENT_BYTES
    : Math.min(MAX_SEGMENT_BYTES, limits.maxPathBytes - utf8Bytes(lead));
}

/**
 * The relative path `<dir>/<name>` of a file that goes with an image: YOLO's `labels/<stem>.txt`,
 * VOC's `Annotations/<stem>.xml`. `name` is the writer's own (Label Studio's) name for it, ending
 * in `ext`; it is kept byte for byte when safe. Otherwise the file is named the way the image
 * itself is mapped (the same cleaned stem and the same `~<hash>`, the hash taken over `imageName`,
 * not over `name`), with `ext` for its extension, so `labels/<stem>.txt` pairs with
 * `images/<stem>.<ext>` and the file has the same stem in every export of the project (labels only
 * or with images). `imageName` is the image's file name before mapping (the reference's name).
 */
export function companionPath(
  limits: NameLimits | undefined,
  dir: string,
  imageName: string,
  name: string,
  ext: string,
): string {
  const lead = dir ? `${dir}/` : '';
  const budget = Math.min(segmentBudget(limits, lead), MAX_SEGMENT_BYTES);
  return lead + (isSafeSegment(name, budget) ? name : mappedSegment(imageName, budget, ext));
}

/** `outputPath` without the folder: the file name alone (`images/<this>`). */
export function outputName(limits: NameLimits | undefined, dir: string, name: string): string {
  return outputPath(limits, dir, name).slice(dir ? dir.length + 1 : 0);
}

/**
 * Whether a write failed because of the file's name (or path), not because of the store: too long
 * (ENAMETOOLONG, S3 KeyTooLongError), not encodable (EILSEQ, a NUL byte), taken by a folder or
 * under a file (EISDIR, ENOTDIR), escaping the output, or refused as a zip entry. Such a failure
 * concerns one file: the sink reports it and the export goes on. Anything else (a full disk, an
 * S3 outage, a failed part) still fails the export.
 */
export function isOutputNameError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof OutputNameError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && ['ENAMETOOLONG', 'EILSEQ', 'EISDIR', 'ENOTDIR'].includes(code)) return true;
  if (code === 'ERR_INVALID_ARG_VALUE' && err.message.includes('null bytes')) return true;
  const name = err.name;
  return name === 'KeyTooLongError' || (err as { Code?: string }).Code === 'KeyTooLongError';
}

/** A path the output refuses by its shape (escaping the folder, an invalid zip entry). */
export class OutputNameError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${reason}: ${JSON.stringify(path)}`);
    this.name = 'OutputNameError';
  }
}
