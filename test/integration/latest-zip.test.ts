/**
 * `latest/<FORMAT>.zip` on the local S3 server (fauxqs): a 20 MiB archive of 20 files, one file in
 * the middle changes, and the next zip copies the unchanged records' runs with UploadPartCopy
 * (parts ≥ 5 MiB, S3's real rule) and uploads only the changed record and the new directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../functions/core/object-store.ts';
import { Report } from '../../functions/core/report.ts';
import type { WrittenFile } from '../../functions/pipeline/hashing-sink.ts';
import { writeLatestZip } from '../../functions/pipeline/latest-zip.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { readZip } from '../helpers/zip-reader.ts';
import { bucketNames, createBuckets, s3Client } from './helpers.ts';

const MiB = 1024 * 1024;

describe('latest zip on fauxqs', () => {
  it('reuses unchanged records with UploadPartCopy; the archive reads back whole', async () => {
    const client = s3Client();
    const { out } = bucketNames();
    await createBuckets(client, [out]);
    const store = new S3ObjectStore(client, out);
    const put = async (path: string, body: Buffer): Promise<WrittenFile> => {
      const key = `latest/COCO_WITH_IMAGES/${path}`;
      await store.put(key, body);
      return { path, key, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
    };
    // Random bytes do not deflate: each record is ≈ 1 MiB, the archive ≈ 20 MiB (multipart).
    const files: WrittenFile[] = [];
    for (let i = 0; i < 20; i++)
      files.push(await put(`images/${String(i).padStart(2, '0')}.jpg`, randomBytes(MiB)));
    const key = 'latest/COCO_WITH_IMAGES.zip';
    const first = await writeLatestZip({
      store,
      files,
      key,
      mtime: new Date('2026-12-01T01:00:00Z'),
      report: new Report(),
    });
    expect(first.stats.mode).toBe('full');
    const next = [...files];
    const changed = randomBytes(MiB);
    next[10] = await put(next[10].path, changed);
    const r = await writeLatestZip({
      store,
      files: next,
      key,
      mtime: new Date('2026-12-01T02:00:00Z'),
      report: new Report(),
      previous: { zip: first.entry, files: new Map(files.map((f) => [f.path, f])) },
    });
    expect(r.stats).toMatchObject({
      mode: 'incremental',
      freshEntries: 1,
      reusedEntries: 19,
      sourceBytesRead: MiB,
    });
    // Runs of ≥ 5 MiB on both sides of the changed record are copied server-side; what is
    // uploaded is the changed record, the directory and the short runs topping parts up to 5 MiB.
    expect(r.stats.copiedBytes).toBeGreaterThanOrEqual(10 * MiB);
    expect(r.stats.uploadedBytes).toBeLessThan(r.entry.bytes - 10 * MiB);
    expect(r.entry.sha256Of).toBe('chunks');
    const archive = await readAll((await store.get(key)).body);
    expect(archive.length).toBe(r.entry.bytes);
    const entries = await readZip(archive);
    expect(entries.map((e) => e.name)).toEqual(next.map((f) => f.path));
    expect(entries[10].data.equals(changed)).toBe(true);
    for (const [i, f] of next.entries())
      expect(createHash('sha256').update(entries[i].data).digest('hex')).toBe(f.sha256);
  });
});
