/** Fix csv-formula-escape: spreadsheet formulas in CSV/TSV cells neutralised with a leading `'`. */
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../../functions/core/formats/csv.ts';
import { NumLit } from '../../../functions/core/json/value.ts';
import { exportWith } from '../../helpers/export.ts';

const CONFIG = `<View><Text name="text" value="$text"/><Choices name="=pick" toName="text"><Choice value="@x"/></Choices></View>`;

describe('csv-formula-escape', () => {
  it("csvCell prefixes ' to text starting with = + - @ TAB CR only when asked", () => {
    for (const s of ['=1+1', '+1', '-x', '@a', '\tA', '\rA']) {
      expect(csvCell(s)).toBe(`"${s}"`);
      expect(csvCell(s, true)).toBe(`"'${s}"`);
    }
    expect(csvCell('a=1', true)).toBe('"a=1"');
    expect(csvCell(' =1', true)).toBe('" =1"');
    expect(csvCell('="x"', true)).toBe(`"'=""x"""`);
    // Numbers stay numbers: a negative number is not a formula.
    expect(csvCell(-2, true)).toBe('-2');
    expect(csvCell(new NumLit(-2.5, true, '-2.5'), true)).toBe('-2.5');
    expect(csvCell(true, true)).toBe('True');
  });

  it('escapes user-derived header cells too (data keys, control names)', async () => {
    const tasks = [
      {
        id: 1,
        data: { text: 'hi', '-key': 'v' },
        annotations: [
          {
            id: 2,
            completed_by: 1,
            result: [{ from_name: '=pick', to_name: 'text', type: 'choices', value: { choices: ['@x'] } }],
          },
        ],
      },
    ];
    const plain = (await exportWith(tasks, CONFIG, 'CSV')).sink.text('result.csv');
    const fixed = (await exportWith(tasks, CONFIG, 'CSV', { fixCsvFormulaEscape: true })).sink.text(
      'result.csv',
    );
    expect(plain.split('\r\n')[0]).toBe(
      '"-key","=pick","annotation_id","annotator","created_at","id","lead_time","text","updated_at"',
    );
    expect(fixed.split('\r\n')[0]).toBe(
      `"'-key","'=pick","annotation_id","annotator","created_at","id","lead_time","text","updated_at"`,
    );
    expect(fixed.split('\r\n')[1]).toBe(`"v","'@x",2,"1","",1,"","hi",""`);
  });
});
