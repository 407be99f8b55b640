/** QA report fixes through `main` (B2, B7): `-f JSON` on a `.json` export with bad elements or a BOM. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';

// A small element size limit, so an oversized element needs only a few KiB.
vi.mock('../../functions/core/json/limits.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../functions/core/json/limits.ts')>()),
  MAX_ELEMENT_BYTES: 4096,
}));

async function run(...argv: string[]) {
  let stderr = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    stderr += String(c);
    return true;
  });
  try {
    return { status: await main(argv), stderr };
  } finally {
    e.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

const CONFIG = `<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Cat"/></RectangleLabels></View>`;

const task = (id: number) => ({
  id,
  data: { image: `http://example.invalid/${id}.png` },
  annotations: [
    {
      id: id * 10,
      result: [
        {
          id: `r${id}`,
          type: 'rectanglelabels',
          from_name: 'label',
          to_name: 'image',
          original_width: 100,
          original_height: 100,
          value: { x: 1, y: 2, width: 3, height: 4, rectanglelabels: ['Cat'] },
        },
      ],
    },
  ],
});

/** A folder with config.xml and in.json holding `elements` (JSON texts) as an array. */
function setup(elements: string[], prefix = '') {
  const dir = mkdtempSync(join(tmpdir(), 'ls-qa-'));
  writeFileSync(join(dir, 'config.xml'), CONFIG);
  writeFileSync(join(dir, 'in.json'), `${prefix}[\n${elements.join(',\n')}\n]`);
  return dir;
}
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('B2: -f JSON on a .json export with bad elements reports them and exports the rest', () => {
  const bad: Array<[string, string, RegExp]> = [
    [
      'a deeply nested element',
      `{"id": 2, "data": {"x": ${'['.repeat(1500)}${']'.repeat(1500)}}}`,
      /nested deeper than 1000 levels/,
    ],
    [
      'an oversized element',
      JSON.stringify({ ...task(2), pad: 'x'.repeat(8000) }),
      /element larger than 4096 bytes/,
    ],
    ['an element that is not a task', '"just a string"', /not a Label Studio task/],
  ];
  for (const [name, element, reason] of bad) {
    it(`${name}: JSON alone — exit 0, tasks 1 and 3 written, element [1] reported`, async () => {
      const dir = setup([JSON.stringify(task(1)), element, JSON.stringify(task(3))]);
      const o = join(dir, 'out');
      const r = await run(
        'convert',
        '-i',
        join(dir, 'in.json'),
        '-c',
        join(dir, 'config.xml'),
        '-o',
        o,
        '-f',
        'JSON',
      );
      expect(r.stderr).not.toMatch(/nothing was copied/);
      expect(r.status).toBe(0);
      expect(read(join(o, 'result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
      const report = read(join(o, 'report.json'));
      expect(report.skipped).toHaveLength(1);
      expect(report.skipped[0].source).toBe('in.json[1]');
      expect(report.skipped[0].reason).toMatch(reason);
    });
  }

  it('a multi-format run keeps every format', async () => {
    const dir = setup([JSON.stringify(task(1)), '"not a task"', JSON.stringify(task(3))]);
    const o = join(dir, 'out');
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      o,
      '-f',
      'CSV,JSON,JSON_MIN',
    );
    expect(r.status).toBe(0);
    expect(read(join(o, 'JSON', 'result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    expect(read(join(o, 'JSON_MIN', 'result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    expect(
      readFileSync(join(o, 'CSV', 'result.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(3);
    expect(read(join(o, 'report.json')).skippedCount).toBe(1);
  });

  it('a clean export is still copied byte for byte', async () => {
    const dir = setup([JSON.stringify(task(1)), JSON.stringify(task(3))]);
    const o = join(dir, 'out');
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      o,
      '-f',
      'JSON',
    );
    expect(r.status).toBe(0);
    expect(readFileSync(join(o, 'result.json'), 'utf8')).toBe(readFileSync(join(dir, 'in.json'), 'utf8'));
  });

  for (const [name, text] of [
    ['an XML file', '<View/>'],
    ['a truncated export', `[${JSON.stringify(task(1))}, {"id": 2, "data": {`],
    ['a JSON scalar', '42'],
  ]) {
    it(`still refuses ${name} in one sentence, exit 1`, async () => {
      const dir = setup([]);
      writeFileSync(join(dir, 'in.json'), text);
      const r = await run(
        'convert',
        '-i',
        join(dir, 'in.json'),
        '-c',
        join(dir, 'config.xml'),
        '-o',
        join(dir, 'o'),
        '-f',
        'CSV,JSON',
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not a Label Studio JSON export .*nothing was copied/);
    });
  }
});

describe('B3: an annotation whose result is an object (not a list) is reported in every format', () => {
  it('the task is skipped with its key, id and reason; the others are exported', async () => {
    const broken = task(2);
    (broken.annotations[0] as Record<string, unknown>).result = { id: 'x', type: 'rectanglelabels' };
    const dir = setup([JSON.stringify(task(1)), JSON.stringify(broken), JSON.stringify(task(3))]);
    const o = join(dir, 'out');
    const formats = 'CSV,JSON_MIN,COCO,JSON';
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      o,
      '-f',
      formats,
    );
    expect(r.status).toBe(0);
    const report = read(join(o, 'report.json'));
    expect(report.skipped).toEqual([
      {
        source: 'in.json[1]',
        taskId: 2,
        reason:
          'not a Label Studio task: annotations.0.result: Invalid input: expected array, received object',
      },
    ]);
    expect(read(join(o, 'JSON_MIN', 'result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    expect(read(join(o, 'JSON', 'result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    expect(read(join(o, 'COCO', 'result.json')).images).toHaveLength(2);
    expect(readFileSync(join(o, 'CSV', 'result.csv'), 'utf8')).not.toMatch(/\n2,/);
  });

  it('a prediction whose result is an object is reported the same way', async () => {
    const dir = setup([JSON.stringify({ ...task(1), predictions: [{ result: {} }] })]);
    const o = join(dir, 'out');
    await run('convert', '-i', join(dir, 'in.json'), '-c', join(dir, 'config.xml'), '-o', o, '-f', 'CSV');
    expect(read(join(o, 'report.json')).skipped[0].reason).toMatch(
      /predictions\.0\.result: .*received object/,
    );
  });
});

describe('B8: most results skipped for one reason — one sentence on stderr', () => {
  const nerTask = (id: number) => ({
    id,
    data: { text: 'Alice met Bob' },
    annotations: [
      {
        id,
        result: ['a', 'b'].map((r, i) => ({
          id: `${r}${id}`,
          type: 'labels',
          from_name: 'ner',
          to_name: 'text',
          value: { start: i * 10, end: i * 10 + 3, labels: ['PER'] },
        })),
      },
    ],
  });

  it('a label config without the results’ control: the sentence names the reason and asks about the config', async () => {
    const dir = setup([1, 2, 3].map((id) => JSON.stringify(nerTask(id))));
    const o = join(dir, 'out');
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      o,
      '-f',
      'CSV',
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      'ls-export: most results were skipped because from_name "ner" is not a control of the label config; the result is left out (as Label Studio does) (6 of 6 in CSV); is this the project\'s label config?\n',
    );
  });

  it('no sentence when most results were exported', async () => {
    const dir = setup([JSON.stringify(task(1)), JSON.stringify(task(2)), JSON.stringify(nerTask(3))]);
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      join(dir, 'o'),
      '-f',
      'CSV',
    );
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('most results were skipped');
  });
});

describe('B7: a .json export with a UTF-8 byte order mark and -f JSON', () => {
  it('is written without the BOM, from the parsed tasks, with the same warning as other formats', async () => {
    const dir = setup([JSON.stringify(task(1)), JSON.stringify(task(2))], '\uFEFF');
    expect(readFileSync(join(dir, 'in.json'))[0]).toBe(0xef);
    const o = join(dir, 'out');
    const r = await run(
      'convert',
      '-i',
      join(dir, 'in.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      o,
      '-f',
      'JSON',
    );
    expect(r.status).toBe(0);
    const bytes = readFileSync(join(o, 'result.json'));
    expect(bytes[0]).toBe('['.charCodeAt(0));
    expect(JSON.parse(bytes.toString('utf8'))).toEqual([task(1), task(2)]);
    const report = read(join(o, 'report.json'));
    expect(report.warnings).toEqual([
      expect.objectContaining({
        source: 'in.json',
        reason: expect.stringMatching(/^the file starts with a UTF-8 byte order mark/),
      }),
    ]);
  });
});
