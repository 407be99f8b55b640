/**
 * LocalFiles.open (storage/local-files.ts): a local media path is opened only when its real path lies
 * under an allowed root; a FIFO or a folder is "not a file", answered without opening it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFiles } from '../../functions/storage/local-files.ts';
import { mediaErrorOf, readText } from '../helpers/media.ts';

const passThrough = async function* (_url: string, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  yield* body;
};

/** A root with a file, a link to it, a link out, a folder, a FIFO; and a file outside. */
function layout() {
  const base = mkdtempSync(join(tmpdir(), 'ls-local-files-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'sub', 'a.wav'), 'RIFF-bytes');
  writeFileSync(join(outside, 'secret.txt'), 'SECRET');
  symlinkSync(join(root, 'sub', 'a.wav'), join(root, 'alias.wav'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'out.wav'));
  symlinkSync(outside, join(root, 'out-dir'));
  execFileSync('mkfifo', [join(root, 'pipe.wav')]);
  return { root, outside };
}

describe('LocalFiles.open', () => {
  const { root } = layout();
  const open = (path: string) => new LocalFiles(passThrough).open(`file://${path}`, path, [root]);

  it('opens a file under the root, through a link inside it, by its real path', async () => {
    const file = await open(join(root, 'alias.wav'));
    expect(file.name).toBe('alias.wav');
    expect(file.size).toBe(10);
    expect(file.copyByPath?.()).toBe(join(root, 'sub', 'a.wav'));
    expect(await readText(file.read())).toBe('RIFF-bytes');
    expect(await readText(file.read({ start: 5, end: 10 }))).toBe('bytes');
  });

  it('refuses a link that leads out of the root, to a file or through a folder', async () => {
    for (const p of [join(root, 'out.wav'), join(root, 'out-dir', 'secret.txt')]) {
      const err = await mediaErrorOf(open(p));
      expect(err.refused, p).toBe(true);
      expect(err.message, p).toMatch(/a symbolic link leads out of them/);
    }
  });

  it('a FIFO or a folder is not a file (answered at once: nothing is opened for reading)', async () => {
    for (const p of [join(root, 'pipe.wav'), join(root, 'sub')]) {
      const err = await mediaErrorOf(open(p));
      expect(err.refused, p).toBe(false);
      expect(err.message, p).toMatch(/not a file:/);
    }
  });

  it('a missing file is "file not found"', async () => {
    const err = await mediaErrorOf(open(join(root, 'sub', 'missing.wav')));
    expect(err.message).toMatch(/file not found:/);
  });
});
