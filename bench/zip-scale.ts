/**
 * `latest/<FORMAT>.zip` at scale (pipeline/latest-zip.ts), one phase per process so each phase's
 * peak RSS is its own: `full` zips N synthetic label files (made from their keys, not stored),
 * `incremental` changes K of them (spread evenly) and writes the zip again from the previous one.
 * The zip itself lives in a folder store (FsObjectStore under the OS temp folder). Prints the
 * phase's seconds, CPU seconds, peak RSS (VmHWM), most heap used (sampled every 50 ms), the heap
 * used before the writer ran (the file lists the caller holds) and the writer's stats.
 *
 *   node bin/run-ts.mjs bench/zip-scale.ts --entries 1000000 --changes 1
 * (runs both phases as child processes; `--phase full|incremental --dir D` runs one.)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type {
  AssemblyPart,
  GetResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../functions/core/object-store.ts';
import { Report } from '../functions/core/report.ts';
import type { WrittenFile } from '../functions/pipeline/hashing-sink.ts';
import { writeLatestZip } from '../functions/pipeline/latest-zip.ts';
import { FsObjectStore } from '../functions/storage/fs.ts';

const ZIP = 'latest/YOLO.zip';
const LABELS = 'latest/YOLO/labels/';

/** File `i`'s bytes at `version`: a YOLO label file of three boxes. */
function label(i: number, version: number): Buffer {
  const c = (k: number) => (((i * 7919 + k * 104729 + version * 31) % 1000) / 1000).toFixed(6);
  return Buffer.from(
    `${i % 80} ${c(1)} ${c(2)} ${c(3)} ${c(4)}\n${(i + 1) % 80} ${c(5)} ${c(6)} ${c(7)} ${c(8)}\n${(i + 2) % 80} ${c(9)} ${c(10)} ${c(11)} ${c(12)}\n`,
  );
}

const pathOf = (i: number) => `labels/img_${String(i).padStart(7, '0')}.txt`;

/** Label files made from their keys (version per file from `versions`); the zip in a folder. */
class SynthStore implements ObjectStore {
  readonly description = 'synthetic labels + folder';
  constructor(
    private readonly zips: FsObjectStore,
    private readonly versions: Map<number, number>,
  ) {}
  private labelOf(key: string): Buffer | undefined {
    if (!key.startsWith(LABELS)) return undefined;
    const i = Number(key.slice(LABELS.length + 4, -4));
    return label(i, this.versions.get(i) ?? 0);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.zips.list(prefix);
  }
  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    const b = this.labelOf(key);
    if (!b) return this.zips.get(key, range, versionId);
    const body = range ? b.subarray(range.start, range.end) : b;
    return {
      body: (async function* () {
        yield body;
      })(),
      size: body.length,
    };
  }
  async head(key: string) {
    const b = this.labelOf(key);
    return b ? { key, size: b.length } : this.zips.head(key);
  }
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.zips.put(key, body, options);
  }
  putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions): Promise<PutResult> {
    return this.zips.putStream(key, body, options);
  }
  async delete(key: string): Promise<void> {
    if (!key.startsWith(LABELS)) await this.zips.delete(key);
  }
  assemble(key: string, parts: AssemblyPart[]): Promise<PutResult> {
    return this.zips.assemble(key, parts);
  }
}

function filesOf(n: number, versions: Map<number, number>): WrittenFile[] {
  const out: WrittenFile[] = [];
  for (let i = 0; i < n; i++) {
    const b = label(i, versions.get(i) ?? 0);
    out.push({
      path: pathOf(i),
      key: `latest/YOLO/${pathOf(i)}`,
      bytes: b.length,
      sha256: createHash('sha256').update(b).digest('hex'),
    });
  }
  return out;
}

function vmHwmMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function phase(kind: 'full' | 'incremental', dir: string, n: number, k: number) {
  const zips = new FsObjectStore(join(dir, 'store'));
  const changed = new Map<number, number>();
  if (kind === 'incremental') for (let j = 0; j < k; j++) changed.set(Math.floor((j * n) / k), 1);
  const store = new SynthStore(zips, changed);
  const files = filesOf(n, changed);
  let heap = 0;
  const sample = setInterval(() => {
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 50);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const previous =
    kind === 'incremental'
      ? {
          zip: JSON.parse(readFileSync(join(dir, 'zip.json'), 'utf8')) as WrittenFile,
          files: new Map(filesOf(n, new Map()).map((f) => [f.path, f])),
        }
      : undefined;
  // What the caller holds (the file lists, as a render holds its manifests) before the writer runs.
  const heapBefore = process.memoryUsage().heapUsed;
  const r = await writeLatestZip({
    store,
    files,
    key: ZIP,
    mtime: new Date(),
    report: new Report(),
    previous,
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sample);
  heap = Math.max(heap, process.memoryUsage().heapUsed);
  if (kind === 'full') writeFileSync(join(dir, 'zip.json'), JSON.stringify(r.entry));
  console.log(
    JSON.stringify({
      phase: kind,
      entries: n,
      changes: kind === 'full' ? n : k,
      seconds: Number(secs.toFixed(2)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      peakRssMiB: Math.round(vmHwmMiB()),
      heapUsedMaxMB: Number((heap / 1e6).toFixed(1)),
      heapBeforeMB: Number((heapBefore / 1e6).toFixed(1)),
      zipMB: Number((r.entry.bytes / 1e6).toFixed(1)),
      stats: r.stats,
    }),
  );
}

const { values } = parseArgs({
  options: {
    entries: { type: 'string' },
    changes: { type: 'string' },
    phase: { type: 'string' },
    dir: { type: 'string' },
  },
});
const n = Number(values.entries ?? 1_000_000);
const k = Number(values.changes ?? 1);
if (values.phase) {
  await phase(values.phase as 'full' | 'incremental', values.dir!, n, k);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'ls-export-zip-scale-'));
  try {
    const self = fileURLToPath(import.meta.url);
    const run = (p: string) =>
      process.stdout.write(
        execFileSync(
          process.execPath,
          [
            join(self, '../../bin/run-ts.mjs'),
            self,
            '--phase',
            p,
            '--dir',
            dir,
            '--entries',
            String(n),
            '--changes',
            String(k),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        ),
      );
    run('full');
    run('incremental');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
