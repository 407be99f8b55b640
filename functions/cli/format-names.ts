/**
 * `-f` values: one format or several separated by commas (`-f COCO,YOLO,CSV`), matched
 * case-insensitively against a registry; a misspelt name lists the valid ones and suggests the
 * closest by edit distance.
 */
import type { FormatRegistry } from '../core/formats/registry.ts';
import { UsageError } from './errors.ts';

/** Levenshtein distance (insertions, deletions, substitutions) between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/**
 * The name of `names` closest to `wrong` (case-insensitive), when it is close enough to be a
 * plausible typo (at most a third of its length, and at least 2 edits allowed); else undefined.
 */
export function closestName(wrong: string, names: readonly string[]): string | undefined {
  const w = wrong.toUpperCase();
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = editDistance(w, name.toUpperCase());
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(w.length / 3)) ? best.name : undefined;
}

/**
 * The formats named by a `-f` value, upper-cased, de-duplicated, in the order given. Throws
 * UsageError for an empty name or one `registry` does not know (listing the formats it can write,
 * with the closest as a suggestion); a known format without a writer is returned (convert refuses it).
 */
export function parseFormatList(value: string, registry: FormatRegistry): string[] {
  const out: string[] = [];
  for (const raw of value.split(',').map((s) => s.trim())) {
    if (!raw) throw new UsageError(`-f/--format "${value}" has an empty format name`);
    const name = raw.toUpperCase();
    if (!registry.get(name)) {
      // Only formats ls-export can write are offered (not DOCLANG, CSV_OLD: known, not implemented).
      const valid = registry.implemented();
      const guess = closestName(name, valid);
      throw new UsageError(
        `unknown format "${raw}"${guess ? ` (did you mean ${guess}?)` : ''}; valid formats: ${valid.join(', ')}`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}
