import { describe, expect, it } from 'vitest';
import { makeWav } from '../../../bench/generate.ts';
import type { MediaAccess, MediaFile } from '../../../functions/core/media.ts';
import { exportWith } from '../../helpers/export.ts';

/** Audio with speaker labels and a per-region transcript, as in Label Studio's ASR segment templates. */
const CONFIG = `<View>
  <Labels name="speaker" toName="audio"><Label value="Alice"/><Label value="Bob"/></Labels>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
</View>`;

function media(files: Record<string, Buffer>): MediaAccess {
  return {
    async open(url: string): Promise<MediaFile> {
      const data = files[url];
      if (!data) throw new Error(`${url}: not found`);
      return {
        name: url.split('/').pop()!,
        size: data.length,
        read: (range) =>
          (async function* () {
            yield range ? data.subarray(range.start, range.end) : data;
          })(),
      };
    },
  };
}

const region = (id: string, start: number, end: number, speaker: string, text: string[]) => [
  {
    id,
    from_name: 'speaker',
    to_name: 'audio',
    type: 'labels',
    value: { start, end, channel: 0, labels: [speaker] },
  },
  {
    id,
    from_name: 'transcription',
    to_name: 'audio',
    type: 'textarea',
    value: { start, end, channel: 0, text },
  },
];

const TASKS = [
  {
    id: 5,
    data: { audio: '/data/upload/1/talk.wav' },
    annotations: [
      {
        id: 50,
        completed_by: 3,
        // Regions in drawing order, not time order.
        result: [
          ...region('r2', 2.5, 4, 'Bob', ['fine thanks']),
          ...region('r1', 0.25, 2.5, 'Alice', ['hello', 'how are you']),
        ],
      },
    ],
  },
];
const MEDIA = () => media({ '/data/upload/1/talk.wav': makeWav(4, 16000) });

describe('ASR_MANIFEST per-region transcripts', () => {
  it('default: one line per task with the first transcript’s first line (Label Studio), a merge warning, the rest skipped', async () => {
    const { sink, report } = await exportWith(TASKS, CONFIG, 'ASR_MANIFEST', {}, MEDIA());
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/talk.wav", "duration": 4.0, "text": "fine thanks", "annotator": "3"}\n',
    );
    expect(report.warnings.map((w) => [w.taskId, w.annotationId, w.format])).toEqual([
      [5, 50, 'ASR_MANIFEST'],
    ]);
    expect(report.warnings[0].reason).toContain(
      '2 segments with their own transcripts are merged into one manifest line',
    );
    // r2's transcript is the line's text; r1's transcript and both speaker labels are not in the manifest.
    expect(report.skipped.map((e) => [e.resultId, e.fromName])).toEqual([
      ['r2', 'speaker'],
      ['r1', 'speaker'],
      ['r1', 'transcription'],
    ]);
    expect(report.toJSON().regions).toEqual({ ASR_MANIFEST: { exported: 1, skipped: 3 } });
  });

  it('--asr-segments: one line per segment in time order, offset/duration in seconds, lines joined, label', async () => {
    const { sink, report } = await exportWith(TASKS, CONFIG, 'ASR_MANIFEST', { asrSegments: true }, MEDIA());
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/talk.wav", "offset": 0.25, "duration": 2.25, "text": "hello how are you", "label": "Alice", "annotator": "3"}\n' +
        '{"audio_filepath": "audio/talk.wav", "offset": 2.5, "duration": 1.5, "text": "fine thanks", "label": "Bob", "annotator": "3"}\n',
    );
    expect(sink.files.has('audio/talk.wav')).toBe(true);
    expect(report.warningCount).toBe(0);
    expect(report.toJSON().regions).toEqual({ ASR_MANIFEST: { exported: 4, skipped: 0 } });
  });

  it('--asr-segments: an item without segments keeps the one line per task', async () => {
    const tasks = [
      {
        id: 6,
        data: { audio: '/data/upload/1/talk.wav' },
        annotations: [
          {
            id: 60,
            completed_by: 3,
            result: [
              {
                id: 'w',
                from_name: 'transcription',
                to_name: 'audio',
                type: 'textarea',
                value: { text: ['whole file'] },
              },
            ],
          },
        ],
      },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', { asrSegments: true }, MEDIA());
    expect(sink.text('manifest.json')).toBe(
      '{"audio_filepath": "audio/talk.wav", "duration": 4.0, "text": "whole file", "annotator": "3"}\n',
    );
    expect(report.toJSON().regions).toEqual({ ASR_MANIFEST: { exported: 1, skipped: 0 } });
  });

  it('--asr-segments: a whole-audio transcript next to segments is skipped with its reason', async () => {
    const tasks = structuredClone(TASKS);
    tasks[0].annotations[0].result.push({
      id: 'w',
      from_name: 'transcription',
      to_name: 'audio',
      type: 'textarea',
      value: { text: ['everything'] },
    } as never);
    const { sink, report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', { asrSegments: true }, MEDIA());
    expect(sink.text('manifest.json').trim().split('\n')).toHaveLength(2);
    expect(report.skipped.map((e) => [e.resultId, e.reason])).toEqual([
      ['w', expect.stringContaining('a transcript without start/end next to per-region transcripts')],
    ]);
  });

  it('one segment is not a merge: no warning by default', async () => {
    const tasks = [
      { ...TASKS[0], annotations: [{ id: 1, completed_by: 3, result: region('r', 1, 2, 'Bob', ['x']) }] },
    ];
    const { report } = await exportWith(tasks, CONFIG, 'ASR_MANIFEST', {}, MEDIA());
    expect(report.warningCount).toBe(0);
  });

  it('unreachable audio: every result of the item skipped', async () => {
    const { report } = await exportWith(TASKS, CONFIG, 'ASR_MANIFEST', { asrSegments: true }, media({}));
    expect(report.toJSON().regions).toEqual({ ASR_MANIFEST: { exported: 0, skipped: 4 } });
  });
});
