/**
 * `latest/<FORMAT>.zip` (and a snapshot's `<FORMAT>.zip`): one format's files streamed from the
 * store into one archive (yazl, one entry read at a time, constant memory), hashed as it is
 * uploaded. Entries carry a fixed time and path order, so the same files give the same bytes.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { ObjectStore } from '../core/object-store.ts';
import type { Report } from '../core/report.ts';
import { addZipEntry } from '../core/zip-entry.ts';
import type { WrittenFile } from './hashing-sink.ts';

/**
 * Zips `files` (read by key: they must be the current objects) into `key`. Returns the zip's
 * manifest entry (`path` is the key's last segment). Entry names the zip format refuses are
 * reported and left out; read or write failures reject.
 */
export async function writeLatestZip(
  store: ObjectStore,
  files: readonly WrittenFile[],
  key: string,
  mtime: Date,
  report: Report,
): Promise<WrittenFile> {
  const zip = new ZipFile();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) {
    const skip = addZipEntry(f.path, () =>
      zip.addReadStreamLazy(f.path, { mtime, size: f.bytes }, (cb) => {
        store.get(f.key).then(
          (r) => cb(null, Readable.from(r.body)),
          (err) => cb(err, new PassThrough()),
        );
      }),
    );
    if (skip) report.skip({ source: `output file ${skip.path}`, reason: skip.reason });
  }
  zip.end();
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed() {
    for await (const c of zip.outputStream as AsyncIterable<Buffer>) {
      hash.update(c);
      bytes += c.length;
      yield c;
    }
  }
  const r = await store.putStream(key, hashed(), { contentType: 'application/zip' });
  return {
    path: key.slice(key.lastIndexOf('/') + 1),
    key,
    bytes,
    sha256: hash.digest('hex'),
    ...(r?.versionId ? { versionId: r.versionId } : {}),
  };
}
