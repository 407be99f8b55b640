/** CSV and TSV: one row per annotation. */
import { z } from 'zod';
import { csvWriter } from '../csv.ts';
import { defineFormat, type FormatOption, SUPPORTED } from '../plugin.ts';
import { fixJsonminStableText } from './json-min.ts';
import { fix } from './shared-options.ts';

const options = {
  /** CSV/TSV field separator (Label Studio: `,` for CSV, TAB for TSV). */
  csvSeparator: {
    schema: z.string().length(1).optional(),
    cli: {
      flag: 'csv-separator',
      type: 'string',
      arg: 'CHAR',
      help: 'CSV/TSV separator (default "," for CSV, TAB for TSV; "\\t" accepted)',
      toOption: (raw) => (raw === '\\t' ? '\t' : raw),
    },
  } satisfies FormatOption,
  /** CSV/TSV: prefix `'` to text cells starting with `=`, `+`, `-`, `@`, TAB or CR (spreadsheet formulas). */
  fixCsvFormulaEscape: fix(
    'csv-formula-escape',
    "CSV/TSV: prefix ' to text cells (header included) starting with = + - @ TAB or CR, so spreadsheets show them as text instead of running them as formulas",
  ),
  fixJsonminStableText,
};

export const CSV_FORMAT = defineFormat({
  name: 'CSV',
  value: 3,
  title: 'CSV',
  description: 'One comma-separated row per annotation, with a column per data key and control tag.',
  tags: [],
  outputs: ['result.csv'],
  needsMedia: false,
  convertible: true,
  supports: () => SUPPORTED,
  options,
  writer: (ctx) => csvWriter(ctx, ','),
});

export const TSV_FORMAT = defineFormat({
  name: 'TSV',
  value: 4,
  title: 'TSV',
  description: 'Like CSV, separated by tabs.',
  tags: [],
  outputs: ['result.csv'],
  needsMedia: false,
  convertible: true,
  supports: () => SUPPORTED,
  options,
  writer: (ctx) => csvWriter(ctx, '\t'),
});
