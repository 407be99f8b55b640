/**
 * zipFolder's temporary file (QA 8 --zip): named for the process, hidden, beside the zip, so two
 * runs zipping into one folder do not share it; removed when the zip cannot be completed.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipFolder, zipPartPath } from '../../functions/storage/zip.ts';

describe('zipFolder', () => {
  it('writes beside the zip as a hidden .part file named for the process', () => {
    expect(zipPartPath('/out/YOLO.zip', 4242)).toBe('/out/.YOLO.zip.4242.part');
    expect(zipPartPath('/out/YOLO.zip')).toBe(`/out/.YOLO.zip.${process.pid}.part`);
    expect(zipPartPath('/out/YOLO.zip', 1)).not.toBe(zipPartPath('/out/YOLO.zip', 2));
  });

  it('writes the zip and leaves no .part file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-zip-'));
    const files = join(dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'a.txt'), 'a');
    const out = join(dir, 'out');
    mkdirSync(out);
    expect(await zipFolder(files, ['a.txt'], join(out, 'X.zip'))).toEqual([]);
    expect(readdirSync(out)).toEqual(['X.zip']);
  });

  it('a failed rename (a folder named like the zip) rejects and removes the .part file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-zip-'));
    const files = join(dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'a.txt'), 'a');
    const out = join(dir, 'out');
    mkdirSync(join(out, 'X.zip'), { recursive: true });
    await expect(zipFolder(files, ['a.txt'], join(out, 'X.zip'))).rejects.toMatchObject({
      code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/),
    });
    expect(readdirSync(out)).toEqual(['X.zip']);
  });
});
