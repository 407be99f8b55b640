/** CSV_OLD: listed by Label Studio (and offered for single-object configs), never produced. */
import { defineFormat } from '../plugin.ts';
import { singleDataKey } from '../support.ts';

export const CSV_OLD_FORMAT = defineFormat({
  name: 'CSV_OLD',
  value: 13,
  title: 'CSV (old)',
  description: 'The legacy CSV layout; listed by the reference but not produced by its converter.',
  tags: [],
  outputs: [],
  needsMedia: false,
  convertible: false,
  supports: singleDataKey,
  options: {},
});
