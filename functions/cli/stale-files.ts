/**
 * Files in an output folder that this run did not write: left from an earlier export into the
 * same folder (Label Studio's converter leaves them too). A YOLO label file of an earlier export,
 * next to a rewritten classes.txt, would name the wrong classes, so the CLI warns about them.
 */
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Paths under `dir` (relative, `/`-separated, sorted) that are not in `written` and that `keep`
 * does not claim (the report, an image folder, another format's folder). Missing folder: none.
 * Folders are read entry by entry: a folder of 100,000 label files listed at once (Dirent objects
 * and paths) was the peak of a VOC export's memory, +35 MiB at its very end.
 */
export async function filesNotWritten(
  dir: string,
  written: { has(path: string): boolean },
  keep: (path: string) => boolean,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    let entries: import('node:fs').Dir;
    try {
      entries = await opendir(folder, { bufferSize: 256 });
    } catch (err) {
      // Missing (or removed while scanning): nothing left there.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for await (const e of entries) {
      const path = prefix + e.name;
      if (e.isDirectory()) await walk(join(folder, e.name), `${path}/`);
      else if (e.isFile() && !written.has(path) && !keep(path)) out.push(path);
    }
  };
  await walk(dir, '');
  return out.sort();
}
