/** JSON: the tasks as Label Studio stores them. */
import { jsonWriter } from '../json.ts';
import { defineFormat, SUPPORTED } from '../plugin.ts';

export const JSON_FORMAT = defineFormat({
  name: 'JSON',
  value: 1,
  title: 'JSON',
  description: 'The tasks with their data and full annotations, as Label Studio stores them.',
  tags: [],
  outputs: ['result.json'],
  needsMedia: false,
  convertible: true,
  supports: () => SUPPORTED,
  options: {},
  writer: jsonWriter,
});
