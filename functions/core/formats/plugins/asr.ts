/** ASR_MANIFEST: audio transcriptions as JSON Lines, with the audio files. */
import { z } from 'zod';
import { asrWriter } from '../asr.ts';
import { defineFormat, type FormatOption, supportedIf } from '../plugin.ts';
import { allOf, singleDataKey } from '../support.ts';

export const ASR_MANIFEST_FORMAT = defineFormat({
  name: 'ASR_MANIFEST',
  value: 10,
  title: 'ASR Manifest',
  description: 'Audio transcriptions as a JSON-lines manifest for speech recognition training.',
  tags: ['speech recognition'],
  outputs: ['manifest.json', 'audio/'],
  needsMedia: true,
  convertible: true,
  supports: (c) =>
    allOf(
      singleDataKey(c),
      supportedIf(
        (c.inputs.has('Audio') || c.inputs.has('AudioPlus')) && c.has('TextArea'),
        'no TextArea on an Audio',
      ),
    ),
  options: {
    /**
     * ASR_MANIFEST: the annotator field holds the e-mail of `completed_by` instead of the user id
     * (the default: e-mails are personal data).
     */
    annotatorEmails: {
      schema: z.boolean().default(false),
      cli: {
        flag: 'annotator-emails',
        type: 'boolean',
        help: 'ASR_MANIFEST: write annotator e-mails (of an expanded completed_by)\ninstead of the user ids written by default',
      },
    } satisfies FormatOption,
    /**
     * ASR_MANIFEST: one line per segment with its own transcript (`offset`, `duration`, `text`,
     * `label`), as NeMo manifests allow, instead of Label Studio's one line per task.
     */
    asrSegments: {
      schema: z.boolean().default(false),
      cli: {
        flag: 'asr-segments',
        type: 'boolean',
        help: 'ASR_MANIFEST: one line per transcribed segment (offset, duration, text,\nlabel) instead of one per task',
      },
    } satisfies FormatOption,
    /** ASR_MANIFEST: copy the audio files under `audio/` (Label Studio does). */
    copyAudio: { schema: z.boolean().default(true) } satisfies FormatOption,
  },
  writer: asrWriter,
});
