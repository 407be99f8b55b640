/**
 * Reads a zip archive with yauzl (an independent reader, not our writer's parser): every entry's
 * name, bytes (inflated; CRC-32 checked here, yauzl does not), DOS time fields and extra fields.
 */
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';

export interface ReadEntry {
  name: string;
  data: Buffer;
  method: number;
  dosTime: number;
  dosDate: number;
  extraIds: number[];
}

/** `data: false`: names and fields only (`data` empty), for archives of many entries. */
export function readZip(archive: Buffer, options: { data?: boolean } = {}): Promise<ReadEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(archive, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: ReadEntry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        if (options.data === false) {
          out.push({
            name: e.fileName,
            data: Buffer.alloc(0),
            method: e.compressionMethod,
            dosTime: e.lastModFileTime,
            dosDate: e.lastModFileDate,
            extraIds: e.extraFields.map((x) => x.id),
          });
          return zip.readEntry();
        }
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return reject(err2);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            const data = Buffer.concat(chunks);
            if (crc32(data) >>> 0 !== e.crc32 >>> 0)
              return reject(new Error(`${e.fileName}: CRC-32 mismatch`));
            out.push({
              name: e.fileName,
              data,
              method: e.compressionMethod,
              dosTime: e.lastModFileTime,
              dosDate: e.lastModFileDate,
              extraIds: e.extraFields.map((x) => x.id),
            });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
