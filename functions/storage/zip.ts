/**
 * Packs an export folder into one zip, as Label Studio's download delivers multi-file exports.
 * Files are streamed into the archive one at a time (yazl), so memory stays constant whatever the
 * export's size; entries keep the order they were written in. Names the zip format refuses are
 * left out by core/zip-entry.ts's rule.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { addZipEntry, type ZipSkip } from '../core/zip-entry.ts';

/**
 * Where zipFolder writes `zipPath` before renaming it: a hidden file beside it named for the
 * process (`.<name>.<pid>.part`), so two runs zipping into one folder do not share it, and an
 * interrupted run can remove its own (synchronously, from a signal handler).
 */
export function zipPartPath(zipPath: string, pid = process.pid): string {
  return join(dirname(zipPath), `.${basename(zipPath)}.${pid}.part`);
}

/**
 * Zips `paths` (relative, `/`-separated) of `dir` into `zipPath` (written beside it as
 * zipPartPath's file, then renamed; that file is removed when the zip fails). Returns the files
 * left out because the zip format refuses their names; the caller reports them. Read or write
 * failures reject.
 */
export async function zipFolder(dir: string, paths: string[], zipPath: string): Promise<ZipSkip[]> {
  const zip = new yazl.ZipFile();
  const skipped: ZipSkip[] = [];
  for (const path of new Set(paths)) {
    const skip = addZipEntry(path, () => zip.addFile(join(dir, ...path.split('/')), path));
    if (skip) skipped.push(skip);
  }
  zip.end();
  const tmp = zipPartPath(zipPath);
  try {
    await pipeline(zip.outputStream, createWriteStream(tmp));
    await rename(tmp, zipPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return skipped;
}
