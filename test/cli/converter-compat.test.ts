/**
 * The CLI as label-studio-converter users and shells expect it (issue 12, item 3): the converter's
 * flags, several formats in one read, --version, per-command help, format-name suggestions, true
 * summary counts. Runs `main` in-process (stdout/stderr captured); the process itself (bin/ls-export.mjs)
 * in cli.process.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closestName, editDistance } from '../../functions/cli/format-names.ts';
import { main } from '../../functions/cli/main.ts';
import { REGISTRY } from '../../functions/core/formats/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');
const TEXT_TASKS = join(ROOT, 'samples', 'text-ner', 'tasks.json');
const BBOX_CONFIG = `<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Car"/><Label value="Bus"/></RectangleLabels></View>`;

const tmp = () => mkdtempSync(join(tmpdir(), 'ls-cli-compat-'));

afterEach(() => vi.restoreAllMocks());

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out.push(String(c));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err.push(String(c));
    return true;
  });
  const status = await main(argv);
  vi.restoreAllMocks();
  return { status, stdout: out.join(''), stderr: err.join('') };
}

/** Every file under `dir`, as sorted relative paths. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

const rect = (id: number, label: string) => ({
  id: `r${id}`,
  type: 'rectanglelabels',
  from_name: 'label',
  to_name: 'image',
  original_width: 4,
  original_height: 4,
  value: { x: 10 * id, y: 10, width: 20, height: 20, rotation: 0, rectanglelabels: [label] },
});

/** Two image tasks; task 1 has two annotations (its YOLO label file is written twice). */
function bboxProject(dir: string, image = (n: number) => `/data/upload/1/img${n}.png`) {
  const tasks = [
    {
      id: 1,
      data: { image: image(1) },
      annotations: [
        { id: 11, result: [rect(1, 'Car')], created_at: '2025-01-02T00:00:00Z' },
        { id: 12, result: [rect(2, 'Bus')], created_at: '2025-01-01T00:00:00Z' },
      ],
    },
    { id: 2, data: { image: image(2) }, annotations: [{ id: 21, result: [rect(3, 'Bus')] }] },
  ];
  writeFileSync(join(dir, 'tasks.json'), JSON.stringify(tasks));
  writeFileSync(join(dir, 'config.xml'), BBOX_CONFIG);
  const uploads = join(dir, 'upload', '1');
  mkdirSync(uploads, { recursive: true });
  for (const n of [1, 2]) {
    const png = new PNG({ width: 4, height: 4 });
    writeFileSync(join(uploads, `img${n}.png`), PNG.sync.write(png));
  }
  return { tasks: join(dir, 'tasks.json'), config: join(dir, 'config.xml'), uploadDir: join(dir, 'upload') };
}

describe("label-studio-converter's export flags", () => {
  it('-f defaults to JSON (the reference default): a JSON export file is copied byte for byte', async () => {
    const out = join(tmp(), 'o');
    const r = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out);
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'result.json'))).toEqual(readFileSync(TEXT_TASKS));
    expect(r.stderr).toMatch(/copied the export as JSON into .* \(1 file\)/);
  });

  it('`export` is an alias of `convert` (same files), and --heartex-format is accepted', async () => {
    const dir = tmp();
    const a = await run(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(dir, 'a'),
      '-f',
      'CONLL2003',
    );
    const b = await run(
      'export',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(dir, 'b'),
      '-f',
      'CONLL2003',
      '--heartex-format',
    );
    expect([a.status, b.status]).toEqual([0, 0]);
    const conll = readFileSync(join(dir, 'a', 'result.conll'), 'utf8');
    expect(conll).toContain('-DOCSTART-');
    expect(readFileSync(join(dir, 'b', 'result.conll'), 'utf8')).toBe(conll);
  });

  it.each(['CSV', 'TSV'])('--csv-no-header: %s without its header row, rows unchanged', async (format) => {
    const dir = tmp();
    await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', join(dir, 'h'), '-f', format, '-q');
    const r = await run(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(dir, 'n'),
      '-f',
      format,
      '-q',
      '--csv-no-header',
    );
    expect(r.status).toBe(0);
    const withHeader = readFileSync(join(dir, 'h', 'result.csv'), 'utf8');
    const header = withHeader.slice(0, withHeader.indexOf('\r\n') + 2);
    expect(header).toMatch(/^"annotation_id"/);
    const without = readFileSync(join(dir, 'n', 'result.csv'), 'utf8');
    expect(without).toBe(withHeader.slice(header.length));
    expect(without).not.toContain('"annotation_id"');
  });

  it('--image-dir: YOLO_WITH_IMAGES and VOC put their image copies there, not in OUTPUT/images', async () => {
    const dir = tmp();
    const p = bboxProject(dir);
    for (const format of ['YOLO_WITH_IMAGES', 'VOC']) {
      const out = join(dir, `out-${format}`);
      const images = join(dir, `imgs-${format}`);
      const r = await run(
        'convert',
        '-i',
        p.tasks,
        '-c',
        p.config,
        '-o',
        out,
        '-f',
        format,
        '--upload-dir',
        p.uploadDir,
        '--image-dir',
        images,
      );
      expect(r.status, r.stderr).toBe(0);
      expect(filesUnder(images)).toEqual(['img1.png', 'img2.png']);
      expect(readFileSync(join(images, 'img1.png'))).toEqual(
        readFileSync(join(p.uploadDir, '1', 'img1.png')),
      );
      expect(filesUnder(out).some((f) => f.startsWith('images/'))).toBe(false);
      // The summary counts the image copies with the other files.
      const count = filesUnder(out).length - 1 + 2; // minus report.json, plus the two images
      expect(r.stderr).toContain(`(${count} files)`);
    }
  });
});

describe('several formats in one run', () => {
  it('-f COCO,YOLO,CSV reads the input once, writes OUTPUT/<FORMAT>/ as single runs do, one report', async () => {
    const dir = tmp();
    const p = bboxProject(dir);
    const out = join(dir, 'multi');
    const r = await run('convert', '-i', p.tasks, '-c', p.config, '-o', out, '-f', 'coco,YOLO,CSV,yolo');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['COCO', 'CSV', 'YOLO', 'report.json']);
    for (const format of ['YOLO', 'CSV']) {
      const single = join(dir, `single-${format}`);
      expect(
        (await run('convert', '-i', p.tasks, '-c', p.config, '-o', single, '-f', format, '-q')).status,
      ).toBe(0);
      const files = filesUnder(single).filter((f) => f !== 'report.json');
      expect(filesUnder(join(out, format))).toEqual(files);
      for (const f of files)
        expect(readFileSync(join(out, format, f))).toEqual(readFileSync(join(single, f)));
    }
    const coco = JSON.parse(readFileSync(join(out, 'COCO', 'result.json'), 'utf8'));
    expect(coco.annotations.length).toBeGreaterThan(0);
    // One read: the summary names the tasks once and each format on its own line.
    expect(r.stderr).toMatch(/^ls-export: read 2 tasks once, 3 formats in /);
    expect(r.stderr).toMatch(
      /^ {2}COCO {2}written into .*COCO \(1 file\)(; regions \d+ exported, \d+ skipped)?$/m,
    );
    expect(r.stderr).toMatch(
      /^ {2}YOLO {2}written into .*YOLO \(4 files\)(; regions \d+ exported, \d+ skipped)?$/m,
    );
    expect(r.stderr).toMatch(
      /^ {2}CSV {3}written into .*CSV \(1 file\)(; regions \d+ exported, \d+ skipped)?$/m,
    );
    // One report for the run: a format's own skips (YOLO keeps one annotation of task 1) name it,
    // as the single run's report does.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const yoloReport = JSON.parse(readFileSync(join(dir, 'single-YOLO', 'report.json'), 'utf8'));
    const yoloSkips = report.skipped.filter((s: { format?: string }) => s.format === 'YOLO');
    expect(yoloSkips.length).toBeGreaterThan(0);
    expect(yoloSkips).toEqual(yoloReport.skipped);
  });

  it('with --zip each format is OUTPUT/<FORMAT>/<FORMAT>.zip; a .csv output takes one CSV format only', async () => {
    const dir = tmp();
    const out = join(dir, 'z');
    const r = await run(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      out,
      '-f',
      'JSON_MIN,CSV',
      '--zip',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(filesUnder(out)).toEqual(['CSV/CSV.zip', 'JSON_MIN/JSON_MIN.zip', 'report.json']);
    const bad = await run(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(dir, 'x.csv'),
      '-f',
      'CSV,TSV',
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('an OUTPUT ending in .csv is for one CSV or TSV export');
  });

  it('a format the config does not support stops the run before anything is read', async () => {
    const out = join(tmp(), 'o');
    const r = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out, '-f', 'JSON_MIN,COCO');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ls-export: format COCO is not supported by this label config/);
  });
});

describe('summary counts', () => {
  it('counts files on disk once (a YOLO label rewritten for a second annotation) and says "1 task"', async () => {
    const dir = tmp();
    const p = bboxProject(dir);
    const out = join(dir, 'yolo');
    const r = await run('convert', '-i', p.tasks, '-c', p.config, '-o', out, '-f', 'YOLO');
    expect(r.status).toBe(0);
    const onDisk = filesUnder(out).filter((f) => f !== 'report.json');
    expect(onDisk).toEqual(['classes.txt', 'labels/img1.txt', 'labels/img2.txt', 'notes.json']);
    expect(r.stderr).toMatch(
      /exported 2 tasks as YOLO into .* \(4 files\)(; regions \d+ exported, \d+ skipped)? /,
    );

    const one = join(dir, 'one.json');
    writeFileSync(one, JSON.stringify([JSON.parse(readFileSync(p.tasks, 'utf8'))[1]]));
    const r1 = await run('convert', '-i', one, '-c', p.config, '-o', join(dir, 'o1'), '-f', 'YOLO');
    expect(r1.stderr).toMatch(
      /^ls-export: exported 1 task as YOLO into .* \(3 files\)[^\n]* \([\d,]+ tasks?\/s\)/,
    );
    expect(r1.stderr).toContain('nothing skipped');
  });
});

describe('--version, help, format names', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const r = await run('--version');
    expect(r).toEqual({ status: 0, stdout: `ls-export ${version}\n`, stderr: '' });
  });

  it.each([
    ['convert', /^Usage: ls-export convert -i INPUT/, '--csv-no-header'],
    ['formats', /^Usage: ls-export formats -c CONFIG.xml/, 'Lists the export formats'],
    ['sync', /^Usage: ls-export sync -c PIPELINE.json/, '--emulate-conditional-writes'],
    ['demo', /^Usage: ls-export demo/, 'demo-output/local/'],
  ])('%s --help and help %s print that command’s help only', async (command, usage, detail) => {
    const a = await run(command, '--help');
    const b = await run('help', command);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(usage);
    expect(a.stdout).toContain(detail);
    expect(b).toEqual(a);
    if (command !== 'convert') expect(a.stdout).not.toContain('--fix');
  });

  it('export --help is convert’s help; help of an unknown command is a usage error', async () => {
    expect((await run('export', '--help')).stdout).toBe((await run('convert', '--help')).stdout);
    const r = await run('help', 'frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no help for "frobnicate" (commands: convert, formats, sync, demo)');
  });

  it('a misspelt format lists the valid ones and suggests the closest; an unrelated one gets no guess', async () => {
    const r = await run(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      tmp(),
      '-f',
      'JSON_MIN,yolo_obbb',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^ls-export: unknown format "yolo_obbb" \(did you mean YOLO_OBB\?\); valid formats: JSON, JSON_MIN, CSV,/,
    );
    const far = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', tmp(), '-f', 'parquet');
    expect(far.stderr).toContain('unknown format "parquet"; valid formats: JSON,');
    expect(far.stderr).not.toContain('did you mean');
  });

  it('an unknown format lists only the formats ls-export can write, not DOCLANG or CSV_OLD (QA 8)', async () => {
    const r = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', tmp(), '-f', 'YOLO_OBBB');
    expect(r.status).toBe(2);
    const listed = /valid formats: (.*)$/m.exec(r.stderr)?.[1].split(', ') ?? [];
    expect(listed).toContain('YOLO_OBB');
    expect(listed).not.toContain('CSV_OLD');
    expect(listed).not.toContain('DOCLANG');
    // Every listed format is one convert writes: none of them ends with "not implemented".
    for (const f of listed) expect(REGISTRY.get(f)?.writer, f).toBeDefined();
    // A name close to a format without a writer is not guessed as it.
    const near = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', tmp(), '-f', 'DOCLANGG');
    expect(near.status).toBe(2);
    expect(near.stderr).not.toContain('did you mean DOCLANG');
    // Asking for such a format by its name still says it is not implemented.
    const old = await run('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', tmp(), '-f', 'CSV_OLD');
    expect(old.status).toBe(1);
    expect(old.stderr).toBe(
      'ls-export: format CSV_OLD is not implemented by ls-export yet (see README "Formats")\n',
    );
  });

  it('edit distance and the closest name', () => {
    expect(editDistance('KITTEN', 'SITTING')).toBe(3);
    expect(editDistance('', 'ABC')).toBe(3);
    expect(closestName('coco_with_image', ['COCO', 'COCO_WITH_IMAGES', 'YOLO'])).toBe('COCO_WITH_IMAGES');
    expect(closestName('conl2003', ['CONLL2003', 'CSV'])).toBe('CONLL2003');
    expect(closestName('ZZZZZZZZ', ['CSV', 'TSV'])).toBeUndefined();
  });
});
