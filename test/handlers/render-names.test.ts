/**
 * Case sec-04 in the pipeline: an image name that would make an S3 key over 1,024 bytes no longer
 * fails every render (and so freezes `latest/` for every format). The fake S3 is given S3's key
 * limit (KeyTooLongError); names are bounded to it, and a key the store still refuses is one skip
 * in the manifest, not a failed render. CSV shows the csv-formula-escape option reaching the render.
 */
import { describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { FakeS3, s3Error } from './fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from './helpers.ts';

const IMG = `<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>`;
const RECT =
  '[{"id":"r","from_name":"label","to_name":"image","type":"rectanglelabels","original_width":100,"original_height":100,"value":{"x":1,"y":1,"width":5,"height":5,"rotation":0,"rectanglelabels":["Car"]}}]';

function taskJson(id: number, image: string): string {
  return JSON.stringify({
    id,
    data: { image, note: '=1+1' },
    annotations: [
      {
        id: id * 10,
        completed_by: 1,
        result: JSON.parse(RECT),
        created_at: '2025-01-01T00:00:00Z',
        updated_at: `2025-01-01T00:00:0${id % 10}Z`,
      },
    ],
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  });
}

/** A project on the fake S3 whose PutObject/CreateMultipartUpload refuse keys over `maxKey` bytes. */
function setup(maxKey: number) {
  const s3 = new FakeS3();
  const config = parseConfig({
    version: 1,
    projects: [
      {
        id: 'p',
        source: { bucket: 'src', prefix: 'ls' },
        labelConfig: { inline: IMG },
        formats: ['JSON', 'YOLO', 'VOC', 'CSV'],
        export: { bucket: 'out', prefix: 'exports' },
        options: { fixCsvFormulaEscape: true },
      },
    ],
  });
  const refused: string[] = [];
  for (const op of ['PutObject', 'CreateMultipartUpload'])
    s3.before.set(op, (input) => {
      if (Buffer.byteLength(String(input.Key)) > maxKey) {
        refused.push(String(input.Key));
        throw s3Error('KeyTooLongError', 400, 'Your key is too long');
      }
    });
  const rt = mockRuntime(s3, config);
  const paths = projectPaths(config.projects[0]);
  const ingest = createIngestHandler(() => rt);
  const render = createRenderHandler(() => rt);
  return {
    s3,
    refused,
    async change(id: number, image: string) {
      s3.put('src', `ls/${id}.json`, taskJson(id, image));
      expect((await ingest(sqsEvent(s3Message('src', `ls/${id}.json`)))).batchItemFailures).toEqual([]);
      return render(sqsEvent(s3Message('out', paths.dirty)));
    },
    manifest: () => JSON.parse(s3.text('out', paths.latestManifest) ?? 'null') as Manifest,
  };
}

const files = (m: Manifest, format: string) => m.formats.find((f) => f.format === format)?.files ?? [];
const LONG = `s3://media/${'x'.repeat(1100)}.jpg`;

describe('render with image names that make long keys (sec-04)', () => {
  it("S3's 1,024-byte limit: the render publishes every format, names bounded; a later change is published too", async () => {
    const t = setup(1024);
    expect((await t.change(1, 's3://media/ok.jpg')).batchItemFailures).toEqual([]);
    const first = t.manifest();
    expect((await t.change(2, LONG)).batchItemFailures).toEqual([]);
    const second = t.manifest();
    expect(second.id).not.toBe(first.id);
    expect(second.counts.tasks).toBe(2);
    expect(t.refused).toEqual([]);
    for (const f of second.formats.flatMap((x) => x.files ?? [])) {
      expect(Buffer.byteLength(f.key)).toBeLessThanOrEqual(1024);
      expect(t.s3.text('out', f.key)).toBeDefined();
    }
    const voc = files(second, 'VOC').map((f) => f.path);
    expect(voc).toContain('Annotations/ok.xml');
    expect(voc.find((p) => p !== 'Annotations/ok.xml')).toMatch(/^Annotations\/x{200,}~[0-9a-f]{10}\.xml$/);
    // YOLO's own 251-character cut already fits: Label Studio's name, unchanged.
    expect(files(second, 'YOLO').map((f) => f.path)).toContain(`labels/${'x'.repeat(251)}.txt`);
    // The project option reaches the render: the formula in data.note is escaped.
    expect(second.options.export.fixCsvFormulaEscape).toBe(true);
    const csv = t.s3.text('out', files(second, 'CSV')[0].key)!;
    expect(csv.split('"\'=1+1"').length - 1).toBe(2);
    expect(csv).not.toContain('"=1+1"');

    expect((await t.change(3, 's3://media/three.jpg')).batchItemFailures).toEqual([]);
    const third = t.manifest();
    expect(third.id).not.toBe(second.id);
    expect(third.counts.tasks).toBe(3);
    expect(files(third, 'VOC').map((f) => f.path)).toContain('Annotations/three.xml');
    t.s3.restore();
  });

  it('a key the store still refuses is one skip in the manifest, and the render publishes', async () => {
    // A stricter store than the sink assumes: keys over 200 bytes are refused.
    const t = setup(200);
    expect((await t.change(1, 's3://media/ok.jpg')).batchItemFailures).toEqual([]);
    const r = await t.change(2, LONG);
    expect(r.batchItemFailures).toEqual([]);
    const m = t.manifest();
    expect(m.counts.tasks).toBe(2);
    expect(t.refused.length).toBeGreaterThanOrEqual(2); // the YOLO label and the VOC XML
    const skipped = m.report.skipped.filter((s) => s.source.startsWith('output file '));
    const sources = skipped.map((s) => s.source);
    expect(sources).toHaveLength(2);
    expect(sources).toContain(`output file labels/${'x'.repeat(251)}.txt`);
    expect(sources.some((s) => /^output file Annotations\/x+~[0-9a-f]{10}\.xml$/.test(s))).toBe(true);
    for (const s of skipped) expect(s.reason).toContain('Your key is too long');
    // Refused files are not listed; the others are, and exist.
    const listed = m.formats.flatMap((x) => x.files ?? []);
    for (const f of listed) expect(t.s3.text('out', f.key)).toBeDefined();
    expect(listed.some((f) => f.path.includes('xxxxxxxx'))).toBe(false);
    expect(files(m, 'VOC').map((f) => f.path)).toEqual(['Annotations/ok.xml']);

    expect((await t.change(3, 's3://media/three.jpg')).batchItemFailures).toEqual([]);
    const later = t.manifest();
    expect(later.id).not.toBe(m.id);
    expect(
      files(later, 'VOC')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['Annotations/ok.xml', 'Annotations/three.xml']);
    t.s3.restore();
  });
});
