/**
 * Side by side with Label Studio's converter: runs `ls-export convert` (the CLI as users run it)
 * and the reference on the same generated inputs (bench/generate.ts, cached in bench-output/),
 * interleaved, each as a whole process under `/usr/bin/time`, and prints wall time, CPU time
 * (user + system), peak RSS and the ratio reference / ls-export per format and size.
 *
 *   node bin/run-ts.mjs bench/side-by-side.ts --reference "/usr/bin/python3 /path/ls-ref-convert.py" \
 *     --sizes 10000,100000 --repeat 3 [--only CSV,COCO] [--cli /copy/bin/ls-export.mjs] [--log runs.jsonl]
 *     [--out /dev/shm/sbs] [--delete-before]
 *
 * The reference command (also `LS_REFERENCE`) is a prefix; each run appends
 * `-i TASKS.json -c CONFIG.xml -o OUT_DIR -f FORMAT` and, for audio, `--upload-dir DIR` — the
 * options of ls-export's own `convert`. Without it only ls-export is measured and the table says the
 * reference is missing. Within a round the two tools alternate, and which one goes first alternates
 * from round to round, so both see the same machine load; the 1-minute load average is recorded
 * before every run. `--log` appends one JSON line per run (partial results survive an interrupted
 * session); `--table-from runs.jsonl` prints the table of such a file (several sessions' logs
 * concatenated make one table) without running anything. The CLI runs the bundle (`LS_EXPORT_BUNDLE=always`): run `npm run build` first, or pass
 * `--cli` a copy of bin/ + dist/ that other engineers' rebuilds cannot change mid-run. Each run
 * writes into a fresh folder; the previous run's folder is moved into `side-by-side/.trash/` and
 * deleted when the bench ends (`--delete-before`: at once, as before 2026-12-01), so no run pays
 * ext4's cost of allocating inodes right after a mass delete (see `retire`).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIGS, exportChunks, type Kind, makeWav } from './generate.ts';

/** The formats of issue 10's per-core target, on the input kind each is measured on. */
export const SIDE_BY_SIDE_RUNS: ReadonlyArray<readonly [format: string, kind: Kind]> = [
  ['JSON_MIN', 'text-ner'],
  ['CSV', 'text-ner'],
  ['TSV', 'text-ner'],
  ['CONLL2003', 'text-ner'],
  ['COCO', 'image-bbox'],
  ['YOLO', 'image-bbox'],
  ['YOLO_OBB', 'image-bbox'],
  ['VOC', 'image-bbox'],
  ['ASR_MANIFEST', 'audio-asr'],
  ['JSON', 'text-ner'],
];

/** One process measured by GNU time: seconds, and peak resident set size in KiB. */
export interface TimeSample {
  wall: number;
  user: number;
  sys: number;
  maxRssKiB: number;
}

/**
 * Parses the last line of `/usr/bin/time -f '%e %U %S %M'` output (wall s, user s, system s, peak
 * RSS KiB). Earlier lines (GNU time's "Command exited with non-zero status N") are ignored.
 * Throws when the last non-empty line is not four numbers.
 */
export function parseTimeOutput(text: string): TimeSample {
  const line = text.trim().split('\n').pop() ?? '';
  const parts = line.trim().split(/\s+/).map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isFinite(x)))
    throw new Error(`not "%e %U %S %M" output of /usr/bin/time: ${JSON.stringify(line)}`);
  const [wall, user, sys, maxRssKiB] = parts;
  return { wall, user, sys, maxRssKiB };
}

/** Median of a non-empty list (the mean of the two middle values for an even count). Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One row of the table: the medians of each tool's runs of one format at one size. */
export interface SideBySideRow {
  format: string;
  kind: string;
  n: number;
  /** 1-minute load averages seen before this row's runs (both tools), in run order. */
  loads: number[];
  ours: TimeSample[];
  /** Undefined when no reference command was given. */
  reference?: TimeSample[];
}

const cpu = (s: TimeSample) => s.user + s.sys;

/** Medians of one tool's samples: wall, CPU (user + system) and peak RSS in MiB. */
export function summarize(samples: readonly TimeSample[]): { wall: number; cpu: number; rssMiB: number } {
  return {
    wall: median(samples.map((s) => s.wall)),
    cpu: median(samples.map(cpu)),
    rssMiB: median(samples.map((s) => s.maxRssKiB)) / 1024,
  };
}

/**
 * The Markdown table of `rows`: per row the median wall, CPU (user + system) and peak RSS of each
 * tool, the ratios reference / ls-export of wall and CPU (above 1: ls-export is faster), the run
 * count (`ours/reference` when they differ) and the range of load averages. Without reference
 * samples its columns read `missing`; a row without ls-export samples is left out.
 */
export function formatTable(rows: readonly SideBySideRow[]): string {
  const f2 = (x: number) => x.toFixed(2);
  const lines = [
    '| format | kind | N | runs | load (1 min) | ls-export wall (s) | reference wall (s) | ref / ours wall | ls-export CPU (s) | reference CPU (s) | ref / ours CPU | peak RSS ours / ref (MiB) |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    if (row.ours.length === 0) continue;
    const ours = summarize(row.ours);
    const ref = row.reference?.length ? summarize(row.reference) : undefined;
    const load = `${f2(Math.min(...row.loads))}–${f2(Math.max(...row.loads))}`;
    lines.push(
      [
        '',
        row.format,
        row.kind,
        row.n.toLocaleString('en-US'),
        row.reference?.length && row.reference.length !== row.ours.length
          ? `${row.ours.length}/${row.reference.length}`
          : String(row.ours.length),
        load,
        f2(ours.wall),
        ref ? f2(ref.wall) : 'missing',
        ref ? f2(ref.wall / ours.wall) : '',
        f2(ours.cpu),
        ref ? f2(ref.cpu) : 'missing',
        ref ? f2(ref.cpu / ours.cpu) : '',
        `${ours.rssMiB.toFixed(0)} / ${ref ? ref.rssMiB.toFixed(0) : '–'}`,
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  return lines.join('\n');
}

/** One line of the `--log` file: a run of one tool. */
export interface LoggedRun extends TimeSample {
  tool: 'ours' | 'reference';
  format: string;
  kind: string;
  n: number;
  load: number;
}

/**
 * Groups logged runs (the `--log` file's JSON lines, from one or several sessions) into table rows,
 * one per format, kind and size, in order of first appearance. Blank lines are skipped; a line that
 * is not JSON throws with its line number.
 */
export function rowsFromLog(text: string): SideBySideRow[] {
  const rows = new Map<string, SideBySideRow>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let run: LoggedRun;
    try {
      run = JSON.parse(line);
    } catch {
      throw new Error(`log line ${i + 1} is not JSON`);
    }
    const key = `${run.format} ${run.kind} ${run.n}`;
    let row = rows.get(key);
    if (!row) {
      row = { format: run.format, kind: run.kind, n: run.n, loads: [], ours: [] };
      rows.set(key, row);
    }
    row.loads.push(run.load);
    const sample = { wall: run.wall, user: run.user, sys: run.sys, maxRssKiB: run.maxRssKiB };
    if (run.tool === 'ours') row.ours.push(sample);
    else (row.reference ??= []).push(sample);
  });
  return [...rows.values()];
}

interface Input {
  file: string;
  config: string;
  uploadDir: string;
}

/**
 * The generated input of `kind` with `n` tasks under `work` (`<kind>-<n>/tasks.json`, `config.xml`,
 * and for audio one WAV per task under `upload/7/`), written once and reused (`.complete` marks a
 * finished one) — the same files and layout as bench/run.ts.
 */
export async function ensureInput(work: string, kind: Kind, n: number): Promise<Input> {
  const dir = join(work, `${kind}-${n}`);
  const input = {
    file: join(dir, 'tasks.json'),
    config: join(dir, 'config.xml'),
    uploadDir: join(dir, 'upload'),
  };
  if (!existsSync(join(dir, '.complete'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(input.config, CONFIGS[kind]);
    const out = createWriteStream(input.file);
    for (const chunk of exportChunks(kind, n, 1)) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    if (kind === 'audio-asr') {
      const wav = makeWav(0.1);
      mkdirSync(join(input.uploadDir, '7'), { recursive: true });
      for (let i = 1; i <= n; i++)
        writeFileSync(join(input.uploadDir, '7', `clip_${String(i).padStart(6, '0')}.wav`), wav);
    }
    writeFileSync(join(dir, '.complete'), '');
  }
  return input;
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/**
 * Where the previous run's output goes until the bench ends (`--delete-before`: deleted at once).
 * ext4 skips inodes freed in the last minute (five, while their table block is dirty) when it
 * allocates new ones, scanning its bitmaps instead: deleting 100,000 files just before a run put
 * 20-40 s of system time on whichever tool ran next (YOLO_OBB, VOC, ASR_MANIFEST at 100,000 tasks,
 * 2026-12-01), which measured the file system, not the tool.
 */
const retired = { dir: '', count: 0, deleteNow: false };

/** Moves `out` (if any) out of the way: into the trash folder, or deleted with `--delete-before`. */
function retire(out: string): void {
  if (!existsSync(out)) return;
  if (retired.deleteNow || !retired.dir) {
    rmSync(out, { recursive: true, force: true });
    return;
  }
  mkdirSync(retired.dir, { recursive: true });
  renameSync(out, join(retired.dir, `${process.pid}-${++retired.count}`));
}

/**
 * Runs `command args` under `/usr/bin/time` into a fresh `out` directory; its stdout and stderr go
 * to `out`.log. Throws with the log's tail when the process fails.
 */
function timed(command: string, args: string[], out: string, env: NodeJS.ProcessEnv): TimeSample {
  retire(out);
  mkdirSync(out, { recursive: true });
  const timeFile = `${out}.time`;
  const logFile = `${out}.log`;
  const log = openSync(logFile, 'w');
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', command, ...args], {
    stdio: ['ignore', log, log],
    env,
  });
  closeSync(log);
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const tail = readFileSync(logFile, 'utf8').slice(-2000);
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}:\n${tail}`);
  }
  return parseTimeOutput(readFileSync(timeFile, 'utf8'));
}

async function main(): Promise<void> {
  const root = join(import.meta.dirname, '..');
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      reference: { type: 'string', default: process.env.LS_REFERENCE },
      cli: { type: 'string', default: join(root, 'bin', 'ls-export.mjs') },
      work: { type: 'string', default: join(root, 'bench-output') },
      out: { type: 'string' },
      'delete-before': { type: 'boolean', default: false },
      log: { type: 'string' },
      'table-from': { type: 'string' },
    },
  });
  if (values['table-from']) {
    console.log(formatTable(rowsFromLog(readFileSync(values['table-from'], 'utf8'))));
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const repeat = Number(values.repeat);
  const only = values.only?.split(',');
  const runs = SIDE_BY_SIDE_RUNS.filter(([format]) => !only || only.includes(format));
  const reference = values.reference?.trim().split(/\s+/).filter(Boolean);
  const cli = resolve(values.cli);
  if (!existsSync('/usr/bin/time'))
    throw new Error('GNU time (/usr/bin/time) is needed: apt-get install time');
  if (!existsSync(join(dirname(dirname(cli)), 'dist', 'cli', 'main.mjs')))
    throw new Error(`no bundle next to ${cli}: run \`npm run build\` first`);
  // --out: where both tools write (a tmpfs such as /dev/shm keeps out ext4's inode allocator, which
  // for minutes after a folder of 10,000 files was deleted spends seconds of system time per
  // 10,000 new files: the YOLO/VOC/ASR rows then measure the file system more than the tools).
  const out = join(values.out ?? values.work, 'side-by-side');
  mkdirSync(out, { recursive: true });
  // Earlier runs' outputs (an interrupted bench's trash too) are deleted when this one has ended.
  retired.dir = join(out, '.trash');
  retired.deleteNow = values['delete-before'] ?? false;
  const oursEnv = {
    ...process.env,
    // The node running this script first on the PATH (Node 24 from node_modules/.bin under npm).
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    LS_EXPORT_BUNDLE: 'always',
    // The generated images are s3:// URLs: no instance-metadata probing without credentials.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  console.log(
    `ls-export: ${cli} (Node ${process.version}); reference: ${reference ? reference.join(' ') : 'missing (give --reference or LS_REFERENCE)'}; ${new Date().toISOString()}\n`,
  );
  const rows: SideBySideRow[] = [];
  for (const n of sizes) {
    const sized: SideBySideRow[] = [];
    for (const [format, kind] of runs) {
      await ensureInput(values.work, kind, n);
      sized.push({ format, kind, n, loads: [], ours: [], reference: reference ? [] : undefined });
    }
    for (let round = 0; round < repeat; round++) {
      for (const row of sized) {
        const input = await ensureInput(values.work, row.kind as Kind, n);
        const common = ['-i', input.file, '-c', input.config];
        const upload = row.kind === 'audio-asr' ? ['--upload-dir', input.uploadDir] : [];
        const tools: Array<'ours' | 'reference'> = reference ? ['ours', 'reference'] : ['ours'];
        if (round % 2 === 1) tools.reverse();
        for (const tool of tools) {
          const dir = join(out, tool);
          const load = loadAverage();
          const sample =
            tool === 'ours'
              ? timed(cli, ['convert', ...common, '-o', dir, '-f', row.format, '-q', ...upload], dir, oursEnv)
              : timed(
                  reference![0],
                  [...reference!.slice(1), ...common, '-o', dir, '-f', row.format, ...upload],
                  dir,
                  process.env,
                );
          row.loads.push(load);
          (tool === 'ours' ? row.ours : row.reference!).push(sample);
          const line = { tool, format: row.format, kind: row.kind, n, round, load, ...sample };
          console.error(JSON.stringify(line));
          if (values.log)
            appendFileSync(values.log, `${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
        }
      }
    }
    rows.push(...sized);
    console.log(`${formatTable(sized)}\n`);
  }
  if (sizes.length > 1) console.log(formatTable(rows));
  for (const n of sizes)
    for (const kind of new Set(runs.map(([, k]) => k)))
      console.log(
        `input ${kind} ${n}: ${(statSync(join(values.work, `${kind}-${n}`, 'tasks.json')).size / 1e6).toFixed(0)} MB`,
      );
  rmSync(retired.dir, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
