/**
 * Step 3 of a `latest/` render by segments (segments-render.ts): merge the segments' summaries
 * (CSV columns, COCO id offsets, categories), lay every aggregate file out as frame + segment
 * chunks and write it from fresh bodies and ranges of its previous version (segments-assemble.ts);
 * per-task files of unchanged segments are carried over from the previous manifest. A format the
 * segments cannot reproduce byte for byte is returned as a fallback (one run over every task).
 */

import { createHash } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { IMAGE_DIR } from '../core/images/resolve.ts';
import { readAll } from '../core/object-store.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type {
  Chunk,
  FileLayout,
  RenderPlan,
  SegmentEntry,
  SegmentIndex,
  SegmentPlacement,
} from './segments.ts';
import { type AssembleIo, assembleFile, type Piece } from './segments-assemble.ts';
import {
  brushCategoriesText,
  brushCocoFrame,
  COCO_SEP,
  CodecShapeError,
  categoryName,
  cocoFrame,
  codecOf,
  concatBody,
  countEntries,
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
import type { EmptyRun, SegmentOutput, SegmentRenderContext } from './segments-render.ts';
import { BodySpool as BodySpoolCtor, bodyText, readSpooled, type SpoolRef } from './segments-spool.ts';

export interface AssembleInput {
  rc: SegmentRenderContext;
  plan: RenderPlan;
  empty: EmptyRun;
  /** Rendered segments by id (every changed one). */
  rendered: Map<string, SegmentOutput>;
  /** The index of the previous render when its layouts can be reused (undefined: every segment rendered). */
  previous?: SegmentIndex;
  /** The previous manifest's files by format and path. */
  previousFiles: Map<string, Map<string, WrittenFile>>;
  minMultipartBytes?: number;
  minPartBytes?: number;
}

export interface AssembleOutput {
  /** The new index (without renderId, set by the caller). */
  segments: SegmentEntry[];
  files: Partial<Record<FormatName, Record<string, FileLayout>>>;
  /** Formats that need one run over every task, with why. */
  fallback: Map<FormatName, string>;
  io: AssembleIo;
}

/**
 * A segment's stream: fresh (made from its spooled or held writer output when needed), spooled
 * (fresh or transformed bytes, written to the spool one body at a time), or a chunk of the
 * previous file copied as it is.
 */
type Body =
  | { fresh: () => Promise<string> }
  | { spooled: SpoolRef }
  | { chunk: Chunk; transform?: (body: string) => string };

class Fallback extends Error {}

/** Merges the segments' summaries and writes every aggregate file; returns the new index parts. */
export async function assembleFormats(input: AssembleInput): Promise<AssembleOutput> {
  const { rc, plan, rendered, previous } = input;
  const prevSeg = new Map((previous?.segments ?? []).map((s) => [s.id, s]));
  const entries: SegmentEntry[] = plan.segments.map((job) => {
    const e = rendered.get(job.id)?.entry ?? prevSeg.get(job.id);
    if (!e) throw new Error(`segment ${job.id} was neither rendered nor in the index`);
    return e;
  });
  const io: AssembleIo = {
    readBytes: 0,
    reads: 0,
    uploadedBytes: 0,
    copiedBytes: 0,
    parts: 0,
    peakHeldBytes: 0,
  };
  // Bodies are spooled while a file is assembled (the caller's spool, else one of its own).
  const own = input.rc.spool ? undefined : await BodySpoolCtor.create();
  const ac: AssembleInput = own ? { ...input, rc: { ...input.rc, spool: own } } : input;
  const files: Partial<Record<FormatName, Record<string, FileLayout>>> = {};
  const fallback = new Map<FormatName, string>();
  for (const format of rc.formats) {
    try {
      files[format] = await assembleFormat(ac, format, entries, io);
    } catch (err) {
      if (!(err instanceof Fallback || err instanceof CodecShapeError)) {
        await own?.dispose();
        throw err;
      }
      fallback.set(format, err.message);
    }
  }
  await own?.dispose();
  return { segments: entries, files, fallback, io };
}

async function assembleFormat(
  input: AssembleInput,
  format: FormatName,
  entries: SegmentEntry[],
  io: AssembleIo,
): Promise<Record<string, FileLayout>> {
  const { rc, empty, rendered, previous } = input;
  const sink = rc.sinks.get(format)!;
  const emptyFiles = empty.files.get(format) ?? new Map<string, string>();
  const prevFiles = input.previousFiles.get(format) ?? new Map<string, WrittenFile>();
  // Summaries of fresh segments (global files compared with the empty run).
  for (const e of entries) {
    const out = rendered.get(e.id);
    const f = e.formats[format];
    if (!f) throw new Fallback(`segment ${e.id} has no ${format} summary`);
    if (!out) continue;
    const agg = out.aggregate.get(format)!;
    for (const [path, body] of agg) {
      const kind = codecOf(format, path);
      if (kind !== 'global' && kind !== 'coco' && kind !== 'brushcoco') continue;
      const text = await bodyText(body);
      if (kind === 'brushcoco') {
        const parts = splitBrushCoco(text);
        if (parts.tail !== splitBrushCoco(emptyFiles.get(path) ?? '').tail)
          throw new Fallback(`segment ${e.id}: ${path} ends unlike the empty run's`);
        f.images = countEntries(parts.images);
        f.annotations = countEntries(parts.annotations);
        f.categories = parts.categories;
        continue;
      }
      if (kind === 'global' && text !== emptyFiles.get(path)) f.globalSame = false;
      if (kind === 'coco') {
        const parts = splitCoco(text);
        if (parts.middle !== splitCoco(emptyFiles.get(path) ?? '').middle) f.globalSame = false;
        f.images = countEntries(parts.images);
        f.annotations = countEntries(parts.annotations);
      }
    }
  }
  const notSame = entries.find((e) => !e.formats[format]!.globalSame);
  if (notSame)
    throw new Fallback(`segment ${notSame.id} has categories or classes beyond the label config's`);
  // Per-task files: each path from one segment only, but for an image copy two segments write
  // with the same bytes (one image in tasks of both). Only images/: an image's name depends on
  // its URL only (images/resolve.ts), and a run over every task gives a second image of that name
  // the same path; ASR's audio names depend on the order of the tasks (a suffix for the second).
  const copyDigest = (id: string, p: string): string | undefined => {
    if (!p.startsWith(`${IMAGE_DIR}/`)) return undefined;
    const out = rendered.get(id);
    return out ? out.copies?.get(format)?.get(p) : prevFiles.get(p)?.sha256;
  };
  const owner = new Map<string, string>();
  for (const e of entries)
    for (const p of e.formats[format]!.files) {
      const o = owner.get(p);
      if (o !== undefined && o !== e.id) {
        const a = copyDigest(o, p);
        if (a === undefined || a !== copyDigest(e.id, p))
          throw new Fallback(`segments ${o} and ${e.id} both write ${p}`);
        continue;
      }
      owner.set(p, e.id);
    }
  for (const e of entries) {
    if (rendered.has(e.id)) continue;
    for (const p of e.formats[format]!.files) {
      // A shared image copy a rendered segment wrote again is listed as written.
      if (sink.exists(p)) continue;
      const prev = prevFiles.get(p);
      if (!prev) throw new Fallback(`${p} of segment ${e.id} is not in the previous manifest`);
      sink.adopt(prev, false);
    }
  }
  const layouts: Record<string, FileLayout> = {};
  for (const [path, emptyText] of emptyFiles) {
    const kind = codecOf(format, path);
    if (kind === 'global') {
      await sink.writeFile(path, emptyText);
      continue;
    }
    const prevLayout = previous?.files[format]?.[path];
    const prevEntry = prevFiles.get(path);
    const usable =
      prevLayout !== undefined &&
      prevEntry !== undefined &&
      prevEntry.bytes === prevLayout.bytes &&
      prevEntry.versionId === prevLayout.versionId;
    layouts[path] = await assembleAggregate(input, format, path, kind, emptyText, entries, {
      layout: usable ? prevLayout : undefined,
      entry: prevEntry,
      io,
    });
  }
  return layouts;
}

async function assembleAggregate(
  input: AssembleInput,
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
        bodies.push([
          { fresh: async () => shiftIds(splitBrushCoco(await load()).images, ib, 0) },
          {
            fresh: async () =>
              mapCategoryIds(shiftIds(splitBrushCoco(await load()).annotations, ab, ib), map),
          },
        ]);
      } else {
        const ib = imageBase;
        const ab = annotationBase;
        bodies.push([
          { fresh: async () => shiftIds(splitCoco(await load()).images, ib, 0) },
          { fresh: async () => shiftIds(splitCoco(await load()).annotations, ab, ib) },
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
  // Fresh and transformed bodies are made one at a time and spooled (the text is dropped after).
  const made: Array<{ spooled: SpoolRef }> = [];
  for (const bs of bodies)
    for (let s = 0; s < bs.length; s++) {
      const b = bs[s];
      let text: string | undefined;
      if ('fresh' in b) text = await b.fresh();
      else if ('chunk' in b && b.transform) text = b.transform(await readChunkBody(b.chunk));
      if (text === undefined) continue;
      const bytes = Buffer.from(text);
      held0(bytes.length);
      bs[s] = { spooled: await spool.write(bytes) };
      made.push(bs[s] as { spooled: SpoolRef });
      heldNow = 0;
    }
  // Each raw body is read by this file only: its spool file goes once every body is made.
  for (const e of entries) {
    const raw = rendered.get(e.id)?.aggregate.get(format)?.get(path);
    if (raw !== undefined && typeof raw !== 'string') await spool.remove(raw);
  }
  const bodyBytes = (b: Body) =>
    'spooled' in b ? b.spooled.bytes : 'chunk' in b ? b.chunk.end - b.chunk.start - b.chunk.lead : 0;
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
        const digest = createHash('sha256')
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

/** A segment's own category ids (1, 2, …) → the file's. */
const localMap = (ids: number[]) => new Map(ids.map((id, i) => [i + 1, id]));
