/**
 * YOLO for Ultralytics: data.yaml and the deterministic split, checked by a loader that reads the
 * export as Ultralytics does — the yaml parsed (PyYAML reads YAML 1.1), the dataset root being the
 * `path` key or else the yaml's folder, every image under each split folder listed, and its label
 * found by Ultralytics' img2label_paths rule: the last `/images/` of the path becomes `/labels/`, the
 * extension becomes `.txt`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseExportOptions } from '../../../functions/core/formats/options.ts';
import {
  classNamesById,
  dataYamlText,
  parseSplit,
  splitOf,
  splitPosition,
} from '../../../functions/core/formats/yolo-dataset.ts';
import { exportWith, FIXTURES, type MemorySink } from '../../helpers/export.ts';
import { FakeMedia, jpegBytes } from '../images/fake-media.ts';

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image">
    <Label value="Zebra"/><Label value="cat"/><Label value="yes"/>
  </RectangleLabels>
</View>`;
const LABELS = ['Zebra', 'cat', 'yes'];

const box = (label: string) => ({
  from_name: 'rect',
  to_name: 'image',
  type: 'rectanglelabels',
  original_width: 100,
  original_height: 100,
  value: { x: 10, y: 20, width: 30, height: 40, rotation: 0, rectanglelabels: [label] },
});

/** Tasks 1..n, each with one image (uploads, and every fifth an http URL), some without regions. */
function tasks(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const id = i + 1;
    const image = id % 5 === 0 ? `https://cdn.example.com/set/photo${id}.jpg` : `/data/upload/3/img${id}.jpg`;
    return {
      id,
      data: { image },
      annotations: id % 7 === 0 ? [] : [{ id: 100 + id, result: [box(LABELS[id % 3])] }],
    };
  });
}

function media(n: number): FakeMedia {
  const files: Record<string, Uint8Array> = {};
  for (const t of tasks(n)) files[t.data.image] = jpegBytes(100, 100);
  return new FakeMedia(files);
}

/** The export's files on disk, as a training job would get them. */
function materialise(sink: MemorySink): string {
  const dir = mkdtempSync(join(tmpdir(), 'ls-yolo-'));
  for (const [path, bytes] of sink.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

const IMG_FORMATS = new Set(['bmp', 'dng', 'jpeg', 'jpg', 'mpo', 'png', 'tif', 'tiff', 'webp', 'pfm']);

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Ultralytics' img2label_paths: `sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"`. */
function img2label(image: string): string {
  const sa = `${sep}images${sep}`;
  const at = image.lastIndexOf(sa);
  const swapped = at < 0 ? image : `${image.slice(0, at)}${sep}labels${sep}${image.slice(at + sa.length)}`;
  const dot = swapped.lastIndexOf('.');
  return `${dot < 0 ? swapped : swapped.slice(0, dot)}.txt`;
}

interface Loaded {
  yaml: { names: string[]; nc: number; [k: string]: unknown };
  /** split → image path (relative to the root) → label text. */
  pairs: Map<string, Map<string, string>>;
  root: string;
}

/** Reads an export as Ultralytics' check_det_dataset + YOLODataset would; fails on a missing label. */
function loadUltralytics(yamlFile: string): Loaded {
  const yaml = parseYaml(readFileSync(yamlFile, 'utf8'), { version: '1.1' });
  expect(yaml.train, 'train: is required').toBeTypeOf('string');
  expect(yaml.val, 'val: is required').toBeTypeOf('string');
  expect(yaml.names).toHaveLength(yaml.nc);
  const root = yaml.path ? resolve(dirname(yamlFile), yaml.path) : dirname(yamlFile);
  const pairs = new Map<string, Map<string, string>>();
  for (const split of ['train', 'val', 'test']) {
    if (!yaml[split]) continue;
    const images = filesUnder(join(root, yaml[split])).filter((f) =>
      IMG_FORMATS.has(f.slice(f.lastIndexOf('.') + 1).toLowerCase()),
    );
    const found = new Map<string, string>();
    for (const image of images) {
      const label = img2label(image);
      expect(existsSync(label), `label of ${image}`).toBe(true);
      const text = readFileSync(label, 'utf8');
      for (const line of text.split('\n').filter(Boolean)) {
        const cls = Number(line.split(' ')[0]);
        expect(Number.isInteger(cls) && cls >= 0 && cls < yaml.nc, `class of "${line}"`).toBe(true);
      }
      found.set(relative(root, image), text);
    }
    pairs.set(split, found);
  }
  return { yaml, pairs, root };
}

describe('YOLO for Ultralytics: --split and data.yaml', () => {
  it('lays out images/<split> and labels/<split> that a loader pairs one to one, names in class-id order', async () => {
    const { sink, report } = await exportWith(
      tasks(30),
      CONFIG,
      'YOLO_WITH_IMAGES',
      { yoloSplit: 'train=0.7,val=0.2,test=0.1' },
      media(30),
    );
    expect(report.skipped).toEqual([]);
    const dir = materialise(sink);
    const { yaml, pairs, root } = loadUltralytics(join(dir, 'data.yaml'));
    expect(yaml).toMatchObject({ train: 'images/train', val: 'images/val', test: 'images/test' });
    expect(yaml.path).toBeUndefined();
    // names: line N of classes.txt is class N, and "yes" stays a string under YAML 1.1.
    expect(yaml.names).toEqual(readFileSync(join(root, 'classes.txt'), 'utf8').split('\n').filter(Boolean));
    expect(yaml.names).toContain('yes');
    // Every task's image is in exactly one split, the one its id hashes to; no label without an image.
    const all = [...pairs.values()].flatMap((m) => [...m.keys()]);
    expect(all).toHaveLength(30);
    const spec = parseSplit('train=0.7,val=0.2,test=0.1');
    for (const t of tasks(30)) {
      const name = t.data.image.startsWith('/data/upload/') ? t.data.image.split('/').pop()! : undefined;
      const split = splitOf(t.id, spec);
      const inSplit = [...pairs.get(split)!.keys()].filter((p) =>
        name ? p === join('images', split, name) : p.endsWith(`__photo${t.id}.jpg`),
      );
      expect(inSplit, `task ${t.id} in ${split}`).toHaveLength(1);
    }
    const labelFiles = filesUnder(join(root, 'labels'));
    expect(labelFiles).toHaveLength(30);
    for (const split of ['train', 'val']) expect(pairs.get(split)!.size).toBeGreaterThan(0);
    // A label's content is the task's box (class id of its label).
    const t1 = pairs.get(splitOf(1, spec))!.get(join('images', splitOf(1, spec), 'img1.jpg'));
    expect(t1).toBe(`${yaml.names.indexOf('cat')} 0.25 0.4 0.3 0.4\n`);
  });

  it('keeps every image in its split when tasks are added and the export is run again', async () => {
    const where = async (n: number) => {
      const { sink } = await exportWith(
        tasks(n),
        CONFIG,
        'YOLO_WITH_IMAGES',
        { yoloSplit: 'train=0.5,val=0.5' },
        media(n),
      );
      const { pairs } = loadUltralytics(join(materialise(sink), 'data.yaml'));
      const split = new Map<string, string>();
      for (const [s, m] of pairs) for (const p of m.keys()) split.set(p.split(sep).pop()!, s);
      return split;
    };
    const before = await where(20);
    const after = await where(40);
    expect(before.size).toBe(20);
    expect(after.size).toBe(40);
    for (const [image, split] of before) expect(after.get(image), image).toBe(split);
    expect(new Set(after.values())).toEqual(new Set(['train', 'val']));
  });

  it('YOLO_OBB_WITH_IMAGES splits the same way', async () => {
    // The boxes carry rotation 0, so OBB keeps them (it drops rectangles without the key).
    const { sink } = await exportWith(
      tasks(12),
      CONFIG,
      'YOLO_OBB_WITH_IMAGES',
      { yoloSplit: 'train=0.8,val=0.2' },
      media(12),
    );
    const { pairs } = loadUltralytics(join(materialise(sink), 'data.yaml'));
    expect([...pairs.values()].reduce((n, m) => n + m.size, 0)).toBe(12);
    const line = pairs
      .get(splitOf(1, parseSplit('train=0.8,val=0.2')))!
      .get(join('images', splitOf(1, parseSplit('train=0.8,val=0.2')), 'img1.jpg'));
    expect(line?.split(' ')).toHaveLength(9); // class + four corners
  });

  it('plain YOLO with --split: labels/<split>/ by task id; images placed as documented pair up', async () => {
    const spec = parseSplit('train=0.8,val=0.2');
    const { sink } = await exportWith(tasks(10), CONFIG, 'YOLO', { yoloSplit: 'train=0.8,val=0.2' });
    const dir = materialise(sink);
    for (const t of tasks(10).filter((t) => t.data.image.startsWith('/data/'))) {
      const stem = `img${t.id}`;
      expect(sink.files.has(`labels/${splitOf(t.id, spec)}/${stem}.txt`), `task ${t.id}`).toBe(true);
      // The user downloads each image to images/<split>/<label stem>.<ext> (README).
      mkdirSync(join(dir, 'images', splitOf(t.id, spec)), { recursive: true });
      writeFileSync(join(dir, 'images', splitOf(t.id, spec), `${stem}.jpg`), jpegBytes(100, 100));
    }
    expect([...sink.files.keys()].filter((k) => k.startsWith('images/'))).toEqual([]);
    const { pairs } = loadUltralytics(join(dir, 'data.yaml'));
    expect([...pairs.values()].reduce((n, m) => n + m.size, 0)).toBe(8);
  });

  it('--yolo-data-yaml without a split: train and val name images/, Label Studio files unchanged', async () => {
    const plain = await exportWith(tasks(6), CONFIG, 'YOLO_WITH_IMAGES', {}, media(6));
    const withYaml = await exportWith(tasks(6), CONFIG, 'YOLO_WITH_IMAGES', { yoloDataYaml: true }, media(6));
    expect(plain.sink.files.has('data.yaml')).toBe(false);
    for (const [path, bytes] of plain.sink.files)
      expect(withYaml.sink.files.get(path)?.equals(bytes), path).toBe(true);
    const { yaml, pairs } = loadUltralytics(join(materialise(withYaml.sink), 'data.yaml'));
    expect(yaml).toMatchObject({ train: 'images', val: 'images', nc: 3 });
    expect(pairs.get('train')!.size).toBe(6);
  });

  it('a keypoint (pose) export gets kpt_shape [K, 3], K = the keypoints per line', async () => {
    const { sink } = await exportWith(
      readFileSync(join(FIXTURES, 'test_export_yolo/data_keypoints.json'), 'utf8'),
      readFileSync(join(FIXTURES, 'test_export_yolo/label_config_keypoints.xml'), 'utf8'),
      'YOLO',
      { yoloDataYaml: true },
    );
    const yaml = parseYaml(sink.text('data.yaml'), { version: '1.1' });
    const fields = sink.text('labels/image1.txt').split(' ');
    expect(yaml.kpt_shape).toEqual([(fields.length - 5) / 3, 3]);
    expect(yaml.names).toEqual(['person']);
  });

  it('the split is sha256(id) → [0, 1) against cumulative fractions', () => {
    const hex = createHash('sha256').update('42').digest('hex');
    expect(splitPosition(42)).toBe(Number.parseInt(hex.slice(0, 13), 16) / 2 ** 52);
    expect(splitPosition('42')).toBe(splitPosition(42));
    const u = splitPosition(42);
    expect(u).toBeGreaterThanOrEqual(0);
    expect(u).toBeLessThan(1);
    expect(splitOf(42, parseSplit('train=0.5,val=0.5'))).toBe(u < 0.5 ? 'train' : 'val');
    expect(splitOf(42, parseSplit('train=0,val=0.5,test=0.5'))).toBe(u < 0.5 ? 'val' : 'test');
  });

  it('rejects a bad split with the reason, through the options schema', () => {
    expect(() => parseExportOptions({ yoloSplit: 'train=0.8,val=0.3' })).toThrow(/sum to 1.1/);
    expect(() => parseExportOptions({ yoloSplit: 'train=0.8,dev=0.2' })).toThrow(/unknown split .{0,2}dev/);
    expect(() => parseExportOptions({ yoloSplit: 'train=1' })).toThrow(/needs val=/);
    expect(parseExportOptions({ yoloSplit: 'train=0.8,val=0.2' }).yoloSplit).toBe('train=0.8,val=0.2');
  });

  it('names fill id gaps with unused_N; YAML 1.1 specials are quoted', () => {
    const names = classNamesById([
      { id: 2, name: 'on' },
      { id: 0, name: 'null' },
    ]);
    expect(names).toEqual(['null', 'unused_1', 'on']);
    const text = dataYamlText(names, ['train', 'val']);
    expect(parseYaml(text, { version: '1.1' }).names).toEqual(['null', 'unused_1', 'on']);
    expect(text).toContain('- "on"');
  });
});
