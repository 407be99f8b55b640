/**
 * Files in an output folder that this run did not write: left from an earlier export into the
 * same folder (Label Studio's converter leaves them too). A YOLO label file of an earlier export,
 * next to a rewritten classes.txt, would name the wrong classes, so the CLI warns about them.
 */
import { opendir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

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

/** What staleOutputs reads of one format's output (convert.ts's Output). */
export interface StaleCheckOutput {
  /** The folder the format's files are in, and as shown to the user. */
  dir: string;
  shown: string;
  /** Written whole (a zip, a .csv file): not checked. */
  zipName?: string;
  csvFile?: string;
  /** The sink of the format's files, which knows the paths it wrote. */
  sink: { main: { exists(path: string): boolean } };
}

/**
 * One sentence when an output folder holds files this run did not write (an earlier export into
 * the same folder), else undefined. Not checked for --zip and .csv outputs (written whole).
 */
export async function staleOutputs(
  outputs: ReadonlyArray<StaleCheckOutput>,
  formats: readonly string[],
  root: string,
  imageRoot: string | undefined,
): Promise<string | undefined> {
  const found: string[] = [];
  for (const o of outputs) {
    if (o.zipName || o.csvFile) continue;
    const written = { has: (path: string) => o.sink.main.exists(path) };
    const under = (dir: string | undefined) => dir && relative(o.dir, dir).split(sep).join('/');
    // The report, the image folder (its copies are counted apart), other formats' folders.
    const images = under(imageRoot);
    const keep = (p: string) =>
      (o.dir === root && p === 'report.json') ||
      (images !== undefined && images !== '' && !images.startsWith('..') && p.startsWith(`${images}/`)) ||
      (o.dir === root && formats.length > 1 && formats.some((f) => p.startsWith(`${f}/`)));
    for (const p of await filesNotWritten(o.dir, written, keep)) found.push(join(o.shown, p));
  }
  if (found.length === 0) return undefined;
  return `${found.length === 1 ? '1 file' : `${found.length.toLocaleString('en-US')} files`} in the output folder ${found.length === 1 ? 'was' : 'were'} not written by this run (left from an earlier export? use an empty folder), e.g. ${found[0]}`;
}
