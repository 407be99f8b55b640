import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MediaError } from '../../functions/core/media.ts';
import { LocalMedia } from '../../functions/storage/media.ts';

const openDescriptors = () => readdirSync('/proc/self/fd').length;

async function bytes(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

describe('LocalMedia', () => {
  const root = mkdtempSync(join(tmpdir(), 'ls-media-'));
  mkdirSync(join(root, 'upload', '3'), { recursive: true });
  writeFileSync(join(root, 'upload', '3', 'a b.wav'), 'RIFF-audio-bytes');

  it('resolves /data/upload/… against the upload folder, percent-decoded, with its local path', async () => {
    const media = new LocalMedia({ uploadDir: join(root, 'upload') });
    const file = await media.open('/data/upload/3/a%20b.wav');
    expect(file.name).toBe('a b.wav');
    expect(file.size).toBe(16);
    expect(file.localPath).toBe(join(root, 'upload', '3', 'a b.wav'));
    expect(await bytes(file.read())).toBe('RIFF-audio-bytes');
    expect(await bytes(file.read({ start: 5, end: 10 }))).toBe('audio');
  });

  it('opens the file only when its bytes are read (sinks that copy by path never read them)', async () => {
    const media = new LocalMedia({ uploadDir: join(root, 'upload') });
    const file = await media.open('/data/upload/3/a%20b.wav');
    const before = openDescriptors();
    const unread = Array.from({ length: 200 }, () => file.read());
    await sleep(50);
    expect(openDescriptors()).toBeLessThan(before + 5);
    expect(unread).toHaveLength(200);
  });

  it('explains what is missing instead of failing vaguely', async () => {
    await expect(new LocalMedia().open('/data/upload/3/a.wav')).rejects.toThrow(/needs --upload-dir/);
    await expect(
      new LocalMedia({ uploadDir: join(root, 'upload') }).open('/data/upload/../../etc/passwd'),
    ).rejects.toThrow(/escapes the upload folder/);
    await expect(
      new LocalMedia({ uploadDir: join(root, 'upload') }).open('/data/upload/3/none.wav'),
    ).rejects.toBeInstanceOf(MediaError);
    await expect(new LocalMedia().open('ftp://host/x.wav')).rejects.toThrow(/unsupported URL scheme/);
  });
});
