/** Writers name files from task data through core/output-names.ts: brush masks and audio copies. */
import { describe, expect, it } from 'vitest';
import { makeWav } from '../../../bench/generate.ts';
import { encodeRle } from '../../../functions/core/brush/rle.ts';
import type { MediaAccess, MediaFile } from '../../../functions/core/media.ts';
import { nameHash } from '../../../functions/core/output-names.ts';
import { exportWith } from '../../helpers/export.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('derived names in brush and ASR writers', () => {
  it('BRUSH_TO_PNG: a label that makes the mask name over 255 bytes is shortened, .png kept', async () => {
    const label = `${'Ö'.repeat(150)}`; // 300 bytes
    const config = `<View><Image name="image" value="$image"/><BrushLabels name="tag" toName="image"><Label value="${label}"/><Label value="ok"/></BrushLabels></View>`;
    const rle = encodeRle(Array.from({ length: 2 * 2 * 4 }, (_, i) => (i % 4 === 3 ? 255 : 0)));
    const region = (l: string) => ({
      from_name: 'tag',
      to_name: 'image',
      type: 'brushlabels',
      original_width: 2,
      original_height: 2,
      value: { format: 'rle', rle, brushlabels: [l] },
    });
    const tasks = [
      {
        id: 1,
        data: { image: 'x.png' },
        annotations: [{ id: 2, completed_by: 3, result: [region(label), region('ok')] }],
      },
    ];
    const { sink, report } = await exportWith(tasks, config, 'BRUSH_TO_PNG');
    const names = [...sink.files.keys()].sort();
    const full = `task-1-annotation-2-by-3-tag-${label}-0.png`;
    expect(names).toHaveLength(2);
    expect(names).toContain('task-1-annotation-2-by-3-tag-ok-0.png');
    const long = names.find((n) => n !== 'task-1-annotation-2-by-3-tag-ok-0.png')!;
    expect(bytes(long)).toBeLessThanOrEqual(255);
    expect(long.startsWith('task-1-annotation-2-by-3-tag-ÖÖ')).toBe(true);
    expect(long.endsWith(`~${nameHash(full)}.png`)).toBe(true);
    expect(report.skippedCount).toBe(0);
  });

  it('ASR_MANIFEST: an audio name with a backslash and control character is mapped, and the manifest points at it', async () => {
    const wav = makeWav(0.5, 16000);
    const media: MediaAccess = {
      async open(): Promise<MediaFile> {
        return {
          name: 'a\\..\\b\u0001.wav',
          size: wav.length,
          read: () =>
            (async function* () {
              yield wav;
            })(),
        };
      },
    };
    const config =
      '<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>';
    const tasks = [
      {
        id: 1,
        data: { audio: 'http://h/a.wav' },
        annotations: [
          {
            id: 1,
            completed_by: 1,
            result: [
              { from_name: 'transcription', to_name: 'audio', type: 'textarea', value: { text: ['hi'] } },
            ],
          },
        ],
      },
    ];
    const { sink } = await exportWith(tasks, config, 'ASR_MANIFEST', {}, media);
    const audio = [...sink.files.keys()].filter((k) => k.startsWith('audio/'));
    expect(audio).toEqual([`audio/a_.._b_~${nameHash('a\\..\\b\u0001.wav')}.wav`]);
    expect(JSON.parse(sink.text('manifest.json')).audio_filepath).toBe(audio[0]);
  });
});
