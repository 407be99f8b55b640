import { describe, expect, it } from 'vitest';
import { makeWav } from '../../../bench/generate.ts';
import { type MediaAccess, MediaError, type MediaFile } from '../../../functions/core/media.ts';
import { exportWith } from '../../helpers/export.ts';

const CONFIG =
  '<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>';

/** In-memory media with a record of what was read. */
function fakeMedia(files: Record<string, Buffer>): MediaAccess & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async open(url: string): Promise<MediaFile> {
      const data = files[url];
      if (!data) throw new MediaError(`${url}: file not found`, url);
      return {
        name: decodeURIComponent(url.split('/').pop()!),
        size: data.length,
        read: (range) => {
          reads.push(url);
          return (async function* () {
            yield range ? data.subarray(range.start, range.end) : data;
          })();
        },
      };
    },
  };
}

/** The manifest's lines, parsed. */
const manifestLines = (sink: { text(path: string): string }) =>
  sink
    .text('manifest.json')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

const text = (t: string, extra: object = {}) => ({
  from_name: 'transcription',
  to_name: 'audio',
  type: 'textarea',
  value: { text: [t] },
  ...extra,
});

describe('ASR_MANIFEST', () => {
  it('writes Python json lines with duration from the WAV header and copies the audio (docs/label-studio-behaviour.md#asr_manifest)', async () => {
    const media = fakeMedia({
      '/data/upload/3/a%20b.wav': makeWav(1, 16000),
      '/data/upload/3/c.wav': makeWav(0.5, 16000),
    });
    const tasks = [
      {
        id: 1,
        data: { audio: '/data/upload/3/a%20b.wav' },
        annotations: [{ id: 1, completed_by: { id: 9, email: 'u@x' }, result: [text('hello there')] }],
      },
      { id: 2, data: { audio: '/data/upload/3/c.wav' }, annotations: [] },
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/a b.wav", "duration": 1.0, "text": "hello there", "annotator": "9"}\n' +
        // The reference repeats the previous task's transcript here; we never leak one task into another.
        '{"audio_filepath": "audio/c.wav", "duration": 0.5, "text": "", "annotator": ""}\n',
    );
    expect(sink.files.get('audio/a b.wav')?.equals(makeWav(1, 16000))).toBe(true);
    expect(sink.files.has('audio/c.wav')).toBe(true);
  });

  it('writes e-mails only with --annotator-emails', async () => {
    const media = fakeMedia({ 'a.wav': makeWav(1) });
    const tasks = [
      {
        id: 1,
        data: { audio: 'a.wav' },
        annotations: [{ id: 1, completed_by: { id: 9, email: 'u@x.com' }, result: [text('hi')] }],
      },
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', { annotatorEmails: true }, media);
    expect(sink.text('manifest.json')).toContain('"annotator": "u@x.com"');
  });

  it('takes a known duration from the result and does not read the audio for it', async () => {
    const media = fakeMedia({ 'a.wav': Buffer.from('not a wav at all') });
    const tasks = [
      {
        id: 1,
        data: { audio: 'a.wav' },
        annotations: [{ id: 1, completed_by: 3, result: [text('hi', { original_length: 2.5 })] }],
      },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', { copyAudio: false }, media);
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/a.wav", "duration": 2.5, "text": "hi", "annotator": "3"}\n',
    );
    expect(media.reads).toEqual([]);
    expect(report.skippedCount).toBe(0);
  });

  it('reports unreachable or non-WAV audio and goes on', async () => {
    const media = fakeMedia({ 'ok.wav': makeWav(0.25), 'song.mp3': Buffer.from('ID3....') });
    const tasks = [
      { id: 1, data: { audio: 'missing.wav' }, annotations: [{ id: 1, result: [text('a')] }] },
      { id: 2, data: { audio: 'song.mp3' }, annotations: [{ id: 2, result: [text('b')] }] },
      { id: 3, data: { audio: 'ok.wav' }, annotations: [{ id: 3, result: [text('c')] }] },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/ok.wav", "duration": 0.25, "text": "c", "annotator": ""}\n',
    );
    expect(report.skipped.map((s) => [s.taskId, s.reason])).toEqual([
      [1, 'audio unavailable, item left out: missing.wav: file not found'],
      [2, 'audio unavailable, item left out: not a WAV file (no RIFF/WAVE header)'],
    ]);
  });

  it('an item left out whole (no results, audio unavailable or no URL) names the format and annotation (QA s6 F4)', async () => {
    const media = fakeMedia({});
    const tasks = [
      { id: 1, data: { audio: 'missing.wav' }, annotations: [{ id: 11, result: [] }] },
      { id: 2, data: { audio: 7 }, annotations: [{ id: 12, result: [] }] },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    expect(sink.text('manifest.json')).toBe('');
    expect(report.skipped.map((s) => [s.taskId, s.format, s.annotationId])).toEqual([
      [1, 'ASR_MANIFEST', 11],
      [2, 'ASR_MANIFEST', 12],
    ]);
    expect(report.regions.get('ASR_MANIFEST')).toEqual({ exported: 0, skipped: 0 });
  });

  it("reads and copies a task's audio once for all its annotations (they are converted at once)", async () => {
    const media = fakeMedia({ 'x/a.wav': makeWav(0.25) });
    const annotations = [1, 2, 3].map((id) => ({ id, result: [text(`take ${id}`)] }));
    const tasks = [{ id: 1, data: { audio: 'x/a.wav' }, annotations }];
    const { sink } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    const lines = manifestLines(sink);
    expect(lines.map((l) => [l.audio_filepath, l.duration])).toEqual([
      ['audio/a.wav', 0.25],
      ['audio/a.wav', 0.25],
      ['audio/a.wav', 0.25],
    ]);
    // One header read for the duration and one read to copy it (before: three of each).
    expect(media.reads).toEqual(['x/a.wav', 'x/a.wav']);
    expect(sink.files.get('audio/a.wav')?.equals(makeWav(0.25))).toBe(true);
  });

  it('an annotation with a known duration, then one without: the duration is still read, the audio copied once', async () => {
    const media = fakeMedia({ 'x/a.wav': makeWav(0.5) });
    const annotations = [
      { id: 1, result: [text('known', { original_length: 7 })] },
      { id: 2, result: [text('unknown')] },
    ];
    const { sink } = await exportWith(
      [{ id: 1, data: { audio: 'x/a.wav' }, annotations }],
      CONFIG,
      'ASR_MANIFEST',
      {},
      media,
    );
    const durations = manifestLines(sink).map((l) => l.duration);
    expect(durations.sort()).toEqual([0.5, 7]);
    expect(media.reads).toHaveLength(2);
  });

  it('not a WAV: items with a known duration are still written and the audio copied (QA, 2026-12-01)', async () => {
    const mp3 = Buffer.from('ID3-not-a-wav-file');
    const media = fakeMedia({ 'x/m.mp3': mp3 });
    const tasks = [
      // Within one task: without, with and without a known duration.
      {
        id: 1,
        data: { audio: 'x/m.mp3' },
        annotations: [
          { id: 11, result: [text('a')] },
          { id: 12, result: [text('b', { original_length: 5.5 })] },
          { id: 13, result: [text('c')] },
        ],
      },
      { id: 2, data: { audio: 'x/m.mp3' }, annotations: [{ id: 21, result: [text('d')] }] },
      { id: 3, data: { audio: 'x/m.mp3', duration: 3 }, annotations: [{ id: 31, result: [text('e')] }] },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    const lines = manifestLines(sink);
    expect(lines.map((l) => [l.text, l.duration, l.audio_filepath])).toEqual([
      ['b', 5.5, 'audio/m.mp3'],
      ['e', 3, 'audio/m.mp3'],
    ]);
    expect(sink.files.get('audio/m.mp3')?.equals(mp3)).toBe(true);
    // The three items without a duration are left out, each reported.
    expect(report.skipped.map((e) => e.annotationId).sort()).toEqual([11, 13, 21]);
    for (const e of report.skipped) expect(e.reason).toMatch(/not a WAV file/);
  });

  it('audio that cannot be read leaves out every annotation of the task that uses it, each reported', async () => {
    const media = fakeMedia({});
    const annotations = [1, 2].map((id) => ({ id, result: [text(`take ${id}`)] }));
    const { sink, report } = await exportWith(
      [{ id: 1, data: { audio: 'x/missing.wav' }, annotations }],
      CONFIG,
      'ASR_MANIFEST',
      {},
      media,
    );
    expect(sink.text('manifest.json')).toBe('');
    const reasons = report.skipped.map((e) => e.reason);
    expect(reasons).toHaveLength(2);
    for (const r of reasons) expect(r).toMatch(/audio unavailable, item left out: .*file not found/);
  });

  it('gives two different sources with the same file name distinct, stable names', async () => {
    const media = fakeMedia({ 'x/a.wav': makeWav(0.25), 'y/a.wav': makeWav(0.5) });
    const tasks = [
      { id: 1, data: { audio: 'x/a.wav' }, annotations: [{ id: 1, result: [text('a')] }] },
      { id: 2, data: { audio: 'y/a.wav' }, annotations: [{ id: 2, result: [text('b')] }] },
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    const paths = manifestLines(sink).map((l) => l.audio_filepath);
    expect(paths[0]).toBe('audio/a.wav');
    expect(paths[1]).toMatch(/^audio\/a_[0-9a-f]{4}\.wav$/);
    expect(sink.files.has(paths[1])).toBe(true);
  });
});

describe('ASR_MANIFEST: audio file names in task order', () => {
  const CONFIG =
    '<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>';
  const task = (id: number, audio: string) => ({
    id,
    data: { audio },
    annotations: [
      {
        id,
        result: [
          { from_name: 'transcription', to_name: 'audio', type: 'textarea', value: { text: [`t${id}`] } },
        ],
      },
    ],
  });
  /** Media whose open of each URL takes `delays[url]` ms. */
  const slowMedia = (delays: Record<string, number>): MediaAccess => ({
    async open(url) {
      await new Promise((r) => setTimeout(r, delays[url] ?? 0));
      const data = makeWav(1, 8000);
      return { name: url.split('/').pop() as string, size: data.length, read: () => chunksOf(data) };
    },
  });
  async function* chunksOf(data: Uint8Array) {
    yield data;
  }

  it('two sources named x.wav: the first task gets x.wav whichever open finishes first (QA s9)', async () => {
    const tasks = [task(1, 's3://b1/a/x.wav'), task(2, 's3://b2/b/x.wav')];
    const paths: string[][] = [];
    const cases: Array<Record<string, number>> = [{}, { 's3://b1/a/x.wav': 40 }, { 's3://b2/b/x.wav': 40 }];
    for (const delays of cases) {
      const { sink } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, slowMedia(delays));
      const lines = manifestLines(sink);
      paths.push(lines.map((l) => l.audio_filepath));
    }
    expect(paths[0][0]).toBe('audio/x.wav');
    expect(paths[0][1]).toMatch(/^audio\/x_[0-9a-f]{4}\.wav$/);
    expect(paths[1]).toEqual(paths[0]);
    expect(paths[2]).toEqual(paths[0]);
  });

  it('a source whose open fails does not hold up or rename the others', async () => {
    const media: MediaAccess = {
      async open(url) {
        if (url.includes('missing')) throw new Error('not found');
        return slowMedia({}).open(url);
      },
    };
    const tasks = [task(1, 's3://b0/missing/x.wav'), task(2, 's3://b1/a/x.wav'), task(3, 's3://b2/b/x.wav')];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, media);
    const lines = manifestLines(sink);
    expect(lines.map((l) => l.text)).toEqual(['t2', 't3']);
    expect(lines[0].audio_filepath).toBe('audio/x.wav');
    expect(lines[1].audio_filepath).toMatch(/^audio\/x_[0-9a-f]{4}\.wav$/);
    expect(report.skipped.map((e) => e.taskId)).toEqual([1]);
  });
});
