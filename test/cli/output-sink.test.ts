/**
 * CliSink: a format's fixed file (result.csv, manifest.json) that the folder store cannot write
 * fails the export instead of being one skipped entry (QA s6 newcomer F6), and the folders written
 * into are known (where an interrupted run's temporary files are).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliSink } from '../../functions/cli/output-sink.ts';
import { Report } from '../../functions/core/report.ts';
import { StoreSink } from '../../functions/core/store-sink.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';

function sinkIn(dir: string, report: Report) {
  return new CliSink(new StoreSink(new FsObjectStore(dir), '', { report }), {
    fixedFiles: new Set(['result.csv']),
    lost: (path) => new Error(`lost ${path}`),
  });
}

describe('CliSink fixed files', () => {
  it('a folder in the way of a fixed file: close rejects with the lost error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-clisink-'));
    mkdirSync(join(dir, 'result.csv'));
    const report = new Report();
    const file = sinkIn(dir, report).open('result.csv');
    await file.write('a,b\r\n');
    await expect(file.close()).rejects.toThrow('lost result.csv');
    expect(report.skipped.map((e) => e.source)).toEqual(['output file result.csv']);
  });

  it('writeFile: the same for a fixed file; any other file is one skip and the export goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-clisink-'));
    mkdirSync(join(dir, 'result.csv'));
    mkdirSync(join(dir, 'notes.txt'));
    const report = new Report();
    const sink = sinkIn(dir, report);
    await expect(sink.writeFile('result.csv', 'x')).rejects.toThrow('lost result.csv');
    await sink.writeFile('notes.txt', 'x');
    await sink.writeFile('ok.txt', 'x');
    expect(readFileSync(join(dir, 'ok.txt'), 'utf8')).toBe('x');
    expect(report.skipped.map((e) => e.source)).toEqual(['output file result.csv', 'output file notes.txt']);
  });

  it('a fixed file written: no error; the folders written into are listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-clisink-'));
    const sink = sinkIn(dir, new Report());
    const file = sink.open('result.csv');
    await file.write('a\r\n');
    await file.close();
    await sink.writeFile('labels/x/a.txt', '1');
    expect(readFileSync(join(dir, 'result.csv'), 'utf8')).toBe('a\r\n');
    expect(sink.writtenFolders()).toEqual({ main: ['', 'labels/x'], images: [] });
  });
});
