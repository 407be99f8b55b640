/**
 * Writes one aggregate file from pieces: fresh bytes (changed segments, frame literals) and byte
 * ranges of the file's previous version (unchanged segments). Below `minMultipartBytes` (default
 * 16 MiB) the file is put whole: the previous ranges are read back (one ranged GET per contiguous
 * run) and the bytes hashed — a file equal to the previous one is not written. From that size on
 * (and when the store can assemble) it is one multipart upload: a run of previous bytes ≥ 5 MiB
 * is copied server-side (UploadPartCopy from the previous version, pinned by its version id);
 * fresh bytes and shorter runs are uploaded, topped up to 5 MiB from the next copied run where a
 * part would be too small (S3: every part but the last ≥ 5 MiB). Such a file's manifest `sha256`
 * is the SHA-256 of its chunks' SHA-256 digests (`sha256Of: "chunks"`), since its bytes never pass
 * through the render.
 */
import { createHash } from 'node:crypto';
import { type AssemblyPart, MIN_PART_BYTES, type ObjectStore, readAll } from '../core/object-store.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { readSpooled, type SpoolRef } from './segments-spool.ts';

/** Files below this size are put whole; from it on they are assembled with UploadPartCopy. */
export const DEFAULT_MULTIPART_BYTES = 16 * 1024 * 1024;
/** A group of uploaded bytes is closed at this size (a longer run of fresh bytes goes on growing it). */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
/**
 * Most bytes of one uploaded part: a group is cut into equal parts no larger (each ≥ 5 MiB when
 * there are several). Under the 11 MiB request bodies a local S3 server (fauxqs) accepts.
 */
export const MAX_UPLOAD_PART_BYTES = 10 * 1024 * 1024;
/** Most bytes of one copied part (UploadPartCopy): S3's limit, 5 GiB. */
export const MAX_COPY_PART_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * A piece of the new file: fresh bytes, a spooled body (`lead` separator first; read when it is
 * written), or `[start, end)` of the previous version.
 */
export type Piece =
  | { bytes: Buffer; sha256: string }
  | { spooled: SpoolRef; lead?: string; sha256: string }
  | { prev: { start: number; end: number }; sha256: string };

export const pieceBytes = (p: Piece) =>
  'bytes' in p
    ? p.bytes.length
    : 'spooled' in p
      ? Buffer.byteLength(p.lead ?? '') + p.spooled.bytes
      : p.prev.end - p.prev.start;

/** A fresh or spooled piece's bytes (a spooled one read back now). */
async function freshBytes(p: Exclude<Piece, { prev: unknown }>): Promise<Buffer> {
  if ('bytes' in p) return p.bytes;
  const body = await readSpooled(p.spooled);
  return p.lead ? Buffer.concat([Buffer.from(p.lead), body]) : body;
}

export interface AssembleIo {
  /** Bytes of the previous version read back (ranged GETs) and requests doing it. */
  readBytes: number;
  reads: number;
  /** Bytes uploaded (PUT or UploadPart) and bytes copied server-side. */
  uploadedBytes: number;
  copiedBytes: number;
  parts: number;
  /**
   * Most aggregate bytes held at once while assembling (fresh bodies read back, previous ranges
   * read for a put, uploaded parts of one multipart file); spooled bodies are not counted until read.
   */
  peakHeldBytes?: number;
  /**
   * Most bytes the render's spool (segments-spool.ts: /tmp on Lambda) held at once: rendered
   * segments' raw bodies in-process, and the bodies made for the file being assembled.
   */
  spoolPeakBytes?: number;
}

export interface AssembleResult {
  entry: WrittenFile;
  written: boolean;
}

/** Runs of previous bytes merged where contiguous (fresh pieces left as they are). */
function mergeRuns(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    if (pieceBytes(p) === 0) continue;
    const last = out.at(-1);
    if ('prev' in p && last && 'prev' in last && last.prev.end === p.prev.start) {
      out[out.length - 1] = { prev: { start: last.prev.start, end: p.prev.end }, sha256: '' };
    } else out.push(p);
  }
  return out;
}

/**
 * Writes `key` from `pieces`. `previous`: the manifest entry of the file's previous version (the
 * source of `prev` pieces); required when any piece is `prev`. Throws what the store throws.
 */
export async function assembleFile(input: {
  store: ObjectStore;
  key: string;
  path: string;
  pieces: Piece[];
  previous?: WrittenFile;
  minMultipartBytes?: number;
  /** Smallest part but the last (S3: 5 MiB; tests of the part planning use less). */
  minPartBytes?: number;
  /** Write even when the bytes equal the previous version's (the key may not hold that version). */
  alwaysWrite?: boolean;
  io: AssembleIo;
}): Promise<AssembleResult> {
  const MIN_PART = input.minPartBytes ?? MIN_PART_BYTES;
  const { store, key, path, previous, io } = input;
  const total = input.pieces.reduce((n, p) => n + pieceBytes(p), 0);
  const runs = mergeRuns(input.pieces);
  if (
    previous &&
    !input.alwaysWrite &&
    runs.length === 1 &&
    'prev' in runs[0] &&
    runs[0].prev.start === 0 &&
    total === previous.bytes
  )
    return { entry: previous, written: false };
  const needPrev = runs.some((r) => 'prev' in r);
  if (needPrev && !previous) throw new Error(`${key}: pieces refer to a previous version that is not known`);
  const readPrev = async (start: number, end: number): Promise<Buffer> => {
    const r = await store.get(previous!.key, { start, end }, previous!.versionId);
    const b = await readAll(r.body);
    io.reads++;
    io.readBytes += b.length;
    if (b.length !== end - start)
      throw new Error(`${previous!.key}: expected ${end - start} bytes at ${start}, read ${b.length}`);
    return b;
  };
  const hold = (n: number) => {
    io.peakHeldBytes = Math.max(io.peakHeldBytes ?? 0, n);
  };
  const multipart =
    total >= (input.minMultipartBytes ?? DEFAULT_MULTIPART_BYTES) && !!store.assemble && needPrev;
  if (!multipart) {
    // Streamed one piece at a time: hashed then put when it may equal the previous version (to skip
    // an unchanged file), else hashed while put. Previous ranges (a file below the multipart size,
    // or a store without assemble) are read once and kept.
    const prevBytes = new Map<Piece, Buffer>();
    let prevHeld = 0;
    for (const r of runs)
      if ('prev' in r) {
        const b = await readPrev(r.prev.start, r.prev.end);
        prevBytes.set(r, b);
        prevHeld += b.length;
      }
    const bytesOf = async (r: Piece): Promise<Buffer> => {
      const b = 'prev' in r ? prevBytes.get(r)! : await freshBytes(r);
      hold(prevHeld + ('prev' in r ? 0 : b.length));
      return b;
    };
    const hash = createHash('sha256');
    let bytes = 0;
    let put: Awaited<ReturnType<ObjectStore['putStream']>>;
    // Streamed (multipart on S3 past its part size), so a large fresh file is not one PUT body.
    const streamed = (onPiece?: (p: Buffer) => void) =>
      store.putStream(
        key,
        (async function* () {
          for (const r of runs) {
            const p = await bytesOf(r);
            onPiece?.(p);
            yield p;
          }
        })(),
      );
    if (previous && !input.alwaysWrite && previous.bytes === total && !previous.sha256Of) {
      // Maybe unchanged: hashed first, written only when it differs.
      for (const r of runs) {
        const p = await bytesOf(r);
        hash.update(p);
        bytes += p.length;
      }
      if (previous.sha256 === hash.copy().digest('hex')) return { entry: previous, written: false };
      put = await streamed();
    } else {
      // Surely written (no previous version of this size): hashed while it is put, one read.
      put = await streamed((p) => {
        hash.update(p);
        bytes += p.length;
      });
    }
    const digest = hash.digest('hex');
    io.uploadedBytes += bytes;
    io.parts++;
    return {
      entry: {
        path,
        key,
        bytes: bytes,
        sha256: digest,
        ...(put.versionId ? { versionId: put.versionId } : {}),
      },
      written: true,
    };
  }
  // Multipart: plan parts, then upload them.
  const plan: Array<{ upload: Piece[] } | { copy: { start: number; end: number } }> = [];
  let pending: Piece[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pending.length) plan.push({ upload: pending });
    pending = [];
    pendingBytes = 0;
  };
  for (const r0 of runs) {
    let r = r0;
    if ('prev' in r && pieceBytes(r) >= MIN_PART) {
      if (pendingBytes > 0 && pendingBytes < MIN_PART) {
        const need = MIN_PART - pendingBytes;
        if (pieceBytes(r) - need >= MIN_PART) {
          pending.push({ prev: { start: r.prev.start, end: r.prev.start + need }, sha256: '' });
          pendingBytes += need;
          r = { prev: { start: r.prev.start + need, end: r.prev.end }, sha256: '' };
        } else {
          pending.push(r);
          pendingBytes += pieceBytes(r);
          continue;
        }
      }
      flush();
      // S3 copies at most 5 GiB per part: a longer run is cut into equal parts (each > 2.5 GiB).
      const { start, end } = r.prev;
      const n = Math.ceil((end - start) / MAX_COPY_PART_BYTES);
      for (let k = 0; k < n; k++)
        plan.push({
          copy: {
            start: start + Math.floor((k * (end - start)) / n),
            end: start + Math.floor(((k + 1) * (end - start)) / n),
          },
        });
    } else {
      pending.push(r);
      pendingBytes += pieceBytes(r);
      if (pendingBytes >= UPLOAD_PART_BYTES) flush();
    }
  }
  flush();
  // Uploaded parts are made when the store sends them (a folder store: in order, one at a time; S3:
  // ASSEMBLE_CONCURRENCY at a time), so the step holds a bounded number of parts (each ≤
  // MAX_UPLOAD_PART_BYTES) whatever the number of changed segments.
  const parts: AssemblyPart[] = [];
  let cached: { piece: Piece; bytes: Buffer } | undefined;
  const pieceText = async (x: Exclude<Piece, { prev: unknown }>): Promise<Buffer> => {
    if (cached?.piece !== x) cached = { piece: x, bytes: await freshBytes(x) };
    return cached.bytes;
  };
  /** Bytes `[from, to)` of an upload group (its pieces laid end to end). */
  const readGroup = async (group: Piece[], from: number, to: number): Promise<Buffer> => {
    const bufs: Buffer[] = [];
    let at = 0;
    for (const x of group) {
      const n = pieceBytes(x);
      const a = Math.max(from, at);
      const b = Math.min(to, at + n);
      if (a < b) {
        if ('prev' in x) bufs.push(await readPrev(x.prev.start + a - at, x.prev.start + b - at));
        else bufs.push((await pieceText(x)).subarray(a - at, b - at));
      }
      at += n;
      if (at >= to) break;
    }
    const body = Buffer.concat(bufs);
    hold(body.length + (cached?.bytes.length ?? 0));
    return body;
  };
  for (const p of plan) {
    if ('copy' in p) {
      parts.push({ copy: { key: previous!.key, versionId: previous!.versionId, ...p.copy } });
      io.copiedBytes += p.copy.end - p.copy.start;
    } else {
      const group = p.upload;
      const size = group.reduce((n, x) => n + pieceBytes(x), 0);
      io.uploadedBytes += size;
      // n equal parts of ≤ MAX_UPLOAD_PART_BYTES: with n ≥ 2 each is > (n − 1) / n of the maximum,
      // so ≥ half of it (5 MiB, S3's minimum).
      const cut = (from: number, to: number) =>
        parts.push({ upload: { bytes: to - from, read: () => readGroup(group, from, to) } });
      const n = Math.max(1, Math.ceil(size / MAX_UPLOAD_PART_BYTES));
      for (let k = 0; k < n; k++) cut(Math.floor((k * size) / n), Math.floor(((k + 1) * size) / n));
    }
  }
  io.parts += parts.length;
  const put = await store.assemble!(key, parts);
  const tree = createHash('sha256');
  for (const p of input.pieces) tree.update(`${p.sha256}\n`);
  return {
    entry: {
      path,
      key,
      bytes: total,
      sha256: tree.digest('hex'),
      sha256Of: 'chunks',
      ...(put.versionId ? { versionId: put.versionId } : {}),
    },
    written: true,
  };
}
