/** Input that is not UTF-8: read with replacement characters, and said once in the report. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonExport, readJsonLines } from '../../../functions/core/readers/json-export.ts';
import { StorageObjectsSource } from '../../../functions/core/readers/storage-objects.ts';
import { firstInvalidByte, utf8Checked } from '../../../functions/core/readers/utf8-check.ts';
import { Report } from '../../../functions/core/report.ts';
import { FsObjectStore } from '../../../functions/storage/fs.ts';

async function* pieces(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function firstBad(bytes: Buffer, size: number): Promise<number[]> {
  const found: number[] = [];
  for await (const _ of utf8Checked(pieces(bytes, size), (at) => found.push(at)));
  return found;
}

describe('utf8Checked', () => {
  const text = Buffer.from('héllo — 日本語 😀 and U+FFFD itself: \uFFFD, fine', 'utf8');

  it('passes valid UTF-8 cut anywhere (a sequence split between chunks is carried)', async () => {
    for (const size of [1, 2, 3, 5, 7, 64])
      expect(await firstBad(text, size), `chunks of ${size}`).toEqual([]);
  });

  it('reports the first invalid byte once, wherever the chunks are cut', async () => {
    const bad = Buffer.concat([text, Buffer.from([0xff, 0x41]), text, Buffer.from([0xc3, 0x28])]);
    for (const size of [1, 3, 4, 64])
      expect(await firstBad(bad, size), `chunks of ${size}`).toEqual([text.length]);
    // A sequence cut by the end of the input is invalid too.
    expect(await firstBad(Buffer.concat([text, Buffer.from([0xe6, 0x97])]), 5)).toEqual([text.length]);
  });

  it('finds overlong forms, surrogates and code points past U+10FFFF', () => {
    expect(firstInvalidByte(Buffer.from([0x41, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidByte(Buffer.from([0x41, 0x42, 0xe0, 0x80, 0x80]))).toBe(2);
    expect(firstInvalidByte(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstInvalidByte(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0);
    expect(firstInvalidByte(text)).toBe(text.length);
  });
});

describe('readers', () => {
  const task = (s: string) => `{"id": 1, "data": {"text": "${s}"}}`;
  const latin1 = Buffer.from(`[${task('caf\xe9')}]`, 'latin1');

  it('a JSON export in Latin-1: the task is read (é as U+FFFD) and one warning names the byte', async () => {
    const report = new Report();
    const tasks = [];
    for await (const t of readJsonExport(pieces(latin1, 16), 'x.json', report)) tasks.push(t.task);
    expect((tasks[0].data as { text: string }).text).toBe('caf\uFFFD');
    expect(report.warnings).toEqual([
      {
        source: 'x.json',
        reason: `the input is not valid UTF-8 (first at byte ${latin1.indexOf(0xe9)}): invalid bytes were read as U+FFFD, so some text differs from the file`,
      },
    ]);
  });

  it('JSON Lines too; valid input gets no warning', async () => {
    const report = new Report();
    const lines = Buffer.concat([
      Buffer.from(`${task('ok')}\n`),
      Buffer.from(`${task('caf\xe9')}\n`, 'latin1'),
    ]);
    let n = 0;
    for await (const _ of readJsonLines(pieces(lines, 8), 'x.jsonl', report)) n++;
    expect(n).toBe(2);
    expect(report.warnings.map((w) => w.reason)).toEqual([expect.stringMatching(/first at byte \d+\)/)]);
    const clean = new Report();
    for await (const _ of readJsonExport(pieces(Buffer.from(`[${task('café')}]`), 3), 'y.json', clean));
    expect(clean.warnings).toEqual([]);
  });

  it('a storage object in Latin-1: exported, one warning naming the object', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-export-utf8-'));
    writeFileSync(join(dir, '1'), Buffer.from(task('caf\xe9'), 'latin1'));
    writeFileSync(join(dir, '2'), `{"id": 2, "data": {"text": "ok"}}`);
    const report = new Report();
    const ids = [];
    for await (const t of new StorageObjectsSource(new FsObjectStore(dir), '').tasks(report))
      ids.push(t.task.id);
    expect(ids).toEqual([1, 2]);
    expect(report.warnings.map((w) => [w.source, w.reason.slice(0, 48)])).toEqual([
      ['1', 'the input is not valid UTF-8 (first at byte 31):'],
    ]);
  });
});
