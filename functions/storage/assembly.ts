/** S3's multipart part rules, checked before an assembled object's first request (s3.ts, fs.ts). */
import { type AssemblyPart, MIN_PART_BYTES, partBytes } from '../core/object-store.ts';

/** Checks S3's part rules before any request: 1–10,000 parts, all but the last ≥ 5 MiB, ranges non-empty. */
export function checkParts(parts: AssemblyPart[]): void {
  if (parts.length === 0 || parts.length > 10_000)
    throw new RangeError(`an assembled object needs 1 to 10,000 parts, not ${parts.length}`);
  parts.forEach((p, i) => {
    const bytes = partBytes(p);
    if ('copy' in p && bytes <= 0) throw new RangeError(`part ${i + 1} copies an empty range`);
    if (i < parts.length - 1 && bytes < MIN_PART_BYTES)
      throw new RangeError(
        `part ${i + 1} has ${bytes} bytes; every part but the last needs ≥ ${MIN_PART_BYTES}`,
      );
  });
}
