/**
 * One aggregate file of a `latest/` render by segments (step 3, segments-merge.ts): lays the file
 * out as frame + one chunk per segment and stream, by its codec (JSON array, concatenated text,
 * CSV/TSV with merged columns, COCO and BRUSH_TO_COCO with image/annotation id offsets and merged
 * categories), and writes it (segments-assemble.ts) from fresh bodies of rendered segments and
 * ranges of its previous version for the others (shifted or re-laid when ids or columns moved).
 * Fresh and transformed bodies go through the render's spool one at a time. Returns the file's
 * layout for the segment index; throws Fallback when the segments cannot reproduce it byte for byte.
 */

import { createHash } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { readAll } from '../core/object-store.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { Chunk, FileLayout, SegmentEntry, SegmentPlacement } from './segments.ts';
import { type AssembleIo, assembleFile, type Piece } from './segments-assemble.ts';
import {
  brushCategoriesText,
  brushCocoFrame,
  COCO_SEP,
  CodecShapeError,
  categoryName,
  cocoFrame,
  concatBody,
  csvHeaderColumns,
  csvHeaderLine,
  csvRelayable,
  mapCategoryIds,
  mergeCsvColumns,
  relayCsv,
  SEQ_SEP,
  seqBody,
  sha256,
  shiftIds,
  splitBrushCoco,
  splitCoco,
  withCategoryId,
} from './segments-codecs.ts';
import type { SegmentOutput, SegmentRenderContext } from './segments-render.ts';
import { bodyText, isSpooled, readSpooled, type SpoolRef } from './segments-spool.ts';

/** What an aggregate file is assembled from (part of segments-merge.ts AssembleInput). */
export interface AggregateInput {
  rc: SegmentRenderContext;
  /** Rendered segments by id (every changed one). */
  rendered: Map<string, SegmentOutput>;
  minMultipartBytes?: number;
  minPartBytes?: number;
}

/**
 * A segment's stream: fresh (made from its spooled or held writer output when needed), spooled
 * (fresh or transformed bytes, written to the spool one body at a time), or a chunk of the
 * previous file copied as it is.
 */
type Body =
  | { fresh: () => Promise<string> }
  /** `lead` + the body hashed when it was made (`sha256`), so laying out needs no second read. */
  | { spooled: SpoolRef; lead: string; sha256: string }
  | { chunk: Chunk; transform?: (body: string) => string };

/**
 * A format the segments cannot reproduce byte for byte (the message says why): it needs one run
 * over every task.
 */
export class Fallback extends Error {}

/**
 * Lays out and writes aggregate file `path` of `format` (codec `kind`; `emptyText`: its body in
 * the empty run) over `entries` in segment order, reusing `prev.layout` (the previous render's
 * layout of the file, when it matches `prev.entry`, the previous manifest's entry) for segments not
 * rendered; adds reads and writes to `prev.io` and adopts the written entry into the format's sink.
 * Throws Fallback (or CodecShapeError) when the file cannot be assembled from the segments.
 */
export async function assembleAggregate(
  input: AggregateInput,
  format: FormatName,
  path: string,
  kind: 'seq' | 'concat' | 'csv' | 'coco' | 'brushcoco',
  emptyText: string,
  entries: SegmentEntry[],
  prev: { layout?: FileLayout; entry?: WrittenFile; io: AssembleIo },
): Promise<FileLayout> {
  const { rc, rendered } = input;
  const sink = rc.sinks.get(format)!;
  const cocoLike = kind === 'coco' || kind === 'brushcoco';
  const streams = cocoLike ? 2 : 1;
  const sep = kind === 'seq' ? SEQ_SEP : cocoLike ? COCO_SEP : '';
  const csvSep = rc.options.csvSeparator ?? (format === 'TSV' ? '\t' : ',');
  let columns: string[] | undefined;
  if (kind === 'csv') {
    const merged = mergeCsvColumns(entries.map((e) => e.formats[format]!.csv!));
    for (const e of entries)
      if (!csvRelayable(e.formats[format]!.csv!, merged))
        throw new Fallback(
          `a data key of segment ${e.id} is renamed _data_<key> by another segment's control`,
        );
    columns = csvHeaderColumns(merged);
  }
  // BRUSH_TO_COCO: categories merged by name in segment order; each segment's own ids mapped.
  const brush = kind === 'brushcoco' ? mergeBrushCategories(entries, format) : undefined;
  const spool = rc.spool!;
  // Aggregate bytes this step holds at once (one body, raw plus made), for io.peakHeldBytes.
  let heldNow = 0;
  const held0 = (n: number) => {
    heldNow += n;
    prev.io.peakHeldBytes = Math.max(prev.io.peakHeldBytes ?? 0, heldNow);
  };
  const readChunkBody = async (c: Chunk): Promise<string> => {
    if (c.end - c.start - c.lead === 0) return '';
    const r = await rc.store.get(prev.entry!.key, { start: c.start + c.lead, end: c.end });
    const b = await readAll(r.body);
    prev.io.reads++;
    prev.io.readBytes += b.length;
    held0(b.length);
    return b.toString('utf8');
  };
  // Each segment's bodies, per stream.
  const bodies: Body[][] = [];
  let imageBase = 0;
  let annotationBase = 0;
  const bases: Array<{ imageBase: number; annotationBase: number }> = [];
  for (const e of entries) {
    const f = e.formats[format]!;
    const out = rendered.get(e.id);
    const placement = prev.layout?.segments[e.id];
    bases.push({ imageBase, annotationBase });
    if (out) {
      const held = out.aggregate.get(format)?.get(path) ?? emptyText;
      const load = async () => {
        const text = await bodyText(held);
        held0(Buffer.byteLength(text));
        return text;
      };
      if (kind === 'seq') bodies.push([{ fresh: async () => seqBody(await load()) }]);
      else if (kind === 'concat') bodies.push([{ fresh: async () => concatBody(await load(), emptyText) }]);
      else if (kind === 'csv') {
        const local = csvHeaderColumns(f.csv!);
        const head = csvHeaderLine(local, csvSep, rc.options.fixCsvFormulaEscape);
        const cols = columns!;
        const id = e.id;
        bodies.push([
          {
            fresh: async () => {
              const text = await load();
              if (!text.startsWith(head)) throw new CodecShapeError(`CSV header of segment ${id}`);
              return relayCsv(text.slice(head.length), csvSep, local, cols);
            },
          },
        ]);
      } else if (kind === 'brushcoco') {
        const ib = imageBase;
        const ab = annotationBase;
        const map = localMap(brush!.ids[bases.length - 1]);
        // Both streams come from one body: read once (a stored body is a GET), dropped after both.
        const parts = once(async () => splitBrushCoco(await load()));
        bodies.push([
          { fresh: async () => shiftIds((await parts()).images, ib, 0) },
          { fresh: async () => mapCategoryIds(shiftIds((await parts()).annotations, ab, ib), map) },
        ]);
      } else {
        const ib = imageBase;
        const ab = annotationBase;
        const parts = once(async () => splitCoco(await load()));
        bodies.push([
          { fresh: async () => shiftIds((await parts()).images, ib, 0) },
          { fresh: async () => shiftIds((await parts()).annotations, ab, ib) },
        ]);
      }
    } else {
      if (!placement || placement.streams.length !== streams)
        throw new Fallback(`segment ${e.id} has no place in the previous ${path}`);
      if (kind === 'csv') {
        const from = prev.layout!.columns ?? [];
        const same = from.length === columns!.length && from.every((c, i) => c === columns![i]);
        bodies.push([
          same
            ? { chunk: placement.streams[0] }
            : { chunk: placement.streams[0], transform: (b) => relayCsv(b, csvSep, from, columns!) },
        ]);
      } else if (kind === 'brushcoco') {
        const di = imageBase - (placement.imageBase ?? 0);
        const da = annotationBase - (placement.annotationBase ?? 0);
        const was = placement.categories ?? [];
        const now = brush!.ids[bases.length - 1];
        if (was.length !== now.length)
          throw new Fallback(`segment ${e.id} has other categories than in the previous ${path}`);
        const map = new Map(was.map((id, i) => [id, now[i]]));
        const same = was.every((id, i) => id === now[i]);
        bodies.push([
          di === 0
            ? { chunk: placement.streams[0] }
            : { chunk: placement.streams[0], transform: (b) => shiftIds(b, di, 0) },
          di === 0 && da === 0 && same
            ? { chunk: placement.streams[1] }
            : { chunk: placement.streams[1], transform: (b) => mapCategoryIds(shiftIds(b, da, di), map) },
        ]);
      } else if (kind === 'coco') {
        const di = imageBase - (placement.imageBase ?? 0);
        const da = annotationBase - (placement.annotationBase ?? 0);
        bodies.push([
          di === 0
            ? { chunk: placement.streams[0] }
            : { chunk: placement.streams[0], transform: (b) => shiftIds(b, di, 0) },
          di === 0 && da === 0
            ? { chunk: placement.streams[1] }
            : { chunk: placement.streams[1], transform: (b) => shiftIds(b, da, di) },
        ]);
      } else bodies.push([{ chunk: placement.streams[0] }]);
    }
    if (kind === 'brushcoco') {
      if (f.items === undefined)
        throw new Fallback(`segment ${e.id}: a task failed half-way, so its ${format} image ids are unknown`);
      imageBase += f.items;
    } else imageBase += f.images ?? 0;
    annotationBase += f.annotations ?? 0;
  }
  const bodyBytes = (b: Body) =>
    'spooled' in b ? b.spooled.bytes : 'chunk' in b ? b.chunk.end - b.chunk.start - b.chunk.lead : 0;
  // Fresh and transformed bodies are made one at a time, in file order, hashed with the separator
  // that will precede them (none before a stream's first non-empty body), and spooled (the text is
  // dropped after).
  const made: Array<{ spooled: SpoolRef }> = [];
  const seen = Array.from({ length: streams }, () => false);
  for (const bs of bodies)
    for (let s = 0; s < bs.length; s++) {
      const b = bs[s];
      let text: string | undefined;
      if ('fresh' in b) text = await b.fresh();
      else if ('chunk' in b && b.transform) text = b.transform(await readChunkBody(b.chunk));
      if (text === undefined) {
        if (bodyBytes(b) > 0) seen[s] = true;
        continue;
      }
      const bytes = Buffer.from(text);
      held0(bytes.length);
      const lead = bytes.length > 0 && seen[s] ? sep : '';
      const sha256 = createHash('sha256').update(lead).update(bytes).digest('hex');
      bs[s] = { spooled: await spool.write(bytes), lead, sha256 };
      made.push(bs[s] as { spooled: SpoolRef });
      if (bytes.length > 0) seen[s] = true;
      heldNow = 0;
    }
  // Each raw body is read by this file only: its spool file goes once every body is made (a body
  // in the object store stays there: the fan-out job's objects are deleted after the commit).
  for (const e of entries) {
    const raw = rendered.get(e.id)?.aggregate.get(format)?.get(path);
    if (raw !== undefined && isSpooled(raw)) await spool.remove(raw);
  }
  const nonEmpty = Array.from({ length: streams }, (_, s) => bodies.some((bs) => bodyBytes(bs[s]) > 0));
  const frame =
    kind === 'seq'
      ? ['[\n', '\n]']
      : kind === 'concat'
        ? [emptyText, '']
        : kind === 'csv'
          ? // No segment (no task): the writer's header for no rows (its metadata columns), not an empty line.
            [
              entries.length === 0
                ? emptyText
                : csvHeaderLine(columns!, csvSep, rc.options.fixCsvFormulaEscape),
              '',
            ]
          : kind === 'brushcoco'
            ? brushCocoFrame(
                brushCategoriesText(brush!.entries),
                splitBrushCoco(emptyText).tail,
                nonEmpty[0],
                nonEmpty[1],
              )
            : cocoFrame(splitCoco(emptyText), nonEmpty[0], nonEmpty[1]);
  const pieces: Piece[] = [];
  const layout: FileLayout = { bytes: 0, frame: [], segments: {}, ...(columns ? { columns } : {}) };
  let offset = 0;
  const pushText = (text: string): Chunk => {
    const bytes = Buffer.from(text);
    const digest = sha256(bytes);
    pieces.push({ bytes, sha256: digest });
    const c = { start: offset, end: offset + bytes.length, lead: 0, sha256: digest };
    offset += bytes.length;
    return c;
  };
  const pushLiteral = (i: number) => {
    const text = frame[i];
    const p = prev.layout?.frame[i];
    const digest = sha256(text);
    if (p && prev.entry && p.sha256 === digest && p.end - p.start === Buffer.byteLength(text)) {
      pieces.push({ prev: { start: p.start, end: p.end }, sha256: digest });
      layout.frame.push({ start: offset, end: p.end - p.start + offset, lead: 0, sha256: digest });
      offset += p.end - p.start;
    } else layout.frame.push(pushText(text));
  };
  const placements: SegmentPlacement[] = entries.map((_, i) => ({
    streams: [],
    ...(cocoLike ? bases[i] : {}),
    ...(brush ? { categories: brush.ids[i] } : {}),
  }));
  for (let s = 0; s < streams; s++) {
    pushLiteral(s);
    let first = true;
    for (let i = 0; i < entries.length; i++) {
      const b = bodies[i][s];
      if (bodyBytes(b) === 0) {
        placements[i].streams.push({ start: offset, end: offset, lead: 0, sha256: sha256('') });
        continue;
      }
      const lead = first ? '' : sep;
      first = false;
      if ('chunk' in b && !b.transform && b.chunk.lead === Buffer.byteLength(lead)) {
        pieces.push({ prev: { start: b.chunk.start, end: b.chunk.end }, sha256: b.chunk.sha256 });
        const len = b.chunk.end - b.chunk.start;
        placements[i].streams.push({
          start: offset,
          end: offset + len,
          lead: b.chunk.lead,
          sha256: b.chunk.sha256,
        });
        offset += len;
        continue;
      }
      if ('spooled' in b) {
        const digest =
          b.lead === lead
            ? b.sha256
            : createHash('sha256')
                .update(lead)
                .update(await readSpooled(b.spooled))
                .digest('hex');
        pieces.push({ spooled: b.spooled, lead, sha256: digest });
        const len = Buffer.byteLength(lead) + b.spooled.bytes;
        placements[i].streams.push({
          start: offset,
          end: offset + len,
          lead: Buffer.byteLength(lead),
          sha256: digest,
        });
        offset += len;
        continue;
      }
      if ('fresh' in b) throw new Error(`segment ${entries[i].id}: ${path} body was not made`);
      // A previous chunk with another separator before it: re-read, then written fresh.
      const text = await readChunkBody(b.chunk);
      heldNow = 0;
      const c = pushText(lead + text);
      c.lead = Buffer.byteLength(lead);
      placements[i].streams.push(c);
    }
  }
  pushLiteral(streams);
  entries.forEach((e, i) => {
    layout.segments[e.id] = placements[i];
  });
  layout.bytes = offset;
  const r = await assembleFile({
    store: rc.store,
    key: `${rc.paths.latestFormat(format)}${path}`,
    path,
    pieces,
    previous: prev.entry,
    minMultipartBytes: input.minMultipartBytes,
    minPartBytes: input.minPartBytes,
    io: prev.io,
  });
  for (const b of made) await spool.remove(b.spooled);
  sink.adopt(r.entry, r.written);
  if (r.entry.versionId) layout.versionId = r.entry.versionId;
  return layout;
}

/**
 * BRUSH_TO_COCO's categories over every segment: the writer numbers them from 1 in first-seen
 * order, so they are the segments' own lists (each in its first-seen order) merged in segment
 * order, by name. Returns the file's category entries and, per segment, the file's id of each of
 * its own categories.
 */
function mergeBrushCategories(
  entries: SegmentEntry[],
  format: FormatName,
): { entries: string[]; ids: number[][] } {
  const byName = new Map<string, number>();
  const out: string[] = [];
  const ids = entries.map((e) => {
    const own = e.formats[format]!.categories;
    if (!own) throw new Fallback(`segment ${e.id} has no ${format} categories`);
    return own.map((entry) => {
      const name = categoryName(entry);
      let id = byName.get(name);
      if (id === undefined) {
        id = out.length + 1;
        byName.set(name, id);
        out.push(withCategoryId(entry, id));
      }
      return id;
    });
  });
  return { entries: out, ids };
}

/** `make` run on the first call only; later calls get its result. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

/** A segment's own category ids (1, 2, …) → the file's. */
const localMap = (ids: number[]) => new Map(ids.map((id, i) => [i + 1, id]));
