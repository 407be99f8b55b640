import { describe, expect, it } from 'vitest';
import { RegionLedger } from '../../functions/core/accounting.ts';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { itemsOfTask } from '../../functions/core/items.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { Report } from '../../functions/core/report.ts';

const CONFIG = `<View><Image name="image" value="$image"/>
<RectangleLabels name="box" toName="image"><Label value="a"/></RectangleLabels>
<Choices name="ok" toName="image"><Choice value="yes"/></Choices></View>`;

const task = (result: unknown[]): JsonObject =>
  ({ id: 7, data: { image: 'x.png' }, annotations: [{ id: 70, result }] }) as unknown as JsonObject;

const box = (id: string) => ({
  id,
  from_name: 'box',
  to_name: 'image',
  type: 'rectanglelabels',
  value: { x: 1, y: 1, width: 2, height: 2, rectanglelabels: ['a'] },
});
const choice = { id: 'c1', from_name: 'ok', to_name: 'image', type: 'choices', value: { choices: ['yes'] } };
const stray = { id: 's1', from_name: 'gone', to_name: 'image', type: 'labels', value: { labels: ['a'] } };
const noValue = { id: 'n1', from_name: 'box', to_name: 'image', type: 'rectanglelabels' };

function run(result: unknown[], mark: (acc: ReturnType<RegionLedger['item']>, values: JsonObject[]) => void) {
  const report = new Report();
  const ledger = new RegionLedger({ report, format: 'TEST' }, 'FALLBACK');
  const ref = { source: 'in.json[0]', taskId: 7 };
  for (const item of itemsOfTask(task(result), parseLabelConfig(CONFIG), ref, report)) {
    const acc = ledger.item(item, ref);
    mark(acc, [...item.output.values()].flat());
  }
  return report;
}

describe('RegionLedger', () => {
  it('accounts every result: written, skipped with a reason, or left by close with its reason', () => {
    const report = run([box('b1'), box('b2'), choice], (acc, values) => {
      acc.exported(values[0]);
      acc.skip(values[1], 'broken box');
      acc.close((v) => `TEST cannot carry a ${String(v.type)} result`);
    });
    expect(report.toJSON().regions).toEqual({ TEST: { exported: 1, skipped: 2 } });
    expect(report.skipped).toEqual([
      {
        source: 'in.json[0]',
        taskId: 7,
        annotationId: 70,
        resultId: 'b2',
        fromName: 'box',
        type: 'rectanglelabels',
        format: 'TEST',
        reason: 'broken box',
      },
      expect.objectContaining({
        resultId: 'c1',
        fromName: 'ok',
        type: 'choices',
        reason: 'TEST cannot carry a Choices result',
      }),
    ]);
  });

  it('reports results items.ts could not read (unknown from_name, no value) as skipped', () => {
    const report = run([box('b1'), stray, noValue], (acc) => acc.close());
    expect(report.toJSON().regions).toEqual({ TEST: { exported: 1, skipped: 2 } });
    expect(report.skipped.map((e) => [e.resultId, e.fromName, e.type])).toEqual([
      ['s1', 'gone', 'labels'],
      ['n1', 'box', 'rectanglelabels'],
    ]);
    expect(report.skipped[0].reason).toContain('not a control of the label config');
  });

  it('close() without a reason counts the rest as written; revoke turns written results into skips', () => {
    let afterClose: unknown;
    const report = run([box('b1'), choice], (acc) => {
      acc.close();
      afterClose = acc.pending().length;
      acc.revoke('replaced by an older annotation');
    });
    expect(afterClose).toBe(0);
    expect(report.toJSON().regions).toEqual({ TEST: { exported: 0, skipped: 2 } });
    expect(report.skipped.map((e) => e.reason)).toEqual([
      'replaced by an older annotation',
      'replaced by an older annotation',
    ]);
  });

  it('a warning counts the result as written; the fallback name is used without ctx.format', () => {
    const report = new Report();
    const ledger = new RegionLedger({ report }, 'FALLBACK');
    const ref = { source: 's', taskId: 7 };
    const [item] = itemsOfTask(task([box('b1')]), parseLabelConfig(CONFIG), ref, report);
    const acc = ledger.item(item, ref);
    acc.warn([...item.output.values()][0][0], 'outside the image');
    acc.close(() => 'never');
    expect(report.toJSON().regions).toEqual({ FALLBACK: { exported: 1, skipped: 0 } });
    expect(report.warnings[0]).toMatchObject({
      resultId: 'b1',
      format: 'FALLBACK',
      reason: 'outside the image',
    });
  });
});
