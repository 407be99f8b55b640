import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageStem } from '../../../functions/core/formats/brush.ts';
import { exportWith } from '../../helpers/export.ts';

const CASE = join(import.meta.dirname, '..', '..', 'fixtures', 'cases', 'br-13-brush-png-names-unmappable');
const read = (f: string) => readFileSync(join(CASE, f), 'utf8');
const IMAGE = '/data/upload/2/6d1e2f3a-orchard_north.jpg';

describe('brush mask index and image naming (br-13)', () => {
  it('writes no index and task names by default (Label Studio’s files)', async () => {
    const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_PNG');
    expect([...sink.files.keys()]).toEqual([
      'task-3-annotation-3-by-1-tag-tree-0.png',
      'task-3-annotation-3-by-1-tag-tree-1.png',
      'task-3-annotation-3-by-1-tag-road-0.png',
    ]);
  });

  it('--fix csv-formula-escape reaches masks.csv: a label or image a spreadsheet would run gets a leading quote', async () => {
    const tasks = read('tasks.json').replaceAll('"tree"', '"=HYPERLINK(1)"').replaceAll(IMAGE, `@${IMAGE}`);
    const run = (fixCsvFormulaEscape: boolean) =>
      exportWith(tasks, read('config.xml').replaceAll('"tree"', '"=HYPERLINK(1)"'), 'BRUSH_TO_PNG', {
        brushIndex: 'csv',
        fixCsvFormulaEscape,
      });
    const rows = (await run(true)).sink.text('masks.csv').split('\r\n');
    expect(rows[1]).toMatch(/^[^,]+,3,3,'=HYPERLINK\(1\),'@\/data\/upload\//);
    expect((await run(false)).sink.text('masks.csv').split('\r\n')[1]).toMatch(
      /,3,3,=HYPERLINK\(1\),@\/data/,
    );
  });

  it('--brush-index csv: one row per mask with the expected row of the case', async () => {
    const { sink, report } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_PNG', {
      brushIndex: 'csv',
      fixBrushMergePerLabel: true,
    });
    expect(sink.text('masks.csv')).toBe(
      [
        'file,task_id,annotation_id,label,image,width,height',
        `task-3-annotation-3-by-1-tag-tree-0.png,3,3,tree,${IMAGE},64,48`,
        `task-3-annotation-3-by-1-tag-road-0.png,3,3,road,${IMAGE},64,48`,
        '',
      ].join('\r\n'),
    );
    // Every listed file exists.
    for (const line of sink.text('masks.csv').split('\r\n').slice(1, -1))
      expect(sink.files.has(line.split(',')[0])).toBe(true);
    // Three regions, all written (two merged into tree-0).
    expect(report.toJSON().regions).toEqual({ BRUSH_TO_PNG: { exported: 3, skipped: 0 } });
  });

  it('--brush-index json for BRUSH_TO_NUMPY: an array of rows, one per region without the fix', async () => {
    const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_NUMPY', {
      brushIndex: 'json',
    });
    const rows = JSON.parse(sink.text('masks.json'));
    expect(rows).toEqual([
      {
        file: 'task-3-annotation-3-by-1-tag-tree-0.npy',
        task_id: 3,
        annotation_id: 3,
        label: 'tree',
        image: IMAGE,
        width: 64,
        height: 48,
      },
      expect.objectContaining({ file: 'task-3-annotation-3-by-1-tag-tree-1.npy', label: 'tree' }),
      expect.objectContaining({ file: 'task-3-annotation-3-by-1-tag-road-0.npy', label: 'road' }),
    ]);
    // `/` is not escaped (the file is for people and scripts, not ujson byte-compatibility).
    expect(sink.text('masks.json')).toContain(`"image": "${IMAGE}"`);
  });

  it('an export without masks still writes an empty index (header / [])', async () => {
    const config = read('config.xml');
    const csv = await exportWith(
      [{ id: 1, data: { image: 'a.jpg' }, annotations: [] }],
      config,
      'BRUSH_TO_PNG',
      {
        brushIndex: 'csv',
      },
    );
    expect(csv.sink.text('masks.csv')).toBe('file,task_id,annotation_id,label,image,width,height\r\n');
    const json = await exportWith(
      [{ id: 1, data: { image: 'a.jpg' }, annotations: [] }],
      config,
      'BRUSH_TO_PNG',
      {
        brushIndex: 'json',
      },
    );
    expect(JSON.parse(json.sink.text('masks.json'))).toEqual([]);
  });

  it('--brush-names image: <image stem>-<label>-<n>, numbered across the export', async () => {
    const tasks = JSON.parse(read('tasks.json'));
    // A second annotation on the same image continues the numbering instead of overwriting.
    const second = structuredClone(tasks[0].annotations[0]);
    second.id = 4;
    second.created_at = '2023-03-22T10:00:00Z';
    tasks[0].annotations.push(second);
    const { sink, report } = await exportWith(tasks, read('config.xml'), 'BRUSH_TO_PNG', {
      brushNames: 'image',
      brushIndex: 'csv',
    });
    expect([...sink.files.keys()].filter((f) => f.endsWith('.png'))).toEqual([
      '6d1e2f3a-orchard_north-tree-0.png',
      '6d1e2f3a-orchard_north-tree-1.png',
      '6d1e2f3a-orchard_north-road-0.png',
      '6d1e2f3a-orchard_north-tree-2.png',
      '6d1e2f3a-orchard_north-tree-3.png',
      '6d1e2f3a-orchard_north-road-1.png',
    ]);
    const rows = sink.text('masks.csv').split('\r\n');
    expect(rows[1]).toBe(`6d1e2f3a-orchard_north-tree-0.png,3,3,tree,${IMAGE},64,48`);
    expect(rows[4]).toBe(`6d1e2f3a-orchard_north-tree-2.png,3,4,tree,${IMAGE},64,48`);
    expect(report.warningCount).toBe(0);
  });

  it('--brush-names image with the merge fix: one file per label per annotation', async () => {
    const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_NUMPY', {
      brushNames: 'image',
      fixBrushMergePerLabel: true,
    });
    expect([...sink.files.keys()]).toEqual([
      '6d1e2f3a-orchard_north-tree-0.npy',
      '6d1e2f3a-orchard_north-road-0.npy',
    ]);
  });

  it('image names go through output-name bounding: a 300-byte stem is cut with a hash, the extension kept', async () => {
    const tasks = JSON.parse(read('tasks.json'));
    tasks[0].data.image = `/data/upload/2/${'x'.repeat(300)}.jpg`;
    const { sink } = await exportWith(tasks, read('config.xml'), 'BRUSH_TO_PNG', { brushNames: 'image' });
    const names = [...sink.files.keys()];
    expect(names).toHaveLength(3);
    for (const n of names) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
      expect(n).toMatch(/^x+~[0-9a-f]{10}\.png$/);
    }
    expect(new Set(names).size).toBe(3);
  });

  it('--brush-names image without an image value: task names, with a warning', async () => {
    const tasks = JSON.parse(read('tasks.json'));
    tasks[0].data = { other: 1 };
    const { sink, report } = await exportWith(tasks, read('config.xml'), 'BRUSH_TO_PNG', {
      brushNames: 'image',
    });
    expect([...sink.files.keys()][0]).toBe('task-3-annotation-3-by-1-tag-tree-0.png');
    expect(report.warnings.map((w) => w.reason)).toEqual([
      expect.stringContaining('data["image"] is not an image path or URL'),
    ]);
  });

  it('the image stem is YOLO’s label stem: upload basename, hashed cache name with a host', () => {
    expect(imageStem(IMAGE)).toBe('6d1e2f3a-orchard_north');
    expect(imageStem('https://cdn.example.com/a/b/photo.final.png?x=1')).toMatch(
      /^[0-9a-f]{8}__photo\.final$/,
    );
    expect(imageStem(IMAGE, 'https://ls.example.com')).toMatch(/^[0-9a-f]{8}__6d1e2f3a-orchard_north$/);
    expect(imageStem(5)).toBeUndefined();
    expect(imageStem('')).toBeUndefined();
  });
});

describe('brush regions left out are accounted (budget, size)', () => {
  it('a region past the task pixel budget is a skipped result with its id, the others exported', async () => {
    const { sink, report } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_PNG', {
      brushMaxTaskPixels: 64 * 48 * 2,
      brushIndex: 'csv',
    });
    expect([...sink.files.keys()].filter((f) => f.endsWith('.png'))).toHaveLength(2);
    expect(report.skipped.map((e) => [e.taskId, e.annotationId, e.resultId, e.fromName, e.format])).toEqual([
      [3, 3, 's3', 'tag', 'BRUSH_TO_PNG'],
    ]);
    expect(report.skipped[0].reason).toContain('brushMaxTaskPixels');
    expect(report.toJSON().regions).toEqual({ BRUSH_TO_PNG: { exported: 2, skipped: 1 } });
    // The index lists only the masks written.
    expect(sink.text('masks.csv').split('\r\n').filter(Boolean)).toHaveLength(3);
  });

  it('a region above brushMaxPixels is skipped and accounted in BRUSH_TO_NUMPY too', async () => {
    const { report } = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_NUMPY', {
      brushMaxPixels: 100,
    });
    expect(report.toJSON().regions).toEqual({ BRUSH_TO_NUMPY: { exported: 0, skipped: 3 } });
    expect(report.skipped.map((e) => e.resultId)).toEqual(['s1', 's2', 's3']);
  });
});

describe('BRUSH_TO_COCO accounts for every result', () => {
  it('br-13 input: three masks traced and exported; a budget refusal is a skipped result with its id', async () => {
    const all = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_COCO');
    expect(all.report.toJSON().regions).toEqual({ BRUSH_TO_COCO: { exported: 3, skipped: 0 } });
    const limited = await exportWith(read('tasks.json'), read('config.xml'), 'BRUSH_TO_COCO', {
      brushMaxTaskPixels: 64 * 48,
    });
    expect(limited.report.skipped.map((e) => [e.resultId, e.format])).toEqual([
      ['s2', 'BRUSH_TO_COCO'],
      ['s3', 'BRUSH_TO_COCO'],
    ]);
    expect(limited.report.toJSON().regions).toEqual({ BRUSH_TO_COCO: { exported: 1, skipped: 2 } });
  });
});
