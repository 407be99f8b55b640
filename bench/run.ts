/**
 * `npm run bench`: generates realistic Label Studio exports (bench/generate.ts) at 10,000 and
 * 100,000 tasks and converts them format by format with the CLI as users run it
 * (`node bin/ls-export.mjs convert …`, the bundle `npm run build` makes, no heap flags), each in its
 * own process, printing wall time, tasks/s and peak RSS next to Label Studio's converter figures
 * (docs/PERFORMANCE.md) and the floor (reading + parsing the input once).
 *
 * Every run's output files are hashed; the digests are kept in bench-output/digests.json and a
 * later run whose output differs is flagged `OUTPUT CHANGED` (byte-identity across changes).
 *
 * Options: --sizes 10000,100000 --only CSV,COCO --repeat 3 (median of 3) --record (overwrite the
 * kept digests) --skip-pipeline
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CONFIGS, exportChunks, type Kind, makeWav } from './generate.ts';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, 'bench-output');

/** Label Studio's converter on this kind of machine (docs/PERFORMANCE.md, 100,000 tasks). */
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
  // From the side-by-side rounds in docs/PERFORMANCE.md (reference 29.65 s and 21.63 s at 100,000).
  'YOLO_OBB image-bbox': 3373,
  'TSV text-ner': 4623,
};

const RUNS: Array<[string, Kind]> = [
  ['JSON_MIN', 'image-bbox'],
  ['CSV', 'image-bbox'],
  ['COCO', 'image-bbox'],
  ['YOLO', 'image-bbox'],
  ['YOLO_OBB', 'image-bbox'],
  ['VOC', 'image-bbox'],
  ['JSON_MIN', 'text-ner'],
  ['CSV', 'text-ner'],
  ['TSV', 'text-ner'],
  ['CONLL2003', 'text-ner'],
  ['ASR_MANIFEST', 'audio-asr'],
];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    only: { type: 'string' },
    repeat: { type: 'string' },
    record: { type: 'boolean' },
    'skip-pipeline': { type: 'boolean' },
  },
});
const repeat = Number(values.repeat ?? 1);
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
  wall: number;
  /** User + system CPU seconds of the measured process. */
  cpu: number;
  maxRssMiB: number;
  /** sha256 over the output files (paths and bytes), report.json excluded. */
  digest?: string;
}

/** The floor (read + parse, no writer) is bench/convert-one.ts, bundled as the CLI is. */
const BUNDLE = join(WORK, 'convert-one.mjs');
/**
 * Preloaded into each measured process: writes its peak RSS (KiB) and its CPU time (user + system,
 * µs) to LS_BENCH_RSS_FILE at exit. CPU time is the steadier figure on a shared machine.
 *
 * Peak RSS is VmHWM from /proc/self/status where there is one (Linux): `resourceUsage().maxRSS`
 * (getrusage) survives exec, so a child forked by a big parent reports at least the parent's RSS
 * at the fork — this script holds whole output files while hashing them, and the figures before
 * 2026-11-30 afternoon rose with N for that reason (CSV "503 MiB" at 100,000 tasks came right after
 * hashing JSON_MIN's 100,000-task output). VmHWM belongs to the process's own address space.
 */
const PROBE = join(WORK, 'rss-probe.mjs');
const RSS_FILE = join(WORK, 'rss.txt');
const CLI = join(ROOT, 'bin', 'ls-export.mjs');
const DIGESTS = join(WORK, 'digests.json');
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
writeFileSync(
  PROBE,
  "import { readFileSync, writeFileSync } from 'node:fs';\n" +
    "process.on('exit', () => {\n" +
    '  const u = process.resourceUsage();\n' +
    '  let kib = u.maxRSS;\n' +
    "  try { kib = Number(/VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]); } catch {}\n" +
    "  writeFileSync(process.env.LS_BENCH_RSS_FILE, kib + ' ' + (u.userCPUTime + u.systemCPUTime));\n" +
    '});\n',
);
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.mjs'))) throw new Error('run `npm run build` first');

/**
 * sha256 over every file under `dir` but report.json: relative path, NUL, bytes — with COCO's
 * `date_created` (the time of the run) blanked in JSON files.
 */
function digestTree(dir: string): string {
  const hash = createHash('sha256');
  const files = (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => p !== 'report.json')
    .sort();
  for (const f of files) {
    const bytes = readFileSync(join(dir, f));
    hash.update(`${f}\0`);
    if (f.endsWith('.json'))
      hash.update(bytes.toString('utf8').replace(/"date_created":\s*"[^"]*"/g, '"date_created": ""'));
    else hash.update(bytes);
  }
  return hash.digest('hex');
}

function runOnce(format: string, input: { file: string; config: string; uploadDir: string }): Result {
  const out = join(WORK, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  rmSync(RSS_FILE, { force: true });
  // The CLI is executed as a program, as `npx ls-export` does (its first line picks the node flags);
  // the floor gets the same V8 heap flags, so `× floor` compares like with like.
  const [command, args] =
    format === 'FLOOR'
      ? [
          process.execPath,
          [
            '--max-semi-space-size=8',
            '--heap-growing-percent=50',
            BUNDLE,
            '--input',
            input.file,
            '--format',
            'FLOOR',
          ],
        ]
      : [
          CLI,
          ['convert', '-i', input.file, '-c', input.config, '-o', out, '-f', format, '-q'].concat(
            '--upload-dir',
            input.uploadDir,
          ),
        ];
  const t0 = performance.now();
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: {
      ...process.env,
      // The node running this script first on the PATH, as `npm run` puts node_modules/.bin first.
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim(),
      // The bundle even if another engineer's edit made it look stale: `npm run bench` just built it.
      LS_EXPORT_BUNDLE: 'always',
      // s3:// images without credentials (VOC, YOLO_WITH_IMAGES): no instance-metadata probing.
      AWS_EC2_METADATA_DISABLED: 'true',
      LS_BENCH_RSS_FILE: RSS_FILE,
    },
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${format} failed: ${r.stderr}`);
  const [rssKiB, cpuMicros] = readFileSync(RSS_FILE, 'utf8').split(' ').map(Number);
  const maxRssMiB = rssKiB / 1024;
  return { wall, cpu: cpuMicros / 1e6, maxRssMiB, digest: format === 'FLOOR' ? undefined : digestTree(out) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `repeat` runs; the median wall time and the median peak RSS. */
function measure(format: string, input: { file: string; config: string; uploadDir: string }): Result {
  const runs = Array.from({ length: repeat }, () => runOnce(format, input));
  const digests = new Set(runs.map((r) => r.digest));
  if (digests.size > 1) throw new Error(`${format}: output differs between runs`);
  return {
    wall: median(runs.map((r) => r.wall)),
    cpu: median(runs.map((r) => r.cpu)),
    maxRssMiB: median(runs.map((r) => r.maxRssMiB)),
    digest: runs[0].digest,
  };
}

const digests: Record<string, string> = existsSync(DIGESTS) ? JSON.parse(readFileSync(DIGESTS, 'utf8')) : {};
/** '' when the output matches the kept digest (or none was kept), else a flag for the table. */
function checkDigest(key: string, digest: string | undefined): string {
  if (!digest) return '';
  const kept = digests[key];
  if (kept === undefined || values.record) {
    digests[key] = digest;
    writeFileSync(DIGESTS, `${JSON.stringify(digests, null, 1)}\n`);
    return '';
  }
  return kept === digest ? '' : ' OUTPUT CHANGED';
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const rows: string[] = [];
const header =
  '| format | kind | N | input MB | wall (s) | CPU (s) | tasks/s | peak RSS (MiB) | × floor | × Label Studio |';
console.log(
  `Node ${process.version}, ${new Date().toISOString()}, ${repeat === 1 ? 'single runs' : `median of ${repeat} runs`}\n`,
);
console.log(header);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const n of sizes) {
  const floors = new Map<Kind, Result>();
  for (const [format, kind] of RUNS) {
    if (only && !only.includes(format)) continue;
    const input = await ensureInput(kind, n);
    if (!floors.has(kind)) {
      const floor = measure('FLOOR', input);
      floors.set(kind, floor);
      const mb = statSync(input.file).size / 1e6;
      const row = `| floor (read + parse) | ${kind} | ${fmt(n)} | ${mb.toFixed(0)} | ${floor.wall.toFixed(2)} | ${floor.cpu.toFixed(2)} | ${fmt(n / floor.wall)} | ${floor.maxRssMiB.toFixed(0)} | 1.0 | |`;
      console.log(row);
      rows.push(row);
    }
    let r: Result;
    try {
      r = measure(format, input);
    } catch (err) {
      const row = `| ${format} | ${kind} | ${fmt(n)} | | failed: ${(err as Error).message.split('\n')[0]} | | | | | |`;
      console.log(row);
      rows.push(row);
      continue;
    }
    const floor = floors.get(kind)!;
    const rate = n / r.wall;
    const base = BASELINE[`${format} ${kind}`];
    const changed = checkDigest(`${format} ${kind} ${n}`, r.digest);
    const row = `| ${format}${changed} | ${kind} | ${fmt(n)} | ${(statSync(input.file).size / 1e6).toFixed(0)} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${fmt(rate)} | ${r.maxRssMiB.toFixed(0)} | ${(r.wall / floor.wall).toFixed(1)} | ${base && n === 100000 ? `${(rate / base).toFixed(1)}×` : ''} |`;
    console.log(row);
    rows.push(row);
  }
}
if (!values['skip-pipeline']) {
  const { runPipelineBench } = await import('./pipeline.ts');
  await runPipelineBench();
}
