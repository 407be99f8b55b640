/**
 * A copy into the output (an image for VOC/*_WITH_IMAGES, a WAV for ASR_MANIFEST) can fail on
 * either side: the media could not be read (that task's problem: reported, the run goes on) or
 * the output could not take the bytes (the export is broken: the run fails, so a render is retried
 * rather than published without the file). Both reach the writer through the sink's copyFrom;
 * guardMedia marks the media side (QA s6 F2).
 */
import { describe, expect, it } from 'vitest';
import { makeWav } from '../../bench/generate.ts';
import type { MediaAccess, MediaFile } from '../../functions/core/media.ts';
import { guardMedia, isMediaFailure, isOutputFailure } from '../../functions/core/output-failure.ts';
import { exportWith, MemorySink } from '../helpers/export.ts';
import { FakeMedia, pngBytes } from './images/fake-media.ts';

const IMAGE_CONFIG =
  '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>';
const AUDIO_CONFIG =
  '<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>';

const box = {
  from_name: 'label',
  to_name: 'image',
  type: 'rectanglelabels',
  original_width: 40,
  original_height: 30,
  value: { x: 10, y: 10, width: 20, height: 20, rotation: 0, rectanglelabels: ['Car'] },
};
const imageTasks = [1, 2].map((id) => ({
  id,
  data: { image: `s3://media/img${id}.png` },
  annotations: [{ id, result: [box] }],
}));
const audioTasks = [1, 2].map((id) => ({
  id,
  data: { audio: `s3://media/a${id}.wav` },
  annotations: [
    {
      id,
      result: [{ from_name: 'transcription', to_name: 'audio', type: 'textarea', value: { text: ['hi'] } }],
    },
  ],
}));

/** A system error as a disk or a socket gives it (it has a syscall). */
const systemError = (code: string, syscall: string) =>
  Object.assign(new Error(`${code}: ${syscall} failed`), { code, syscall });

/** A memory sink whose copies of `failing` paths throw `error` after reading the source whole. */
class FailingCopySink extends MemorySink {
  constructor(
    private readonly failing: (path: string, local: boolean) => boolean,
    private readonly error: () => Error,
  ) {
    super();
  }
  override async copyFrom(path: string, source: AsyncIterable<Uint8Array>, local?: { path: string }) {
    if (this.failing(path, local !== undefined)) {
      if (!local) for await (const _ of source); // the source is read, the write fails
      throw this.error();
    }
    return super.copyFrom(path, source);
  }
}

/** Media whose reads of `broken` urls fail midway, with a system error; `local` files have a path. */
function media(files: Record<string, Buffer>, broken: Set<string>, local = false): MediaAccess {
  return {
    async open(url: string): Promise<MediaFile> {
      const data = files[url];
      return {
        name: url.slice(url.lastIndexOf('/') + 1),
        size: data.length,
        ...(local ? { copyByPath: () => `/media/${url}` } : {}),
        read: () =>
          (async function* () {
            yield data.subarray(0, 40);
            if (broken.has(url)) throw systemError('EIO', 'read');
            yield data.subarray(40);
          })(),
      };
    },
  };
}

describe('a copy that fails: the media or the output', () => {
  const images = { 's3://media/img1.png': pngBytes(40, 30), 's3://media/img2.png': pngBytes(40, 30) };

  it('an image whose write fails fails the run (VOC)', async () => {
    const sink = new FailingCopySink(
      (p) => p.endsWith('img2.png'),
      () => systemError('ENOSPC', 'write'),
    );
    const run = exportWith(imageTasks, IMAGE_CONFIG, 'VOC', {}, new FakeMedia(images), sink);
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/ENOSPC/);
    expect(isOutputFailure(err)).toBe(true);
  });

  it('an image whose read fails midway is reported for its task; the run goes on (VOC)', async () => {
    const { sink, report } = await exportWith(
      imageTasks,
      IMAGE_CONFIG,
      'VOC',
      {},
      media(images, new Set(['s3://media/img2.png'])),
    );
    expect([...sink.files.keys()].filter((p) => p.startsWith('images/'))).toHaveLength(1);
    expect(report.warnings.map((w) => [w.taskId, w.reason])).toEqual([
      [2, expect.stringMatching(/^image s3:\/\/media\/img2\.png could not be copied to images\/.*EIO/)],
    ]);
  });

  const wavs = { 's3://media/a1.wav': makeWav(0.25), 's3://media/a2.wav': makeWav(0.5) };

  it('audio whose write fails fails the run (ASR_MANIFEST)', async () => {
    const sink = new FailingCopySink(
      (p) => p.endsWith('a2.wav'),
      () => systemError('ENOSPC', 'write'),
    );
    await expect(
      exportWith(audioTasks, AUDIO_CONFIG, 'ASR_MANIFEST', {}, media(wavs, new Set()), sink),
    ).rejects.toThrow(/ENOSPC/);
  });

  it('audio whose read fails leaves its item out; the run goes on (ASR_MANIFEST)', async () => {
    const { sink, report } = await exportWith(
      audioTasks,
      AUDIO_CONFIG,
      'ASR_MANIFEST',
      {},
      media(wavs, new Set(['s3://media/a2.wav'])),
    );
    expect(sink.text('manifest.json').trim().split('\n')).toHaveLength(1);
    expect(report.skipped.map((s) => [s.taskId, s.reason])).toEqual([
      [2, expect.stringMatching(/^audio unavailable, item left out: .*EIO/)],
    ]);
  });

  it('a local file that cannot be copied by path is streamed once more to tell whose fault it is', async () => {
    // The copy by path fails (say EACCES on the file); the streamed read fails too: the item's.
    const unreadable = new FailingCopySink(
      (_p, local) => local,
      () => systemError('EACCES', 'copyfile'),
    );
    const left = await exportWith(
      audioTasks,
      AUDIO_CONFIG,
      'ASR_MANIFEST',
      {},
      media(wavs, new Set(['s3://media/a2.wav']), true),
      unreadable,
    );
    expect(left.report.skipped.map((s) => s.taskId)).toEqual([2]);
    expect([...left.sink.files.keys()].sort()).toEqual(['audio/a1.wav', 'manifest.json']);
    // The file reads fine: the output is at fault, the run fails.
    const full = new FailingCopySink(
      (p) => p.endsWith('a2.wav'),
      () => systemError('ENOSPC', 'write'),
    );
    await expect(
      exportWith(audioTasks, AUDIO_CONFIG, 'ASR_MANIFEST', {}, media(wavs, new Set(), true), full),
    ).rejects.toThrow(/ENOSPC/);
  });

  it("guardMedia marks a read failure as the media's, though it carries a syscall", async () => {
    const file = await guardMedia(media(images, new Set(['s3://media/img1.png']))).open(
      's3://media/img1.png',
    );
    const err = await (async () => {
      for await (const _ of file.read());
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('EIO');
    expect(isMediaFailure(err)).toBe(true);
    expect(isOutputFailure(err)).toBe(false);
    expect(isOutputFailure(systemError('EIO', 'read'))).toBe(true); // unmarked: the sink's
  });
});
