/** Issue 11 cases (test/fixtures/cases/): br-03, br-07, br-08 through `main`, with their expected values. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';

const CASES = join(import.meta.dirname, '..', 'fixtures', 'cases');
const BR03 = join(CASES, 'br-03-yolo-keypoints-video-empty-labels');
const BR07 = join(CASES, 'br-07-yolo-polygon-missing-points');
const BR08 = join(CASES, 'br-08-coco-negative-vs-unlabeled');

async function run(...argv: string[]) {
  let stderr = '';
  let stdout = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    stderr += String(c);
    return true;
  });
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    stdout += String(c);
    return true;
  });
  try {
    const status = await main(argv);
    return { status, stderr, stdout };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

const out = () => mkdtempSync(join(tmpdir(), 'ls-i11-'));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('br-07: broken polygons are never written and always reported', () => {
  for (const format of ['YOLO', 'YOLO_OBB']) {
    it(`${format}: labels/11aa22bb-roof_01.txt has only p1; p2 and p3 are skipped entries`, async () => {
      const o = out();
      const r = await run(
        'convert',
        '-i',
        join(BR07, 'tasks.json'),
        '-c',
        join(BR07, 'config.xml'),
        '-o',
        o,
        '-f',
        format,
        '--upload-dir',
        o,
      );
      expect(r.status).toBe(0);
      expect(readFileSync(join(o, 'labels', '11aa22bb-roof_01.txt'), 'utf8')).toBe(
        '0 0.1 0.1 0.3 0.1 0.3 0.25 0.1 0.25\n',
      );
      const report = json(join(o, 'report.json'));
      const regionSkips = report.skipped.filter((e: { resultId?: string }) => e.resultId);
      expect(
        regionSkips.map((e: Record<string, unknown>) => [
          e.taskId,
          e.annotationId,
          e.resultId,
          e.fromName,
          e.type,
          e.reason,
        ]),
      ).toEqual([
        [1, 21, 'p2', 'label', 'polygonlabels', 'a polygon has no points; it is left out'],
        [
          1,
          21,
          'p3',
          'label',
          'polygonlabels',
          'a polygon has 0 points (a region needs at least 2); it is left out',
        ],
      ]);
      expect(report.regions).toEqual({ [format]: { exported: 2, skipped: 2 } });
      expect(r.stderr).toContain(`regions 2 exported, 2 skipped`);
      expect(r.stderr).not.toContain('nothing skipped');
    });
  }

  it('COCO: the same two polygons are skipped, the good ones written; --strict exits 3', async () => {
    const o = out();
    const r = await run(
      'convert',
      '-i',
      join(BR07, 'tasks.json'),
      '-c',
      join(BR07, 'config.xml'),
      '-o',
      o,
      '-f',
      'COCO',
      '--strict',
    );
    expect(r.status).toBe(3);
    const coco = json(join(o, 'result.json'));
    expect(coco.annotations).toHaveLength(2);
    const report = json(join(o, 'report.json'));
    expect(report.skipped.map((e: { resultId?: string }) => e.resultId)).toEqual(['p2', 'p3']);
    expect(report.regions).toEqual({ COCO: { exported: 2, skipped: 2 } });
  });
});

describe('br-03: keypoint-only config and YOLO_OBB', () => {
  it('formats marks YOLO_OBB as empty output; convert warns loudly and reports all 6 keypoints', async () => {
    const f = await run('formats', '-c', join(BR03, 'config.xml'));
    expect(f.stdout).toMatch(/^YOLO_OBB\s.*\(empty output for this config: /m);
    expect(f.stdout).not.toMatch(/^YOLO\s/m);
    const o = out();
    const r = await run(
      'convert',
      '-i',
      join(BR03, 'tasks.json'),
      '-c',
      join(BR03, 'config.xml'),
      '-o',
      o,
      '-f',
      'YOLO_OBB',
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/WARNING: format YOLO_OBB can only produce empty output/);
    const report = json(join(o, 'report.json'));
    expect(report.regions).toEqual({ YOLO_OBB: { exported: 0, skipped: 6 } });
    const kp = report.skipped.filter((e: { type?: string }) => e.type === 'keypointlabels');
    expect(kp).toHaveLength(6);
    expect(kp[0].reason).toContain('no parent rectangle');
    // Regions, not inputs: the summary says which.
    expect(r.stderr).toContain('regions 0 exported, 6 skipped');
    expect(r.stderr).not.toContain('inputs skipped');
  });

  it('--strict refuses YOLO_OBB for it with one sentence (exit 1); plain YOLO is refused as before', async () => {
    const r = await run(
      'convert',
      '-i',
      join(BR03, 'tasks.json'),
      '-c',
      join(BR03, 'config.xml'),
      '-o',
      out(),
      '-f',
      'YOLO_OBB',
      '--strict',
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--strict refuses it');
    const y = await run(
      'convert',
      '-i',
      join(BR03, 'tasks.json'),
      '-c',
      join(BR03, 'config.xml'),
      '-o',
      out(),
      '-f',
      'YOLO',
    );
    expect(y.status).toBe(1);
  });
});

describe('br-08: --only-annotated', () => {
  const args = (o: string, format: string, ...more: string[]) => [
    'convert',
    '-i',
    join(BR08, 'tasks.json'),
    '-c',
    join(BR08, 'config.xml'),
    '-o',
    o,
    '-f',
    format,
    '--upload-dir',
    join(BR08, 'upload'),
    ...more,
  ];

  it('COCO: images for 4621 and 4622 only, 4624 counted; without it 4624 is a warning', async () => {
    const o = out();
    const r = await run(...args(o, 'COCO', '--only-annotated'));
    expect(r.status).toBe(0);
    const coco = json(join(o, 'result.json'));
    expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual([
      expect.stringContaining('part_4621'),
      expect.stringContaining('part_4622'),
    ]);
    expect(json(join(o, 'report.json')).tasksWithoutAnnotations).toBe(2);
    expect(r.stderr).toContain('2 tasks without annotations left out');

    const o2 = out();
    await run(...args(o2, 'COCO'));
    expect(json(join(o2, 'result.json')).images).toHaveLength(3);
    const warnings = json(join(o2, 'report.json')).warnings;
    expect(
      warnings
        .filter((w: { reason: string }) => w.reason.startsWith('no annotation'))
        .map((w: { taskId: number }) => w.taskId),
    ).toEqual([4624]);
  });

  it('YOLO: label files for 4621 and 4622 only', async () => {
    const o = out();
    await run(...args(o, 'YOLO', '--only-annotated'));
    expect(readdirSync(join(o, 'labels')).sort()).toEqual([
      'aa11bb22-part_4621.txt',
      'cc33dd44-part_4622.txt',
    ]);
    const o2 = out();
    await run(...args(o2, 'YOLO'));
    expect(readdirSync(join(o2, 'labels'))).toContain('ee55ff66-part_4624.txt');
  });
});

describe('-f JSON checks the input is a Label Studio export before copying', () => {
  const config = join(BR07, 'config.xml');
  for (const [name, text] of [
    ['an XML file', '<View><Image name="image" value="$image"/></View>'],
    ['a truncated export', '[{"id": 1, "data": {"image": "a.png"}, "annotations": [{"result": ['],
  ]) {
    it(`refuses ${name}: one sentence, exit 1`, async () => {
      const o = out();
      const input = join(o, 'in.json');
      writeFileSync(input, text);
      const r = await run('convert', '-i', input, '-c', config, '-o', join(o, 'x'), '-f', 'JSON');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not a Label Studio JSON export .*nothing was copied/);
    });
  }
  it('still copies a valid export byte for byte', async () => {
    const o = out();
    const r = await run('convert', '-i', join(BR07, 'tasks.json'), '-c', config, '-o', o, '-f', 'JSON');
    expect(r.status).toBe(0);
    expect(readFileSync(join(o, 'result.json'), 'utf8')).toBe(readFileSync(join(BR07, 'tasks.json'), 'utf8'));
  });
});

describe('nothing found: one sentence, and --strict fails', () => {
  it('an input with no tasks says so; --strict exits 3', async () => {
    const o = out();
    const input = join(o, 'empty.json');
    writeFileSync(input, '[]');
    const config = join(BR07, 'config.xml');
    const r = await run('convert', '-i', input, '-c', config, '-o', join(o, 'x'), '-f', 'YOLO');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('no tasks were found in the input (check the path or the s3:// prefix)');
    const s = await run('convert', '-i', input, '-c', config, '-o', join(o, 'y'), '-f', 'YOLO', '--strict');
    expect(s.status).toBe(3);
  });

  it('an input skipped whole (not JSON, truncated) gives its reason, not the path hint', async () => {
    const o = out();
    const config = join(BR07, 'config.xml');
    const truncated = join(o, 'cut.json');
    writeFileSync(truncated, readFileSync(join(BR07, 'tasks.json'), 'utf8').slice(0, 40));
    for (const [input, reason] of [
      [config, 'config.xml was skipped: not a JSON array or object: it starts with "<"'],
      [truncated, 'cut.json'],
    ] as const) {
      const r = await run('convert', '-i', input, '-c', config, '-o', join(o, 'x'), '-f', 'COCO');
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`ls-export: no tasks were exported: ${reason}`);
      expect(r.stderr).not.toContain('check the path');
    }
  });
});
