/**
 * `--image-dir DIR` (label-studio-converter's `image_dir`): the copies go to DIR and the files that
 * name them say where they are, relative to the output folder (docs/label-studio-behaviour.md#coco, #voc, #yolo): COCO's
 * `file_name`, VOC's `<folder>`, YOLO's data.yaml image folders.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.ts';

const CONFIG = `<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Car"/><Label value="Bus"/></RectangleLabels></View>`;

const rect = (x: number, label: string) => ({
  type: 'rectanglelabels',
  from_name: 'label',
  to_name: 'image',
  original_width: 4,
  original_height: 4,
  value: { x, y: 10, width: 20, height: 20, rotation: 0, rectanglelabels: [label] },
});

/** Two tasks whose images are uploads (copied under their basename), in a fresh folder. */
function project() {
  const dir = mkdtempSync(join(tmpdir(), 'ls-image-dir-'));
  const tasks = [1, 2].map((n) => ({
    id: n,
    data: { image: `/data/upload/1/img${n}.png` },
    annotations: [{ id: 10 + n, result: [rect(10 * n, n === 1 ? 'Car' : 'Bus')] }],
  }));
  writeFileSync(join(dir, 'tasks.json'), JSON.stringify(tasks));
  writeFileSync(join(dir, 'config.xml'), CONFIG);
  mkdirSync(join(dir, 'upload', '1'), { recursive: true });
  for (const n of [1, 2])
    writeFileSync(join(dir, 'upload', '1', `img${n}.png`), PNG.sync.write(new PNG({ width: 4, height: 4 })));
  const convert = (out: string, format: string, ...more: string[]) =>
    runCli(
      [
        'convert',
        '-q',
        '-i',
        'tasks.json',
        '-c',
        'config.xml',
        '-o',
        out,
        '-f',
        format,
        '--upload-dir',
        'upload',
      ].concat(more),
      { cwd: dir },
    );
  return { dir, convert };
}

const cocoNames = (file: string): string[] =>
  JSON.parse(readFileSync(file, 'utf8')).images.map((i: { file_name: string }) => i.file_name);

describe('--image-dir: the output names the images where they are', () => {
  it('COCO_WITH_IMAGES: file_name is relative to the output folder and resolves from it', async () => {
    const { dir, convert } = project();
    const r = await convert('out', 'COCO_WITH_IMAGES', '--image-dir', 'pics');
    expect(r.code, r.stderr).toBe(0);
    const names = cocoNames(join(dir, 'out', 'result.json'));
    expect(names).toEqual(['../pics/img1.png', '../pics/img2.png']);
    for (const name of names) expect(existsSync(join(dir, 'out', name)), name).toBe(true);
    expect(existsSync(join(dir, 'out', 'images'))).toBe(false);
  });

  it('COCO_WITH_IMAGES: an image folder inside the output, and the output folder itself', async () => {
    const { dir, convert } = project();
    expect((await convert('a', 'COCO_WITH_IMAGES', '--image-dir', 'a/pics')).code).toBe(0);
    expect(cocoNames(join(dir, 'a', 'result.json'))).toEqual(['pics/img1.png', 'pics/img2.png']);
    expect((await convert('b', 'COCO_WITH_IMAGES', '--image-dir', 'b')).code).toBe(0);
    expect(cocoNames(join(dir, 'b', 'result.json'))).toEqual(['img1.png', 'img2.png']);
    expect(readdirSync(join(dir, 'b')).sort()).toEqual([
      'img1.png',
      'img2.png',
      'report.json',
      'result.json',
    ]);
  });

  it('VOC: <folder> is the image folder relative to the output folder, <filename> the copy in it', async () => {
    const { dir, convert } = project();
    const r = await convert('out', 'VOC', '--image-dir', 'pics');
    expect(r.code, r.stderr).toBe(0);
    const xml = readFileSync(join(dir, 'out', 'Annotations', 'img1.xml'), 'utf8');
    const folder = xml.match(/<folder>([^<]*)<\/folder>/)?.[1];
    const filename = xml.match(/<filename>([^<]*)<\/filename>/)?.[1];
    expect([folder, filename]).toEqual(['../pics', 'img1.png']);
    expect(existsSync(join(dir, 'out', folder!, filename!))).toBe(true);
  });

  it('YOLO_WITH_IMAGES: data.yaml names the image folder (with --split, its split folders) where they are', async () => {
    const { dir, convert } = project();
    expect((await convert('flat', 'YOLO_WITH_IMAGES', '--image-dir', 'pics', '--yolo-data-yaml')).code).toBe(
      0,
    );
    const flat = parse(readFileSync(join(dir, 'flat', 'data.yaml'), 'utf8'));
    expect([flat.train, flat.val]).toEqual(['../pics', '../pics']);
    expect(readdirSync(join(dir, 'flat', flat.train)).sort()).toEqual(['img1.png', 'img2.png']);

    const r = await convert(
      'split',
      'YOLO_WITH_IMAGES',
      '--image-dir',
      'split-pics',
      '--split',
      'train=0.5,val=0.5',
    );
    expect(r.code, r.stderr).toBe(0);
    const split = parse(readFileSync(join(dir, 'split', 'data.yaml'), 'utf8'));
    expect([split.train, split.val]).toEqual(['../split-pics/train', '../split-pics/val']);
    const copied = [split.train, split.val].flatMap((f: string) =>
      existsSync(join(dir, 'split', f)) ? readdirSync(join(dir, 'split', f)) : [],
    );
    expect(copied.sort()).toEqual(['img1.png', 'img2.png']);
  });

  it('several formats: each names its own DIR/<FORMAT> folder', async () => {
    const { dir, convert } = project();
    const r = await convert('multi', 'COCO_WITH_IMAGES,VOC', '--image-dir', 'pics');
    expect(r.code, r.stderr).toBe(0);
    const names = cocoNames(join(dir, 'multi', 'COCO_WITH_IMAGES', 'result.json'));
    expect(names).toEqual(['../../pics/COCO_WITH_IMAGES/img1.png', '../../pics/COCO_WITH_IMAGES/img2.png']);
    for (const name of names) expect(existsSync(join(dir, 'multi', 'COCO_WITH_IMAGES', name))).toBe(true);
    const xml = readFileSync(join(dir, 'multi', 'VOC', 'Annotations', 'img2.xml'), 'utf8');
    expect(xml).toContain('<folder>../../pics/VOC</folder>');
  });

  it('without --image-dir the names stay images/<name>', async () => {
    const { dir, convert } = project();
    expect((await convert('out', 'COCO_WITH_IMAGES')).code).toBe(0);
    expect(cocoNames(join(dir, 'out', 'result.json'))).toEqual(['images/img1.png', 'images/img2.png']);
  });
});
