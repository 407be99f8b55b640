/**
 * Parsed export options serialize in one order whatever order they were given in (manifests record
 * them and must be byte-stable run to run): the registry's key order (KEY_ORDER, then the options
 * not listed there — conllMultiLabel, brushNames, asrSegments, fixJsonminStableText, imageDir, … — in
 * registry order), not the input's.
 */
import { describe, expect, it } from 'vitest';
import { type ExportOptionsInput, parseExportOptions } from '../../../functions/core/formats/options.ts';
import { REGISTRY } from '../../../functions/core/formats/registry.ts';

const GIVEN: ExportOptionsInput = {
  asrSegments: true,
  imageDir: 'pics',
  conllMultiLabel: 'columns',
  fixJsonminStableText: true,
  dataKey: 'image',
  fixCocoImagePerTask: true,
};

describe('parsed options key order', () => {
  it('is the registry order, whatever the input order', () => {
    const forward = parseExportOptions(GIVEN);
    const backward = parseExportOptions(Object.fromEntries(Object.entries(GIVEN).reverse()));
    expect(JSON.stringify(backward)).toBe(JSON.stringify(forward));
    const keys = Object.keys(forward);
    const registryKeys = [...REGISTRY.options.keys()];
    expect(keys).toEqual(registryKeys.filter((k) => keys.includes(k)));
    // dataKey is first in KEY_ORDER; the options added later follow the listed ones.
    expect(keys[0]).toBe('dataKey');
    const after = (k: string) => keys.indexOf(k) > keys.indexOf('fixCsvFormulaEscape');
    for (const k of ['conllMultiLabel', 'asrSegments', 'fixJsonminStableText', 'imageDir'])
      expect(after(k), k).toBe(true);
  });
});
