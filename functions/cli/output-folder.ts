/**
 * The CLI's output folder: created (with its missing parents) and checked writable before any task
 * is read, or one sentence saying why not.
 */
import { existsSync } from 'node:fs';
import { access, constants, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

/** An fs error's code, or undefined. */
const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** An Error carrying an fs-like `code` (the reasons folderProblem puts in words). */
function codeError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Why a folder cannot be created or written, in words (an fs error's code). */
export function folderProblem(err: unknown): string {
  const code = codeOf(err);
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'a file of that name is in the way';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ENOFOLDER') return 'the file system does not allow a folder there';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates folder `dir` (absolute) and its missing parents, one at a time from the nearest existing
 * ancestor, each with a plain (non-recursive) mkdir. Node's recursive mkdir never settles where
 * mkdir fails with ENOENT although the parent exists (under /proc on Linux: it creates the parent
 * again, which exists, and retries); here that is an error with code ENOFOLDER. Throws the fs error
 * otherwise (EEXIST/ENOTDIR when a file is in the way, EACCES, EROFS, …).
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; ; ) {
    let isDir: boolean;
    try {
      isDir = (await stat(at)).isDirectory();
    } catch (err) {
      const up = dirname(at);
      if (codeOf(err) !== 'ENOENT' || up === at) throw err;
      missing.push(at);
      at = up;
      continue;
    }
    if (!isDir) throw codeError('ENOTDIR', `not a folder: ${at}`);
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (err) {
      const code = codeOf(err);
      // The parent exists (it was found or just made): ENOENT is the file system refusing.
      if (code === 'ENOENT') throw codeError('ENOFOLDER', `cannot create ${folder}`);
      // Made meanwhile by someone else: fine if it is a folder (a dangling symlink is not).
      if (code !== 'EEXIST') throw err;
      const isDir = await stat(folder).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDir) throw err;
    }
  }
}

/**
 * Creates output folder `dir` (shown to the user as `shown`) and checks that it can be written,
 * before any task is read. Throws CliError naming the folder and the reason.
 */
export async function outputFolder(dir: string, shown: string): Promise<void> {
  try {
    await makeFolder(dir);
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new CliError(`cannot write the output folder ${shown}: ${folderProblem(err)}`);
  }
}

/**
 * A new scratch folder in `dir` (`.ls-export-XXXXXX`: --zip and a `.csv` output write there first),
 * or CliError naming `shown` and the reason (a file system that allows no folder there, say).
 */
export async function scratchFolder(dir: string, shown: string): Promise<string> {
  try {
    return await mkdtemp(join(dir, '.ls-export-'));
  } catch (err) {
    // The folder exists (outputFolder checked it): ENOENT is the file system refusing.
    const e =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? codeError('ENOFOLDER', 'no folder allowed') : err;
    throw new CliError(`cannot write the output folder ${shown}: ${folderProblem(e)}`);
  }
}

/**
 * Checks that output file `file` (a `.csv` output) can take the export: no folder of that name is
 * in the way. CliError naming `shown` otherwise, before any task is read.
 */
export async function outputFile(file: string, shown: string): Promise<void> {
  const isDir = await stat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) throw new CliError(`cannot write the output file ${shown}: a folder of that name is in the way`);
}

/** `dir` and those of its parents that do not exist yet, outermost first (none if `dir` exists). */
export function missingFolders(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  return missing;
}
