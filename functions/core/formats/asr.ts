/**
 * ASR_MANIFEST (docs/label-studio-behaviour.md#asr_manifest): `manifest.json` in JSON Lines, one line per item —
 * `audio_filepath`, `duration`, `text` (first line of the first TextArea), `annotator` — and the
 * audio copied under `audio/`.
 *
 * Per-region transcripts (an Audio with `Labels` and a `TextArea perRegion`: values with `start`/
 * `end` in seconds) are merged by Label Studio into that one line, keeping only the first one's first
 * line; each such item is a warning and the other segments are skipped results. Option
 * `asrSegments` writes one line per segment instead, as NeMo manifests allow: `audio_filepath`,
 * `offset` (start, s), `duration` (end − start, s), `text` (the segment's lines joined by a space),
 * `label` (its Labels, joined by `, `, when the region has some) and `annotator`, in start order.
 *
 * Differences from the reference, on purpose: an item without a transcript gets `""` instead of the
 * previous task's text; a duration the task or result already carries is used without reading the
 * audio; annotators are written as ids unless e-mails are asked for.
 */
import { createHash } from 'node:crypto';
import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import { dataKeys } from '../config/label-config.ts';
import { type Item, itemsOfTask, pyStr, resultInfo, type TaskRef } from '../items.ts';
import { PY_JSON_COMPACT, pyFloat, stringify } from '../json/serialize.ts';
import { isJsonObject, type JsonObject, type JsonValue, num } from '../json/value.ts';
import { type MediaFile, readHead } from '../media.ts';
import { OrderedWork } from '../ordered-work.ts';
import { isOutputFailure } from '../output-failure.ts';
import { outputPath } from '../output-names.ts';
import { reasonOf } from '../report.ts';
import { parseWavHeader, wavDuration } from '../wav.ts';
import type { ExportContext, FormatWriter } from './types.ts';

const WAV_HEAD_BYTES = 64 * 1024;

/** The item's transcript as the reference takes it, and the value it comes from. */
function transcriptOf(item: Item): { text: string; value?: JsonObject } {
  for (const values of item.output.values()) {
    const first = values[0];
    if (isJsonObject(first) && Object.hasOwn(first, 'text')) {
      const t = first.text;
      if (Array.isArray(t))
        return { text: typeof t[0] === 'string' ? t[0] : t.length ? pyStr(t[0]) : '', value: first };
      return { text: typeof t === 'string' ? t : pyStr(t), value: first };
    }
  }
  return { text: '' };
}

/** One per-region transcript: a value with numeric `start` < `end` (seconds) and `text`. */
export interface AsrSegment {
  start: number;
  end: number;
  text: string;
  /** Labels of the region (values of a labels control with the same result id). */
  labels: string[];
  /** The results it carries (the text value, and its labels values). */
  values: JsonObject[];
}

const textOf = (t: JsonValue): string =>
  Array.isArray(t)
    ? t.map((l) => (typeof l === 'string' ? l : pyStr(l))).join(' ')
    : typeof t === 'string'
      ? t
      : pyStr(t);

/**
 * The item's per-region transcripts in start order (ties: result order), with the labels of the
 * same region (matched by result id). Values with `text` but no usable `start`/`end` are not
 * segments.
 */
export function asrSegments(item: Item): AsrSegment[] {
  const segments: AsrSegment[] = [];
  const labelsById = new Map<string | number, JsonObject[]>();
  for (const values of item.output.values()) {
    for (const v of values) {
      const id = resultInfo(v).resultId;
      if (id !== undefined && Array.isArray(v.labels)) labelsById.set(id, [...(labelsById.get(id) ?? []), v]);
    }
  }
  for (const values of item.output.values()) {
    for (const v of values) {
      if (!Object.hasOwn(v, 'text')) continue;
      const start = num(v.start);
      const end = num(v.end);
      if (start === undefined || end === undefined || !(end > start)) continue;
      const id = resultInfo(v).resultId;
      const labelValues = id === undefined ? [] : (labelsById.get(id) ?? []);
      const labels = labelValues.flatMap((l) =>
        (l.labels as JsonValue[]).map((x) => (typeof x === 'string' ? x : pyStr(x))),
      );
      segments.push({ start, end, text: textOf(v.text), labels, values: [v, ...labelValues] });
    }
  }
  return segments.sort((a, b) => a.start - b.start);
}

/** A duration already known: `original_length` on a result, or `duration` in the task data. */
function knownDuration(item: Item): number | undefined {
  const results = item.annotation && Array.isArray(item.annotation.result) ? item.annotation.result : [];
  for (const r of results) {
    const d = isJsonObject(r) ? num(r.original_length) : undefined;
    if (d !== undefined && d > 0) return d;
  }
  const d = num(item.input.duration);
  return d !== undefined && d > 0 ? d : undefined;
}

/** `{ annotationId }` for a report entry, when the item's annotation has a usable id. */
function annotationIdOf(item: Item): { annotationId?: string | number } {
  const id = item.annotationId;
  return typeof id === 'number' || typeof id === 'string' ? { annotationId: id } : {};
}

function annotator(completedBy: JsonValue, emails: boolean): string {
  if (isJsonObject(completedBy)) {
    if (emails) return typeof completedBy.email === 'string' ? completedBy.email : '';
    return completedBy.id === undefined || completedBy.id === null ? '' : pyStr(completedBy.id);
  }
  return pyStr(completedBy);
}

export function asrWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('manifest.json');
  const key = ctx.options.dataKey ?? dataKeys(ctx.schema)[0];
  /** url → its path under audio/ and duration, so audio shared by tasks is fetched once. */
  const copied = new Map<string, { path: string; duration?: number }>();
  const usedNames = new Map<string, string>();

  function audioPath(url: string, name: string): string {
    const owner = usedNames.get(name);
    if (owner === undefined || owner === url) {
      usedNames.set(name, url);
      return outputPath(ctx.sink, 'audio', name);
    }
    // Two different sources with one file name: keep both, with a stable suffix.
    const dot = name.lastIndexOf('.');
    const suffix = `_${createHash('md5').update(url).digest('hex').slice(0, 4)}`;
    const unique = dot > 0 ? name.slice(0, dot) + suffix + name.slice(dot) : name + suffix;
    usedNames.set(unique, url);
    return outputPath(ctx.sink, 'audio', unique);
  }

  /**
   * url → its fetch under way (and whether it reads the WAV header): items of one task run at once
   * and must not copy the audio twice.
   */
  const fetching = new Map<
    string,
    { fetch: Promise<{ path: string; duration?: number }>; needDuration: boolean }
  >();

  /**
   * The audio of `url` copied once (and its duration read when `needDuration`). Not `async`: an
   * item whose fetch is not shared awaits fetchAudioNow's own promise, so its outcome lands as soon
   * as before (report entries keep their order).
   */
  function fetchAudio(
    url: string,
    needDuration: boolean,
  ): { path: string; duration?: number } | Promise<{ path: string; duration?: number }> {
    const done = copied.get(url);
    if (done && (done.duration !== undefined || !needDuration)) return done;
    const running = fetching.get(url);
    if (running) {
      // A fetch that read the header may have failed on it (not a WAV): an item with a known
      // duration does not read it, so it tries alone (QA, 2026-12-01). Otherwise the running
      // fetch's failure is this item's too: the same source.
      if (running.needDuration && !needDuration) return running.fetch.catch(() => fetchAudio(url, false));
      return running.fetch.then((e) =>
        e.duration !== undefined || !needDuration ? e : fetchAudio(url, true),
      );
    }
    const fetch = fetchAudioNow(url, needDuration);
    fetching.set(url, { fetch, needDuration });
    const settled = () => fetching.delete(url);
    fetch.then(settled, settled);
    return fetch;
  }

  /**
   * The turn to name a file: fetches name theirs in the order they started (task order), not in the
   * order their opens finish. Two sources with one file name get `x.wav` and `x_<md5>.wav`, and
   * which is which must not depend on I/O timing (QA s9: a slower first open swapped them).
   */
  let naming: Promise<unknown> = Promise.resolve();

  async function fetchAudioNow(
    url: string,
    needDuration: boolean,
  ): Promise<{ path: string; duration?: number }> {
    const done = copied.get(url);
    if (!ctx.media) throw new Error('no media access configured to read the audio');
    // Opens still run at once; only naming waits for the fetches started before this one.
    const opening = ctx.media.open(url);
    opening.catch(() => {}); // its failure is awaited below, possibly after a later open's
    const named = naming.then(async () => {
      const file: MediaFile = await opening;
      return { file, path: done?.path ?? audioPath(url, file.name) };
    });
    naming = named.catch(() => {});
    const { file, path } = await named;
    let duration: number | undefined;
    if (needDuration) duration = wavDuration(parseWavHeader(await readHead(file, WAV_HEAD_BYTES)));
    if (!done && ctx.options.copyAudio && ctx.sink.copyFrom) {
      const local = file.copyByPath ? { path: file.copyByPath(), size: file.size } : undefined;
      try {
        await ctx.sink.copyFrom(path, file.read(), local);
      } catch (err) {
        if (!local) throw err;
        // A copy by path fails alike whether the file or the output is at fault: streamed once
        // more, a read failure is the item's (media) and a write failure the export's.
        await ctx.sink.copyFrom(path, file.read());
      }
    }
    const entry = { path, duration };
    copied.set(url, entry);
    return entry;
  }

  const lines = new OrderedWork<string>(16, (line) => out.write(line));

  const ledger = new RegionLedger(ctx, 'ASR_MANIFEST');
  const notInManifest = (v: JsonObject) => `a ${resultType(v)} result has no place in the ASR manifest`;

  /** Accounts the item's results for the line(s) about to be written: segments, or the one transcript used. */
  function account(acc: ItemLedger, segments: AsrSegment[] | undefined, used?: JsonObject): void {
    if (segments) {
      for (const seg of segments) for (const v of seg.values) acc.exported(v);
      acc.close((v) =>
        Object.hasOwn(v, 'text')
          ? 'a transcript without start/end next to per-region transcripts: option asrSegments writes the segments only'
          : notInManifest(v),
      );
      return;
    }
    if (used) acc.exported(used);
    acc.close((v) =>
      Object.hasOwn(v, 'text')
        ? 'its text is not in the manifest: one line per task keeps the first transcript only (option asrSegments writes one line per segment)'
        : notInManifest(v),
    );
  }

  /**
   * The item is left out: one skipped entry per result, or one for the item when it has none —
   * with the format's name and the annotation id, as the format's own problem (another format of
   * the same run may export the item).
   */
  function leaveItemOut(acc: ItemLedger, item: Item, ref: TaskRef, reason: string): void {
    if (acc.pending().length > 0) acc.skipAll(reason);
    else ctx.report.skip({ ...ref, format: ledger.format, ...annotationIdOf(item), reason });
    acc.close();
  }

  return {
    async addTask(task: JsonObject, ref) {
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const acc = ledger.item(item, ref);
        const url = key === undefined ? undefined : item.input[key];
        if (typeof url !== 'string' || url === '') {
          leaveItemOut(acc, item, ref, `data["${key}"] is not an audio URL; the item is left out`);
          continue;
        }
        const found = asrSegments(item);
        const segments = ctx.options.asrSegments && found.length > 0 ? found : undefined;
        if (!segments && found.length > 1) {
          ctx.report.warn({
            ...ref,
            format: ledger.format,
            ...annotationIdOf(item),
            reason: `${found.length} segments with their own transcripts are merged into one manifest line per task, which keeps only the first transcript's first line (as Label Studio); option asrSegments writes one line per segment`,
          });
        }
        const known = segments ? 0 : knownDuration(item);
        const transcript = transcriptOf(item);
        const who = annotator(item.completedBy, ctx.options.annotatorEmails);
        // Audio copies run a few at a time; lines still come out in item order.
        await lines.add(async () => {
          let audio: { path: string; duration?: number };
          try {
            audio = await fetchAudio(url, known === undefined);
          } catch (err) {
            if (isOutputFailure(err)) throw err; // the copy could not be written: the export fails
            leaveItemOut(acc, item, ref, `audio unavailable, item left out: ${reasonOf(err)}`);
            return '';
          }
          account(acc, segments, transcript.value);
          if (segments) {
            let text = '';
            for (const seg of segments) {
              const line: JsonObject = {
                audio_filepath: audio.path,
                offset: pyFloat(seg.start),
                duration: pyFloat(seg.end - seg.start),
                text: seg.text,
              };
              if (seg.labels.length > 0) line.label = seg.labels.join(', ');
              line.annotator = who;
              text += `${stringify(line, PY_JSON_COMPACT)}\n`;
            }
            return text;
          }
          const line: JsonObject = {
            audio_filepath: audio.path,
            duration: pyFloat(known ?? audio.duration ?? 0),
            text: transcript.text,
            annotator: who,
          };
          return `${stringify(line, PY_JSON_COMPACT)}\n`;
        });
      }
    },
    async finish() {
      await lines.drain();
      await out.close();
    },
  };
}
