/**
 * ASR_MANIFEST (converter spec §7.10): `manifest.json` in JSON Lines, one line per item —
 * `audio_filepath`, `duration`, `text` (first line of the first TextArea), `annotator` — and the
 * audio copied under `audio/`.
 *
 * Differences from the reference, on purpose: an item without a transcript gets `""` instead of the
 * previous task's text; a duration the task or result already carries is used without reading the
 * audio; annotators are written as ids unless e-mails are asked for.
 */
import { createHash } from 'node:crypto';
import { dataKeys } from '../config/label-config.ts';
import { type Item, itemsOfTask, pyStr } from '../items.ts';
import { PY_JSON_COMPACT, pyFloat, stringify } from '../json/serialize.ts';
import { isJsonObject, type JsonObject, type JsonValue, num } from '../json/value.ts';
import { type MediaFile, readHead } from '../media.ts';
import { OrderedWork } from '../ordered-work.ts';
import { outputPath } from '../output-names.ts';
import { reasonOf } from '../report.ts';
import { parseWavHeader, wavDuration } from '../wav.ts';
import type { ExportContext, FormatWriter } from './types.ts';

const WAV_HEAD_BYTES = 64 * 1024;

function transcriptOf(item: Item): string {
  for (const values of item.output.values()) {
    const first = values[0];
    if (isJsonObject(first) && Object.hasOwn(first, 'text')) {
      const t = first.text;
      if (Array.isArray(t)) return typeof t[0] === 'string' ? t[0] : t.length ? pyStr(t[0]) : '';
      return typeof t === 'string' ? t : pyStr(t);
    }
  }
  return '';
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

  async function fetchAudio(
    url: string,
    needDuration: boolean,
  ): Promise<{ path: string; duration?: number }> {
    const done = copied.get(url);
    if (done && (done.duration !== undefined || !needDuration)) return done;
    if (!ctx.media) throw new Error('no media access configured to read the audio');
    const file: MediaFile = await ctx.media.open(url);
    const path = done?.path ?? audioPath(url, file.name);
    let duration: number | undefined;
    if (needDuration) duration = wavDuration(parseWavHeader(await readHead(file, WAV_HEAD_BYTES)));
    if (!done && ctx.options.copyAudio && ctx.sink.copyFrom) {
      const local = file.localPath ? { path: file.localPath, size: file.size } : undefined;
      await ctx.sink.copyFrom(path, file.read(), local);
    }
    const entry = { path, duration };
    copied.set(url, entry);
    return entry;
  }

  const lines = new OrderedWork<string>(16, (line) => out.write(line));

  return {
    async addTask(task: JsonObject, ref) {
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const url = key === undefined ? undefined : item.input[key];
        if (typeof url !== 'string' || url === '') {
          ctx.report.skip({ ...ref, reason: `data["${key}"] is not an audio URL; the item is left out` });
          continue;
        }
        const known = knownDuration(item);
        // Audio copies run a few at a time; lines still come out in item order.
        await lines.add(async () => {
          let audio: { path: string; duration?: number };
          try {
            audio = await fetchAudio(url, known === undefined);
          } catch (err) {
            ctx.report.skip({ ...ref, reason: `audio unavailable, item left out: ${reasonOf(err)}` });
            return '';
          }
          const line: JsonObject = {
            audio_filepath: audio.path,
            duration: pyFloat(known ?? audio.duration ?? 0),
            text: transcriptOf(item),
            annotator: annotator(item.completedBy, ctx.options.annotatorEmails),
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
