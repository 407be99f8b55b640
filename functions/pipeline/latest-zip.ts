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
 * An entry's bytes as read, checked against its manifest entry at the end: the size, and the
 * SHA-256 unless that is of chunks (an assembled file). Throws ZipSourceError on a mismatch.
 */
async function* checked(body: AsyncIterable<Uint8Array>, f: WrittenFile): AsyncIterable<Uint8Array> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of body) {
    hash.update(c);
    bytes += c.length;
    yield c;
  }
  const sha256 = hash.digest('hex');
  if (bytes !== f.bytes || (f.sha256Of !== 'chunks' && sha256 !== f.sha256))
    throw new ZipSourceError(
      f.key,
      `${bytes} bytes, sha256 ${sha256}; the manifest names ${f.bytes} bytes, ${f.sha256}`,
    );
}

/** An object read for a zip does not hold the bytes its manifest entry names. */
export class ZipSourceError extends Error {
  constructor(key: string, detail: string) {
    super(`${key} does not hold the bytes the manifest names (${detail}); the zip is not written`);
    this.name = 'ZipSourceError';
  }
}

/**
 * Zips `files` (read by key: they must be the current objects) into `key`, checking each object
 * against its entry (ZipSourceError: the object changed behind the manifest's back). Returns the
 * zip's manifest entry (`path` is the key's last segment). Entry names the zip format refuses are
 * reported and left out; read, check or write failures reject (nothing is stored).
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
          (r) => {
            // yazl listens for no error on a lazy entry's stream: pass it on as the zip's.
            const entry = Readable.from(checked(r.body, f));
            entry.on('error', (err) => zip.emit('error', err));
            cb(null, entry);
          },
          (err) => cb(err, new PassThrough()),
        );
      }),
    );
    if (skip) report.skip({ source: `output file ${skip.path}`, reason: skip.reason });
  }
  zip.end();
  // yazl reports a failed entry (read error, wrong size) on the ZipFile: fail the output stream
  // with it, so the upload below rejects (an unhandled 'error' event would end the process).
  const output = zip.outputStream as Readable;
  zip.on('error', (err: Error) => output.destroy(err));
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed() {
    for await (const c of output as AsyncIterable<Buffer>) {
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
