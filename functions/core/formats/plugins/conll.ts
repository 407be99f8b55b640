/** CONLL2003: tokens with BIO tags for named entity recognition. */
import { z } from 'zod';
import { conllWriter } from '../conll.ts';
import { defineFormat, type FormatOption, supportedIf } from '../plugin.ts';
import { allOf, singleDataKey } from '../support.ts';
import { fix } from './shared-options.ts';

export const CONLL2003_FORMAT = defineFormat({
  name: 'CONLL2003',
  value: 5,
  title: 'CONLL2003',
  description: 'Tokens with BIO tags, one per line, for named entity recognition models.',
  tags: ['sequence labeling', 'text tagging', 'named entity recognition'],
  outputs: ['result.conll'],
  needsMedia: false,
  convertible: true,
  supports: (c) =>
    allOf(singleDataKey(c), supportedIf(c.inputs.has('Text') && c.has('Labels'), 'no Labels on a Text')),
  options: {
    /** CONLL2003: write `-DOCSTART- -X- O O`, the first line `spacy convert` expects. */
    spacy: {
      schema: z.boolean().default(false),
      cli: {
        flag: 'spacy',
        type: 'boolean',
        help: 'CONLL2003: write "-DOCSTART- -X- O O" as spacy convert expects',
      },
    } satisfies FormatOption,
    /**
     * CONLL2003: a span with several labels keeps its first (`first`, Label Studio's output, each
     * such span warned) or all of them (`columns`: one tag column per label position, as many as
     * the config's largest Labels control has labels).
     */
    conllMultiLabel: {
      schema: z.enum(['first', 'columns']).default('first'),
      cli: {
        flag: 'conll-multi-label',
        type: 'string',
        arg: 'MODE',
        help: 'CONLL2003: a span with several labels keeps the first (first, default)\nor all: one tag column per label position (columns)',
      },
    } satisfies FormatOption,
    /** CONLL2003: tag spans of every `Labels` control, not only the first one met. */
    fixConllAllLabels: fix(
      'conll-all-labels',
      'CONLL2003: tag the spans of every Labels control, not only the first one in the results',
    ),
    /** CONLL2003: ignore spans without offsets instead of tagging the whole document `O`. */
    fixConllBrokenSpans: fix(
      'conll-broken-spans',
      'CONLL2003: skip a span without start/end instead of tagging the whole document O',
    ),
  },
  writer: conllWriter,
});
