/**
 * Files in an output folder that this run did not write: left from an earlier export into the
 * same folder (Label Studio's converter leaves them too). A YOLO label file of an earlier export,
 * next to a rewritten classes.txt, would name the wrong classes, so the CLI warns about them.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Paths under `dir` (relative, `/`-separated, sorted) that are not in `written` and that `keep`
 * does not claim (the report, an image folder, another format's folder). Missing folder: none.
 */
export async function filesNotWritten(
  dir: string,
  written: ReadonlySet<string>,
  keep: (path: string) => boolean,
): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = relative(dir, join(e.parentPath, e.name)).split(sep).join('/');
    if (!written.has(path) && !keep(path)) out.push(path);
  }
  return out.sort();
}
