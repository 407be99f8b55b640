/**
 * YOLO for Ultralytics: the deterministic train/val/test split (`--split`) and the dataset file
 * `data.yaml` (`--yolo-data-yaml`). Neither is written by Label Studio; both are options, and
 * neither changes the bytes of a label file.
 *
 * Split: a task's split is decided by the SHA-256 of its id alone (the first 52 bits as a number
 * in [0, 1), compared with the cumulative fractions train, val, test), so a re-export — with tasks
 * added or removed — keeps every task in the split it had.
 *
 * data.yaml: `train`/`val`(/`test`) image folders relative to the dataset root, `nc` and `names`
 * in class-id order (line N of the list is class N). `path` is left out on purpose: Ultralytics then
 * takes the yaml's own folder as the dataset root, wherever the export was copied; a relative
 * `path` would be resolved against the working directory or Ultralytics' datasets_dir instead.
 * Written as YAML 1.1 (PyYAML, which Ultralytics reads it with): names such as `yes`, `on` or
 * `null` are quoted so they stay strings.
 */
import { createHash } from 'node:crypto';
import { Document } from 'yaml';
import type { Category } from '../images/categories.ts';
import { IMAGE_DIR, underDir } from '../images/resolve.ts';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Fractions per split, in SPLIT_NAMES order; they sum to 1. */
export type SplitSpec = ReadonlyArray<{ name: SplitName; fraction: number }>;

/**
 * Parses `train=0.8,val=0.2[,test=0.1]`. Throws an Error saying what is wrong: an unknown or
 * repeated split name, a fraction that is not a number in [0, 1], train or val missing, or
 * fractions not summing to 1 (±1e-9).
 */
export function parseSplit(text: string): SplitSpec {
  const seen = new Map<SplitName, number>();
  for (const part of text.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$/.exec(part);
    if (!m) throw new Error(`"${part.trim()}" is not NAME=FRACTION (e.g. train=0.8,val=0.2)`);
    const name = m[1] as SplitName;
    if (!SPLIT_NAMES.includes(name)) throw new Error(`unknown split "${m[1]}" (train, val, test)`);
    if (seen.has(name)) throw new Error(`split "${name}" is given twice`);
    const fraction = Number(m[2]);
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`${name}=${m[2]} is not a fraction in [0, 1]`);
    seen.set(name, fraction);
  }
  for (const need of ['train', 'val'] as const)
    if (!seen.has(need)) throw new Error(`the split needs ${need}= (Ultralytics reads train and val)`);
  const sum = [...seen.values()].reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new Error(`the fractions sum to ${sum}, not 1`);
  return SPLIT_NAMES.filter((n) => seen.has(n)).map((name) => ({ name, fraction: seen.get(name)! }));
}

/** A task id's position in [0, 1): the first 52 bits of SHA-256 of its decimal/string form. */
export function splitPosition(taskId: string | number): number {
  const hex = createHash('sha256').update(String(taskId), 'utf8').digest('hex');
  return Number.parseInt(hex.slice(0, 13), 16) / 2 ** 52;
}

/** The split of a task id: the first split whose cumulative fraction exceeds its position. */
export function splitOf(taskId: string | number, spec: SplitSpec): SplitName {
  const u = splitPosition(taskId);
  let acc = 0;
  for (const s of spec) {
    acc += s.fraction;
    if (u < acc) return s.name;
  }
  // Rounding of the sum: the last split with a share.
  return [...spec].reverse().find((s) => s.fraction > 0)!.name;
}

/**
 * Class names by class id (index N = class N), from the categories the label files used: ids
 * without a category are `unused_N` (as classes.txt under config-category-ids); negative ids are
 * left out; for two categories with one id, the first in id order names it.
 */
export function classNamesById(categories: readonly Category[]): string[] {
  const names = new Map<number, string>();
  for (const c of [...categories].sort((a, b) => a.id - b.id))
    if (c.id >= 0 && !names.has(c.id)) names.set(c.id, c.name);
  const max = Math.max(-1, ...names.keys());
  return Array.from({ length: max + 1 }, (_, id) => names.get(id) ?? `unused_${id}`);
}

/**
 * The text of `data.yaml`. `splits`: the split folders written (`images/<split>`), or undefined
 * without a split: then train and val both name `images` (one folder; Ultralytics needs val).
 * `keypoints`: the keypoint count of a pose export (adds `kpt_shape: [K, 3]`). `imageDir`: the
 * image folder relative to the dataset root (the `imageDir` option, from `--image-dir`).
 */
export function dataYamlText(
  names: readonly string[],
  splits?: readonly SplitName[],
  keypoints?: number,
  imageDir = IMAGE_DIR,
): string {
  const data: Record<string, unknown> = {};
  if (splits) for (const s of splits) data[s] = underDir(imageDir, s);
  else {
    data.train = imageDir;
    data.val = imageDir;
  }
  if (keypoints) data.kpt_shape = [keypoints, 3];
  data.nc = names.length;
  data.names = [...names];
  const doc = new Document(data, { version: '1.1' });
  doc.commentBefore =
    ' Ultralytics dataset (ls-export). No "path": the dataset root is this file\'s folder;\n' +
    ' labels/<split>/<stem>.txt pairs with images/<split>/<stem>.<ext>.';
  return doc.toString();
}
