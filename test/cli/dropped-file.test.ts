/**
 * A per-image file the output cannot hold under its name (here a folder of that name in the way):
 * one skip for the file, under its format, and the regions it would have held are skipped too,
 * not counted as exported (QA s7 #10). Label Studio's converter would fail the whole export.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'samples', 'image-bbox');

interface Report {
  skipped: Array<{ source: string; format?: string; reason: string }>;
  regions: Record<string, { exported: number; skipped: number }>;
}

async function convert(out: string, format: string) {
  const r = await runCli([
    'convert',
    '-i',
    join(SAMPLE, 'tasks.json'),
    '-c',
    join(SAMPLE, 'config.xml'),
    '-o',
    out,
    '-f',
    format,
    '-q',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
}

describe('a per-image file that cannot be written', () => {
  for (const [format, file, perRegion] of [
    ['YOLO', 'labels/img_000002.txt', (text: string) => text.split('\n').filter(Boolean).length],
    ['VOC', 'Annotations/img_000002.xml', (text: string) => text.split('<object>').length - 1],
  ] as const)
    it(`${format}: one skip under the format, and its regions are skipped, not exported`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'ls-dropped-'));
      const before = await convert(out, format);
      const regionsInFile = perRegion(readFileSync(join(out, file), 'utf8'));
      expect(regionsInFile).toBeGreaterThan(0);
      rmSync(join(out, file));
      mkdirSync(join(out, file));
      const after = await convert(out, format);
      const dropped = after.skipped.filter((e) => e.source === `output file ${file}`);
      expect(dropped).toHaveLength(1);
      expect(dropped[0]?.format).toBe(format);
      expect(after.regions[format]?.exported).toBe((before.regions[format]?.exported ?? 0) - regionsInFile);
      expect(after.regions[format]?.skipped).toBe((before.regions[format]?.skipped ?? 0) + regionsInFile);
    });
});
