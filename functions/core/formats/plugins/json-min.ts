/** JSON_MIN: one flat record per annotation. */
import { jsonMinWriter } from '../json-min.ts';
import { defineFormat, SUPPORTED } from '../plugin.ts';

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
  options: {},
  writer: jsonMinWriter,
});
