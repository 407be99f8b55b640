/**
 * Export options. Defaults reproduce Label Studio's converter; each `fix*` option corrects one of
 * its documented quirks (README "Differences from Label Studio").
 */
import { z } from 'zod';

export const exportOptionsSchema = z.object({
  /** Data key of the object to export (image, text, audio). Default: the first one in the config. */
  dataKey: z.string().min(1).optional(),
  /** CSV/TSV field separator (Label Studio: `,` for CSV, TAB for TSV). */
  csvSeparator: z.string().length(1).optional(),
  /** CONLL2003: write `-DOCSTART- -X- O O`, the first line `spacy convert` expects. */
  spacy: z.boolean().default(false),
  /** CONLL2003: tag spans of every `Labels` control, not only the first one met. */
  fixConllAllLabels: z.boolean().default(false),
  /** CONLL2003: ignore spans without offsets instead of tagging the whole document `O`. */
  fixConllBrokenSpans: z.boolean().default(false),
  /** ASR_MANIFEST: write annotator e-mails (off by default: they are personal data). */
  annotatorEmails: z.boolean().default(false),
  /** ASR_MANIFEST: copy the audio files under `audio/` (Label Studio does). */
  copyAudio: z.boolean().default(true),
  /** BRUSH_TO_NUMPY/PNG/COCO: largest mask (width × height) decoded; bigger regions are reported and left out. */
  brushMaxPixels: z.number().int().positive().default(67_108_864),
  /** BRUSH_TO_NUMPY/PNG: one mask per label per annotation (regions merged) instead of one per region. */
  fixBrushMergePerLabel: z.boolean().default(false),
});

export type ExportOptions = z.infer<typeof exportOptionsSchema>;
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;

export function parseExportOptions(input: ExportOptionsInput = {}): ExportOptions {
  return exportOptionsSchema.parse(input);
}

/** `--fix NAME` switches: each corrects one documented quirk of Label Studio's converter. */
export const FIXES = {
  'conll-all-labels': {
    option: 'fixConllAllLabels',
    description: 'CONLL2003: tag the spans of every Labels control, not only the first one in the results',
  },
  'conll-broken-spans': {
    option: 'fixConllBrokenSpans',
    description: 'CONLL2003: skip a span without start/end instead of tagging the whole document O',
  },
  'brush-merge-per-label': {
    option: 'fixBrushMergePerLabel',
    description:
      'BRUSH_TO_NUMPY/PNG: one file per label of each annotation (its regions merged, named …-<label>-0) instead of one file per region',
  },
} as const satisfies Record<string, { option: keyof ExportOptions; description: string }>;

export type FixName = keyof typeof FIXES;
