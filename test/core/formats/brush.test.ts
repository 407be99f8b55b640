import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpyUint8 } from '../../../functions/core/brush/npy.ts';
import { decodePngToGray } from '../../../functions/core/brush/png.ts';
import { encodeRle, maskToRle } from '../../../functions/core/brush/rle.ts';
import { fileAnnotator } from '../../../functions/core/formats/brush.ts';
import { FIXES } from '../../../functions/core/formats/options.ts';
import { exportWith, FIXTURES } from '../../helpers/export.ts';

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image"><Label value="Air/plane"/><Label value="Car"/></BrushLabels>
  <Labels name="lab" toName="image"><Label value="Sky"/></Labels>
  <Brush name="plain" toName="image"/>
  <Choices name="quality" toName="image"><Choice value="ok"/></Choices>
</View>`;

const W = 6;
const H = 4;

/** A W×H alpha mask from rows of numbers. */
const mask = (rows: number[][]): Uint8Array => Uint8Array.from(rows.flat());

/** LS-style RLE of an RGBA image whose colour channels differ from the alpha (only alpha counts). */
function rgbaRle(alpha: Uint8Array): number[] {
  const rgba: number[] = [];
  for (const a of alpha) rgba.push(10, 20, 30, a);
  return encodeRle(rgba);
}

// observed example of docs/label-studio-behaviour.md#brush-masks: region A, a 3×2 block at x 1–3, y 1–2.
const A = mask([
  [0, 0, 0, 0, 0, 0],
  [0, 255, 255, 255, 0, 0],
  [0, 255, 255, 255, 0, 0],
  [0, 0, 0, 0, 0, 0],
]);
// Region B: two isolated pixels with non-binary alpha.
const B = mask([
  [0, 0, 0, 0, 0, 128],
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0],
  [7, 0, 0, 0, 0, 0],
]);
// Region C: empty label list.
const C = mask([
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0],
  [0, 0, 200, 1, 0, 0],
]);

function brush(alpha: Uint8Array | number[], labels: unknown, extra: Record<string, unknown> = {}) {
  const value: Record<string, unknown> = {
    format: 'rle',
    rle: Array.isArray(alpha) ? alpha : rgbaRle(alpha),
  };
  if (labels !== undefined) value.brushlabels = labels;
  return {
    from_name: 'tag',
    to_name: 'image',
    type: 'brushlabels',
    original_width: W,
    original_height: H,
    image_rotation: 0,
    value,
    ...extra,
  };
}

function task(
  id: number,
  annotationId: number,
  result: unknown[],
  completedBy: unknown = { email: 'Jo hn+x@ex.com' },
) {
  return {
    id,
    data: { image: '/data/upload/1/photo.jpg' },
    annotations: [{ id: annotationId, completed_by: completedBy, result }],
  };
}

const PREFIX = 'task-5-annotation-50-by-Johnx@ex.com-';
const observed = [task(5, 50, [brush(A, ['Air/plane']), brush(B, ['Air/plane']), brush(C, [])])];

describe('BRUSH_TO_NUMPY', () => {
  it('writes the observed example of docs/label-studio-behaviour.md#brush-masks: names, numpy v1.0 header, alpha pixels', async () => {
    const { sink, report } = await exportWith(observed, CONFIG, 'BRUSH_TO_NUMPY');
    expect([...sink.files.keys()]).toEqual([
      `${PREFIX}tag-Air-plane-0.npy`,
      `${PREFIX}tag-Air-plane-1.npy`,
      `${PREFIX}tag--0.npy`,
    ]);
    expect(report.skippedCount + report.warningCount).toBe(0);

    const file = sink.files.get(`${PREFIX}tag-Air-plane-0.npy`)!;
    // 10-byte preamble + header padded to a 128-byte total (docs/label-studio-behaviour.md#brush-masks), then 4·6 pixel bytes.
    expect(file.length).toBe(128 + 24);
    expect([...file.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(file.readUInt16LE(8)).toBe(118);
    const header = file.toString('latin1', 10, 128);
    const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 6), }";
    expect(header).toBe(dict + ' '.repeat(118 - dict.length - 1) + '\n');
    expect([...file.subarray(128)]).toEqual([...A]);

    expect(decodeNpyUint8(sink.files.get(`${PREFIX}tag-Air-plane-1.npy`)!)).toEqual({
      shape: [4, 6],
      data: B,
    });
    expect(decodeNpyUint8(sink.files.get(`${PREFIX}tag--0.npy`)!)).toEqual({ shape: [4, 6], data: C });
  });

  it('takes Labels regions (no labels key → no_label), ignores plain Brush and non-mask results', async () => {
    const labelsRegion = (labels: unknown) => ({
      ...brush(A, undefined),
      from_name: 'lab',
      type: 'labels',
      value: labels === undefined ? { rle: rgbaRle(A) } : { rle: rgbaRle(A), labels },
    });
    const plain = { ...brush(B, undefined), from_name: 'plain', type: 'brush' };
    const choice = { from_name: 'quality', to_name: 'image', type: 'choices', value: { choices: ['ok'] } };
    const noRle = { ...brush(A, ['Car']), value: { brushlabels: ['Car'] } };
    const tasks = [task(1, 2, [labelsRegion(['Sky']), labelsRegion(undefined), plain, choice, noRle], 7)];
    const { sink, report } = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY');
    expect([...sink.files.keys()]).toEqual([
      'task-1-annotation-2-by-7-lab-Sky-0.npy',
      'task-1-annotation-2-by-7-lab-no_label-0.npy',
    ]);
    // The plain Brush region, the Choices and the region without rle are left out like in Label
    // Studio, each accounted for as a skipped result.
    expect(report.warnings).toEqual([]);
    expect(report.skipped.map((e) => [e.fromName, e.format, e.reason])).toEqual([
      ['plain', 'BRUSH_TO_NUMPY', expect.stringContaining('"plain" is a Brush control')],
      ['quality', 'BRUSH_TO_NUMPY', 'a choices result is not a brush mask; BRUSH_TO_NUMPY writes masks only'],
      ['tag', 'BRUSH_TO_NUMPY', 'a brushlabels result is not a brush mask; BRUSH_TO_NUMPY writes masks only'],
    ]);
    expect(report.toJSON().regions).toEqual({ BRUSH_TO_NUMPY: { exported: 2, skipped: 3 } });
  });

  it('names multi-label regions with every label and counts layers per name', async () => {
    const tasks = [
      task(3, 4, [brush(A, ['Car', 'Air/plane']), brush(B, ['Car']), brush(C, ['Car', 'Air/plane'])], {}),
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY');
    expect([...sink.files.keys()]).toEqual([
      'task-3-annotation-4-by--tag-Car-Air-plane-0.npy',
      'task-3-annotation-4-by--tag-Car-0.npy',
      'task-3-annotation-4-by--tag-Car-Air-plane-1.npy',
    ]);
  });

  it('writes nothing for tasks without brush regions', async () => {
    const tasks = [
      { id: 1, data: { image: 'a.jpg' }, annotations: [] },
      task(2, 3, [{ from_name: 'quality', to_name: 'image', type: 'choices', value: { choices: ['ok'] } }]),
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY');
    expect(sink.files.size).toBe(0);
    // The Choices result is accounted for: not a mask.
    expect(report.skipped.map((e) => [e.taskId, e.fromName, e.reason])).toEqual([
      [2, 'quality', 'a choices result is not a brush mask; BRUSH_TO_NUMPY writes masks only'],
    ]);
    expect(report.toJSON().regions).toEqual({ BRUSH_TO_NUMPY: { exported: 0, skipped: 1 } });
  });

  it('reports regions the reference crashes on and goes on, keeping the numbering', async () => {
    const good = rgbaRle(A);
    const truncated = good.slice(0, good.length - 3);
    const tasks = [
      task(9, 90, [
        brush(truncated, ['Car']), // malformed RLE: Car-0 reported
        brush(A, ['Car']), // Car-1 written
        brush(A, ['Car'], { original_width: 5 }), // size mismatch: Car-2 reported
        brush(A, ['Car'], { original_width: undefined }), // no original_width: Car-3 reported
        brush(A, [1]), // labels not strings: reported, no number used
        brush(A, null), // labels null: reported
        brush(A, ['Car']), // Car-4 written
      ]),
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY');
    const prefix = 'task-9-annotation-90-by-Johnx@ex.com-tag-';
    expect([...sink.files.keys()]).toEqual([`${prefix}Car-1.npy`, `${prefix}Car-4.npy`]);
    expect(decodeNpyUint8(sink.files.get(`${prefix}Car-4.npy`)!).data).toEqual(A);
    const reasons = report.skipped.map((s) => s.reason);
    expect(reasons).toHaveLength(5);
    expect(report.skipped.every((s) => s.taskId === 9)).toBe(true);
    expect(reasons[0]).toMatch(/region 1 \(tag-Car-0\) left out: malformed RLE/);
    expect(reasons[1]).toMatch(/region 3 \(tag-Car-2\).*RLE holds 96 values but .*5×4×4 = 80/);
    expect(reasons[2]).toMatch(/region 4 \(tag-Car-3\).*no original_width/);
    expect(reasons[3]).toMatch(/region 5 left out: "brushlabels" must be a list of strings/);
    expect(reasons[4]).toMatch(/region 6 left out: "brushlabels" must be a list of strings, got null/);
  });

  it('reports a literal block running past num (the reference crashes with IndexError)', async () => {
    // num = 6·4·4 = 96, word 8, sizes [3, 4, 8, 16]; a repeat of 95 zeros, then a literal of 2 words.
    const bitText = [
      (96).toString(2).padStart(32, '0'),
      '00111 0010 0011 0111 1111',
      '1 10 01011110 00000000',
      '0 00 001 11111111 11111111',
    ]
      .join('')
      .replace(/ /g, '');
    const bytes: number[] = [];
    for (let i = 0; i < bitText.length; i += 8)
      bytes.push(Number.parseInt(bitText.slice(i, i + 8).padEnd(8, '0'), 2));
    const { sink, report } = await exportWith([task(1, 1, [brush(bytes, ['Car'])])], CONFIG, 'BRUSH_TO_PNG');
    expect(sink.files.size).toBe(0);
    expect(report.skipped[0].reason).toMatch(
      /\(tag-Car-0\) left out: malformed RLE: .*literal block of 2 values at 95 runs past num=96/,
    );
  });

  it('registers the fix name', () => {
    expect(FIXES['brush-merge-per-label'].option).toBe('fixBrushMergePerLabel');
  });

  it('refuses float-literal and non-positive sizes, and masks above brushMaxPixels', async () => {
    const rle = JSON.stringify(rgbaRle(A));
    const region = (w: string, h: string) =>
      `{"from_name":"tag","to_name":"image","type":"brushlabels","original_width":${w},"original_height":${h},"value":{"rle":${rle},"brushlabels":["Car"]}}`;
    const json = `[{"id":1,"data":{"image":"a.png"},"annotations":[{"id":2,"completed_by":3,"result":[${region('6.0', '4')},${region('6', '-4')},${region('6', '4')}]}]}]`;
    const { sink, report } = await exportWith(json, CONFIG, 'BRUSH_TO_NUMPY');
    expect([...sink.files.keys()]).toEqual(['task-1-annotation-2-by-3-tag-Car-2.npy']);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/original_width must be a positive integer, got 6 \(a float\)/),
      expect.stringMatching(/original_height must be a positive integer, got -4/),
    ]);

    const limited = await exportWith(json, CONFIG, 'BRUSH_TO_NUMPY', { brushMaxPixels: 23 });
    expect(limited.sink.files.size).toBe(0);
    expect(limited.report.skipped[2].reason).toMatch(
      /6×4 = 24 pixels, above the limit of 23 \(option brushMaxPixels\)/,
    );
  });

  it('fix brush-merge-per-label: one file per label, regions merged by pixel-wise max', async () => {
    const tasks = [task(5, 50, [brush(A, ['Air/plane']), brush(C, []), brush(B, ['Air/plane'])])];
    const { sink } = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY', { fixBrushMergePerLabel: true });
    expect([...sink.files.keys()]).toEqual([`${PREFIX}tag-Air-plane-0.npy`, `${PREFIX}tag--0.npy`]);
    const merged = decodeNpyUint8(sink.files.get(`${PREFIX}tag-Air-plane-0.npy`)!).data;
    expect([...merged]).toEqual([
      ...[0, 0, 0, 0, 0, 128],
      ...[0, 255, 255, 255, 0, 0],
      ...[0, 255, 255, 255, 0, 0],
      ...[7, 0, 0, 0, 0, 0],
    ]);
  });
});

describe('BRUSH_TO_PNG', () => {
  it('writes the observed example of docs/label-studio-behaviour.md#brush-masks as 8-bit grayscale PNGs, pixel-equal to the alpha', async () => {
    const { sink } = await exportWith(observed, CONFIG, 'BRUSH_TO_PNG');
    expect([...sink.files.keys()]).toEqual([
      `${PREFIX}tag-Air-plane-0.png`,
      `${PREFIX}tag-Air-plane-1.png`,
      `${PREFIX}tag--0.png`,
    ]);
    const expected = [A, B, C];
    [...sink.files.values()].forEach((png, i) => {
      // IHDR: width, height, bit depth 8, colour type 0 (grayscale, Pillow mode L).
      expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([6, 4, 8, 0]);
      expect(decodePngToGray(png)).toEqual({ width: 6, height: 4, data: expected[i] });
    });
  });

  it('round-trips a real mask: image2rle-style threshold → maskToRle → export → decode', async () => {
    const source = decodePngToGray(readFileSync(join(FIXTURES, 'test_brush', 'test.png')));
    const bin = source.data.map((v) => (v > 128 ? 255 : 0));
    expect(bin.some((v) => v === 255) && bin.some((v) => v === 0)).toBe(true);
    const region = {
      from_name: 'tag',
      to_name: 'image',
      type: 'brushlabels',
      original_width: source.width,
      original_height: source.height,
      value: { format: 'rle', rle: maskToRle(bin), brushlabels: ['Car'] },
    };
    const tasks = [task(1, 1, [region], { id: 1, email: 'a@b.c' })];
    const png = await exportWith(tasks, CONFIG, 'BRUSH_TO_PNG');
    const npy = await exportWith(tasks, CONFIG, 'BRUSH_TO_NUMPY');
    const name = 'task-1-annotation-1-by-a@b.c-tag-Car-0';
    // Buffer.equals: a deep toEqual over 273,280 pixels takes seconds.
    const gray = decodePngToGray(png.sink.files.get(`${name}.png`)!);
    expect([gray.width, gray.height]).toEqual([source.width, source.height]);
    expect(Buffer.from(gray.data).equals(Buffer.from(bin))).toBe(true);
    const arr = decodeNpyUint8(npy.sink.files.get(`${name}.npy`)!);
    expect(arr.shape).toEqual([source.height, source.width]);
    expect(Buffer.from(arr.data).equals(Buffer.from(bin))).toBe(true);
  });
});

describe('file annotator (docs/label-studio-behaviour.md#brush-masks)', () => {
  it('keeps Unicode letters and digits, @ and .', () => {
    expect(fileAnnotator({ email: 'Jo hn+x@ex.com' })).toBe('Johnx@ex.com');
    expect(fileAnnotator({ email: 'zoë_o-k@bü.ro' })).toBe('zoëok@bü.ro');
    expect(fileAnnotator({ id: 3 })).toBe('');
    expect(fileAnnotator(42)).toBe('42');
    expect(fileAnnotator({ email: null })).toBeUndefined();
  });
});
