/**
 * Packs an export folder into one zip, as Label Studio's download delivers multi-file exports.
 * Files are streamed into the archive one at a time (yazl), so memory stays constant whatever the
 * export's size; entries keep the order they were written in.
 */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

export async function zipFolder(dir: string, paths: string[], zipPath: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const path of new Set(paths)) zip.addFile(join(dir, ...path.split('/')), path);
  zip.end();
  const tmp = `${zipPath}.part`;
  await pipeline(zip.outputStream, createWriteStream(tmp));
  await rename(tmp, zipPath);
}
