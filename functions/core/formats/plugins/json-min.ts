/** JSON_MIN: one flat record per annotation. */
import { jsonMinWriter } from '../json-min.ts';
import { defineFormat, SUPPORTED } from '../plugin.ts';
import { fix } from './shared-options.ts';

/**
 * JSON_MIN/CSV/TSV: a Choices or TextArea value is always its list (of choices, of text lines),
 * never a lone string for one entry and the whole region object for several (br-01).
 */
export const fixJsonminStableText = fix(
  'jsonmin-stable-text',
  'JSON_MIN/CSV/TSV: a Choices/TextArea value is always its list of choices/texts (["a"], ["l1","l2"]), never one string for one entry and the whole region object for several',
);

export const JSON_MIN_FORMAT = defineFormat({
  name: 'JSON_MIN',
  value: 2,
  title: 'JSON-MIN',
  description: 'One flat record per annotation: the task data plus a simplified value per control tag.',
  tags: [],
  outputs: ['result.json'],
  needsMedia: false,
  convertible: true,
  supports: () => SUPPORTED,
  options: { fixJsonminStableText },
  writer: jsonMinWriter,
});
