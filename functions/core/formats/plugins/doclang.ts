/** DOCLANG: listed for configs with a TextArea, ReactCode or CustomInterface; not implemented. */
import { defineFormat, supportedIf } from '../plugin.ts';

const DOCLANG_CONTROLS = ['TextArea', 'ReactCode', 'CustomInterface'];

export const DOCLANG_FORMAT = defineFormat({
  name: 'DOCLANG',
  value: 18,
  title: 'DocLang (.dclx)',
  description: 'DocLang document archives (document XML plus page images) for document model training.',
  tags: ['document', 'doclang'],
  outputs: ['*.dclx'],
  needsMedia: true,
  convertible: true,
  // Offered even for configs with several data keys.
  supports: (c) =>
    supportedIf(DOCLANG_CONTROLS.some(c.has), 'no TextArea, ReactCode or CustomInterface control'),
  options: {},
});
