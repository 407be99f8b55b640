/**
 * Adding a format is one plugin object plus one registry line: a tiny TASK_IDS format (one task id
 * per line), registered in a test-local registry next to the built-in ones, is listed by
 * `ls-export formats`, documented in `--help` with its own flag, selectable with -f, and written.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { main } from '../../../functions/cli/main.ts';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';
import { defineFormat, supportedIf } from '../../../functions/core/formats/plugin.ts';
import { FORMAT_PLUGINS, FormatRegistry, REGISTRY } from '../../../functions/core/formats/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');
const TEXT_TASKS = join(ROOT, 'samples', 'text-ner', 'tasks.json');
const IMAGE_CONFIG = join(ROOT, 'samples', 'image-bbox', 'config.xml');

const TASK_IDS = defineFormat({
  name: 'TASK_IDS',
  value: 100,
  title: 'Task ids',
  description: 'One task id per line.',
  tags: [],
  outputs: ['ids.txt'],
  needsMedia: false,
  convertible: true,
  supports: (c) => supportedIf(c.inputs.has('Text'), 'no Text object'),
  options: {
    taskIdsHeader: {
      schema: z.boolean().default(false),
      cli: { flag: 'task-ids-header', type: 'boolean', help: 'TASK_IDS: start ids.txt with a header line' },
    },
  },
  writer: (ctx) => {
    const file = ctx.sink.open('ids.txt');
    let first = true;
    return {
      async addTask(task) {
        if (first && (ctx.options as Record<string, unknown>).taskIdsHeader) await file.write('task_id\n');
        first = false;
        await file.write(`${task.id}\n`);
      },
      finish: () => file.close(),
    };
  },
});

const registry = new FormatRegistry([...FORMAT_PLUGINS, TASK_IDS]);

async function run(argv: string[], reg = registry) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    return { status: await main(argv, reg), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('a format added as one plugin', () => {
  it('is supported by the configs its rule accepts, and only those', () => {
    expect(registry.supported(parseLabelConfig(readFileSync(TEXT_CONFIG, 'utf8')))).toContain('TASK_IDS');
    const image = registry.support(parseLabelConfig(readFileSync(IMAGE_CONFIG, 'utf8')));
    expect(image.find((s) => s.name === 'TASK_IDS')).toEqual({
      name: 'TASK_IDS',
      supported: false,
      reason: 'no Text object',
    });
  });

  it('is listed by `ls-export formats` after the built-in ones', async () => {
    const r = await run(['formats', '-c', TEXT_CONFIG]);
    expect(r.status).toBe(0);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(names.at(-1)).toBe('TASK_IDS');
    expect(r.stdout).toContain('TASK_IDS               Task ids\n');
  });

  it('appears in --help with its flag; the built-in help has neither', async () => {
    const r = await run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/-f, --format NAME[\s\S]*BRUSH_TO_COCO, TASK_IDS\n/);
    expect(r.stdout).toContain('  --task-ids-header         TASK_IDS: start ids.txt with a header line\n');
    const builtIn = await run(['--help'], REGISTRY);
    expect(builtIn.stdout).not.toContain('TASK_IDS');
  });

  it('is selectable with -f (any case) and writes its output, its flag reaching the writer', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ls-task-ids-'));
    const ids = (JSON.parse(readFileSync(TEXT_TASKS, 'utf8')) as Array<{ id: number }>).map((t) => t.id);
    const plain = await run([
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(out, 'a'),
      '-f',
      'task_ids',
      '-q',
    ]);
    expect(plain.status).toBe(0);
    expect(readFileSync(join(out, 'a', 'ids.txt'), 'utf8')).toBe(ids.map((id) => `${id}\n`).join(''));
    const header = await run([
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(out, 'b'),
      '-f',
      'TASK_IDS',
      '--task-ids-header',
      '-q',
    ]);
    expect(header.status).toBe(0);
    expect(readFileSync(join(out, 'b', 'ids.txt'), 'utf8')).toBe(
      `task_id\n${ids.map((id) => `${id}\n`).join('')}`,
    );
  });

  it('is refused for a config its rule rejects, and unknown to the built-in registry', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ls-task-ids-'));
    const image = await run([
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      IMAGE_CONFIG,
      '-o',
      out,
      '-f',
      'TASK_IDS',
      '-q',
    ]);
    expect(image.status).toBe(1);
    expect(image.stderr).toContain('format TASK_IDS is not supported by this label config');
    const builtIn = await run(
      ['convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out, '-f', 'TASK_IDS'],
      REGISTRY,
    );
    expect(builtIn.status).toBe(2);
    expect(builtIn.stderr).toContain('unknown format "TASK_IDS"');
  });

  it('a registry refuses two formats of one name and one option defined twice differently', () => {
    expect(() => new FormatRegistry([...FORMAT_PLUGINS, TASK_IDS, TASK_IDS])).toThrow(
      'TASK_IDS is registered twice',
    );
    const clash = { ...TASK_IDS, name: 'OTHER', options: { spacy: { schema: z.boolean().default(true) } } };
    expect(() => new FormatRegistry([...FORMAT_PLUGINS, clash])).toThrow(
      'option spacy is defined differently',
    );
  });
});
