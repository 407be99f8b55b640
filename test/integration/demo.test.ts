/** `npm run demo` (the embedded default) runs the whole flow and tells what it exported where. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { groupByReason, runDemo } from '../../functions/cli/demo.ts';
import { parseImageHeader } from '../../functions/core/images/image-info.ts';
import { readZip } from '../helpers/zip-reader.ts';
import { tempDir } from '../pipeline/helpers.ts';

afterEach(() => vi.restoreAllMocks());

describe('demo', () => {
  it('runs converter and event-driven pipeline on a local S3 server', async () => {
    const out = await tempDir();
    const lines: string[] = [];
    // What the handlers write straight to stdout/stderr (Powertools' logs and EMF), not the story.
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    await runDemo(out, (s) => lines.push(s));
    vi.restoreAllMocks();
    const text = lines.join('\n');
    expect(text).toMatch(
      /ingest: \d+ S3 event messages \(\d+ duplicates, shuffled\) in \d+ SQS batches, 0 failed/,
    );
    expect(text).toMatch(/render: 3 render message\(s\) for 3 projects/);
    expect(text).toMatch(/skipped source object ls\/text-ner\/\/9999: invalid JSON/);
    expect(text).toMatch(/API POST \/api\/projects\/2\/exports → 201/);
    expect(text).toMatch(/download\?exportType=CONLL2003 → 302/);
    expect(existsSync(join(out, 'pipeline', 'text-ner', 'latest', 'manifest.json'))).toBe(true);
    expect(existsSync(join(out, 'pipeline', 'audio-asr', 'latest', 'ASR_MANIFEST', 'manifest.json'))).toBe(
      true,
    );
    expect(existsSync(join(out, 'local', 'text-ner', 'CONLL2003', 'result.conll'))).toBe(true);
    // The image project asks for zips: latest/YOLO.zip holds the files of latest/YOLO/.
    const latestDir = join(out, 'pipeline', 'image-bbox', 'latest');
    const entries = await readZip(readFileSync(join(latestDir, 'YOLO.zip')));
    expect(entries.length).toBeGreaterThan(30);
    for (const e of entries)
      expect(e.data.equals(readFileSync(join(latestDir, 'YOLO', e.name))), e.name).toBe(true);
    // …and every file of latest/YOLO/ is in it (both directions: no file left out).
    const files = readdirSync(join(latestDir, 'YOLO'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(join(latestDir, 'YOLO'), join(d.parentPath, d.name)).split(sep).join('/'))
      .sort();
    expect(entries.map((e) => e.name).sort()).toEqual(files);

    // No Powertools noise: neither "No application metrics to publish" nor EMF lines.
    expect(written.join('')).not.toMatch(/No application metrics|"_aws"/);
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBeUndefined();

    // Step 1's image formats are real datasets: the images are read from the local S3 server.
    const img = join(out, 'local', 'image-bbox');
    for (const format of ['YOLO_WITH_IMAGES', 'YOLO_OBB_WITH_IMAGES']) {
      const labels = readdirSync(join(img, format, 'labels')).filter((f) => f.endsWith('.txt'));
      expect(labels.length, format).toBeGreaterThan(30);
      expect(readdirSync(join(img, format, 'images')).length, format).toBe(labels.length);
      expect(readFileSync(join(img, format, 'labels', labels[0]), 'utf8')).toMatch(/^\d+ [\d.]+ [\d.]+/);
    }
    const coco = JSON.parse(readFileSync(join(img, 'COCO_WITH_IMAGES', 'result.json'), 'utf8')) as {
      images: Array<{ file_name: string; width: number; height: number }>;
    };
    expect(coco.images.length).toBeGreaterThan(30);
    for (const i of coco.images) {
      const header = parseImageHeader(readFileSync(join(img, 'COCO_WITH_IMAGES', i.file_name)));
      expect([header.width, header.height, header.type]).toEqual([i.width, i.height, 'jpg']);
    }
    expect(text).not.toMatch(/media not allowed/);

    // Skipped entries are printed grouped; the stored manifest keeps every one.
    const manifest = JSON.parse(
      readFileSync(join(out, 'pipeline', 'image-bbox', 'latest', 'manifest.json'), 'utf8'),
    ) as { report: { skipped: Array<{ source: string; reason: string }> } };
    const skipped = manifest.report.skipped;
    const printed = lines.filter((l) => l.includes('skipped by the converter') && l.includes('img_'));
    expect(skipped.length).toBeGreaterThan(printed.length);
    const counted = printed.map((l) => Number(/, (\d+) entries like/.exec(l)?.[1] ?? 1));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(skipped.length);
  });
});

describe('groupByReason', () => {
  it('groups reasons equal but for their numbers, counting them and keeping the first as the example', () => {
    const groups = groupByReason([
      { source: 'ls/1', reason: 'replaced in labels/img_1.txt by an older annotation' },
      { source: 'ls/2', reason: 'a Choices result has no place in CONLL2003' },
      { source: 'ls/3', reason: 'replaced in labels/img_22.txt by an older annotation' },
      { source: 'ls/4', reason: 'replaced in Annotations/img_1.xml by an older annotation' },
    ]);
    expect(groups).toEqual([
      {
        count: 2,
        example: { source: 'ls/1', reason: 'replaced in labels/img_1.txt by an older annotation' },
      },
      { count: 1, example: { source: 'ls/2', reason: 'a Choices result has no place in CONLL2003' } },
      {
        count: 1,
        example: { source: 'ls/4', reason: 'replaced in Annotations/img_1.xml by an older annotation' },
      },
    ]);
  });
});
