/**
 * The one rule for names an archive refuses, shared by the CLI's folder zip (storage/zip.ts) and the
 * pipeline's `latest/<FORMAT>.zip` (pipeline/latest-zip.ts): such an entry is left out and reported,
 * the rest of the archive is written. Pure: the caller's `add` does the zip library's work.
 */
import { reasonOf } from './report.ts';

/** A file left out of an archive: its path and why. */
export interface ZipSkip {
  path: string;
  reason: string;
}

/**
 * Adds one entry through `add`; an entry name the zip format refuses (yazl: `..` segments,
 * absolute paths, names over 65,535 bytes) is returned as a skip instead of failing the archive.
 */
export function addZipEntry(path: string, add: () => void): ZipSkip | undefined {
  try {
    add();
    return undefined;
  } catch (err) {
    return { path, reason: `not a valid zip entry name (${reasonOf(err)}); it is left out of the archive` };
  }
}
