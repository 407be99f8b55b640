/**
 * `npm run bench`: generates realistic Label Studio exports (bench/generate.ts) at 10,000 and
 * 100,000 tasks and converts them format by format, each in its own process, printing wall time,
 * tasks/s and peak RSS next to Label Studio's converter figures (docs/baseline.md) and the floor
 * (reading + parsing the input once). Options: --sizes 10000,100000 --only CSV,COCO --skip-pipeline
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CONFIGS, exportChunks, type Kind, makeWav } from './generate.ts';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, 'bench-output');

/** Label Studio's converter on this kind of machine (docs/baseline.md, 100,000 tasks). */
const BASELINE: Record<string, number> = {
  'COCO image-bbox': 3574,
  'YOLO image-bbox': 2770,
  'VOC image-bbox': 1736,
  'JSON_MIN image-bbox': 11287,
  'CSV image-bbox': 4924,
  'CONLL2003 text-ner': 6337,
  'JSON_MIN text-ner': 10363,
  'CSV text-ner': 4671,
  'ASR_MANIFEST audio-asr': 3312,
};

/**
 * Each run gets a fixed old-space heap: a format whose memory grew with the task count would fail
 * at 100,000 tasks instead of quietly using more (V8 otherwise grows its heap lazily, which makes
 * peak RSS drift upwards with run length even when nothing is retained).
 */
const HEAP_MIB = 128;

const RUNS: Array<[string, Kind]> = [
  ['JSON_MIN', 'image-bbox'],
  ['CSV', 'image-bbox'],
  ['COCO', 'image-bbox'],
  ['YOLO', 'image-bbox'],
  ['VOC', 'image-bbox'],
  ['JSON_MIN', 'text-ner'],
  ['CSV', 'text-ner'],
  ['CONLL2003', 'text-ner'],
  ['ASR_MANIFEST', 'audio-asr'],
];

const { values } = parseArgs({
  options: { sizes: { type: 'string' }, only: { type: 'string' }, 'skip-pipeline': { type: 'boolean' } },
});
const sizes = (values.sizes ?? '10000,100000').split(',').map(Number);
const only = values.only?.split(',');

async function ensureInput(
  kind: Kind,
  n: number,
): Promise<{ file: string; config: string; uploadDir: string }> {
  const dir = join(WORK, `${kind}-${n}`);
  const file = join(dir, 'tasks.json');
  const config = join(dir, 'config.xml');
  const uploadDir = join(dir, 'upload');
  if (!existsSync(join(dir, '.complete'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(config, CONFIGS[kind]);
    const out = createWriteStream(file);
    for (const chunk of exportChunks(kind, n, 1)) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    if (kind === 'audio-asr') {
      // One small WAV per task, as Label Studio's converter copies each into the export.
      const wav = makeWav(0.1);
      mkdirSync(join(uploadDir, '7'), { recursive: true });
      for (let i = 1; i <= n; i++)
        writeFileSync(join(uploadDir, '7', `clip_${String(i).padStart(6, '0')}.wav`), wav);
    }
    writeFileSync(join(dir, '.complete'), '');
  }
  return { file, config, uploadDir };
}

interface Result {
  tasks: number;
  wall: number;
  inProcess: number;
  maxRssMiB: number;
}

/**
 * The measured program is bundled with esbuild first, as the Lambda functions are: figures then
 * reflect the code, not the TypeScript loader the CLI uses for convenience.
 */
const BUNDLE = join(WORK, 'convert-one.mjs');
mkdirSync(WORK, { recursive: true });
await build({
  entryPoints: [join(ROOT, 'bench', 'convert-one.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: BUNDLE,
  packages: 'external',
  logLevel: 'warning',
});

function measure(format: string, input: { file: string; config: string; uploadDir: string }): Result {
  const out = join(WORK, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_MIB}`,
      BUNDLE,
      '--input',
      input.file,
      '--config',
      input.config,
      '--output',
      out,
      '--format',
      format,
      '--upload-dir',
      input.uploadDir,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${format} failed: ${r.stderr}`);
  const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { tasks: line.tasks, wall, inProcess: line.seconds, maxRssMiB: line.maxRssMiB };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const rows: string[] = [];
const header =
  '| format | kind | N | input MB | wall (s) | tasks/s | peak RSS (MiB) | × floor | × Label Studio |';
console.log(`Node ${process.version}, ${new Date().toISOString()}\n`);
console.log(header);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const n of sizes) {
  const floors = new Map<Kind, Result>();
  for (const [format, kind] of RUNS) {
    if (only && !only.includes(format)) continue;
    const input = await ensureInput(kind, n);
    if (!floors.has(kind)) {
      const floor = measure('FLOOR', input);
      floors.set(kind, floor);
      const mb = statSync(input.file).size / 1e6;
      const row = `| floor (read + parse) | ${kind} | ${fmt(n)} | ${mb.toFixed(0)} | ${floor.wall.toFixed(2)} | ${fmt(n / floor.wall)} | ${floor.maxRssMiB.toFixed(0)} | 1.0 | |`;
      console.log(row);
      rows.push(row);
    }
    let r: Result;
    try {
      r = measure(format, input);
    } catch (err) {
      const row = `| ${format} | ${kind} | ${fmt(n)} | | failed: ${(err as Error).message.split('\n')[0]} | | | | |`;
      console.log(row);
      rows.push(row);
      continue;
    }
    const floor = floors.get(kind)!;
    const rate = n / r.wall;
    const base = BASELINE[`${format} ${kind}`];
    const row = `| ${format} | ${kind} | ${fmt(n)} | ${(statSync(input.file).size / 1e6).toFixed(0)} | ${r.wall.toFixed(2)} | ${fmt(rate)} | ${r.maxRssMiB.toFixed(0)} | ${(r.wall / floor.wall).toFixed(1)} | ${base && n === 100000 ? `${(rate / base).toFixed(1)}×` : ''} |`;
    console.log(row);
    rows.push(row);
  }
}
if (!values['skip-pipeline']) {
  const { runPipelineBench } = await import('./pipeline.ts');
  await runPipelineBench();
}
