/**
 * The one rule for names an archive refuses, shared by the CLI's folder zip (storage/zip.ts, yazl)
 * and the pipeline's `latest/<FORMAT>.zip` (pipeline/latest-zip.ts, core/zip-archive.ts): such an
 * entry is left out and reported, the rest of the archive is written. Pure: the caller's `add` does
 * the zip library's work.
 */
import { reasonOf } from './report.ts';

/** A file left out of an archive: its path and why. */
export interface ZipSkip {
  path: string;
  reason: string;
}

/**
 * Why the zip format refuses `name` as an entry name, or undefined when it is fine. The rule yazl
 * applies (so the CLI's folder zip and the pipeline's zips refuse the same names): empty, absolute
 * (`/…`, `C:…`), a `..` segment, a trailing `/`, more than 65,535 UTF-8 bytes.
 */
export function zipNameProblem(name: string): string | undefined {
  if (name === '') return 'empty name';
  const n = name.replace(/\\/g, '/');
  if (/^[a-zA-Z]:/.test(n) || n.startsWith('/')) return `absolute path: ${name}`;
  if (n.split('/').includes('..')) return `invalid relative path: ${name}`;
  if (n.endsWith('/')) return `file path cannot end with '/': ${name}`;
  if (Buffer.byteLength(n) > 0xffff) return `utf8 file name too long: ${Buffer.byteLength(n)} > 65535`;
  return undefined;
}

/** The skip for `path` when the zip format refuses it as an entry name (zipNameProblem). */
export function zipEntrySkip(path: string): ZipSkip | undefined {
  const problem = zipNameProblem(path);
  return problem === undefined ? undefined : { path, reason: skipReason(problem) };
}

const skipReason = (problem: string) =>
  `not a valid zip entry name (${problem}); it is left out of the archive`;

/**
 * Adds one entry through `add` unless zipNameProblem refuses its name; a name the library refuses
 * anyway is returned as a skip too, instead of failing the archive.
 */
export function addZipEntry(path: string, add: () => void): ZipSkip | undefined {
  const skip = zipEntrySkip(path);
  if (skip) return skip;
  try {
    add();
    return undefined;
  } catch (err) {
    return { path, reason: skipReason(reasonOf(err)) };
  }
}
