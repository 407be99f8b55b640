/**
 * Step 3 of a `latest/` render by segments (segments-render.ts): merge the segments' summaries
 * (COCO image and annotation counts, whether their global files match the empty run's), check
 * that each per-task path has one segment (or identical image copies), carry the per-task files of
 * unchanged segments over from the previous manifest, and have every aggregate file laid out as
 * frame + segment chunks and written (segments-layout.ts: CSV columns, COCO id offsets,
 * categories). A format the segments cannot reproduce byte for byte is returned as a fallback (one
 * run over every task).
 */

import type { FormatName } from '../core/config/formats.ts';
import { IMAGE_DIR } from '../core/images/resolve.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { FileLayout, RenderPlan, SegmentEntry, SegmentIndex } from './segments.ts';
import type { AssembleIo } from './segments-assemble.ts';
import { CodecShapeError, codecOf, countEntries, splitBrushCoco, splitCoco } from './segments-codecs.ts';
import { type AggregateInput, assembleAggregate, Fallback } from './segments-layout.ts';
import type { EmptyRun, SegmentOutput } from './segments-render.ts';
import { BodySpool as BodySpoolCtor, bodyText } from './segments-spool.ts';

export interface AssembleInput extends AggregateInput {
  plan: RenderPlan;
  empty: EmptyRun;
  /** The index of the previous render when its layouts can be reused (undefined: every segment rendered). */
  previous?: SegmentIndex;
  /** The previous manifest's files by format and path. */
  previousFiles: Map<string, Map<string, WrittenFile>>;
}

export interface AssembleOutput {
  /** The new index (without renderId, set by the caller). */
  segments: SegmentEntry[];
  files: Partial<Record<FormatName, Record<string, FileLayout>>>;
  /** Formats that need one run over every task, with why. */
  fallback: Map<FormatName, string>;
  io: AssembleIo;
}

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

/**
 * Completes `entry`'s summary of `format` from segment output `out`'s bodies: COCO and
 * BRUSH_TO_COCO image and annotation counts (and BRUSH_TO_COCO's categories), and whether its
 * global files (and COCO's categories) equal the empty run's (`emptyFiles`). Returns null, or why
 * the format cannot be assembled from the segments (a Fallback's reason).
 */
export async function summarizeFormat(
  out: SegmentOutput,
  format: FormatName,
  entry: SegmentEntry,
  emptyFiles: Map<string, string>,
): Promise<string | null> {
  const f = entry.formats[format];
  if (!f) return `segment ${entry.id} has no ${format} summary`;
  for (const [path, body] of out.aggregate.get(format) ?? []) {
    const kind = codecOf(format, path);
    if (kind !== 'global' && kind !== 'coco' && kind !== 'brushcoco') continue;
    const text = await bodyText(body);
    if (kind === 'brushcoco') {
      const parts = splitBrushCoco(text);
      if (parts.tail !== splitBrushCoco(emptyFiles.get(path) ?? '').tail)
        return `segment ${entry.id}: ${path} ends unlike the empty run's`;
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
  return null;
}

/**
 * Summarizes a worker's output of every format in `formats` (summarizeFormat; a body the codecs
 * cannot read is recorded as its fallback reason), so the commit reads its bodies only to lay the
 * files out. Sets `out.summarized`.
 */
export async function summarizeOutput(
  out: SegmentOutput,
  formats: readonly FormatName[],
  empty: EmptyRun,
): Promise<void> {
  const summarized: NonNullable<SegmentOutput['summarized']> = {};
  for (const f of formats) {
    try {
      summarized[f] = await summarizeFormat(out, f, out.entry, empty.files.get(f) ?? new Map());
    } catch (err) {
      if (!(err instanceof CodecShapeError)) throw err;
      summarized[f] = err.message;
    }
  }
  out.summarized = summarized;
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
  // Summaries of fresh segments (global files compared with the empty run); a fan-out worker's
  // output comes summarized (its bodies are then not read for it).
  for (const e of entries) {
    const out = rendered.get(e.id);
    if (!e.formats[format]) throw new Fallback(`segment ${e.id} has no ${format} summary`);
    if (!out) continue;
    const done = out.summarized?.[format];
    const why = done !== undefined ? done : await summarizeFormat(out, format, e, emptyFiles);
    if (why !== null) throw new Fallback(why);
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
