/**
 * Pipeline benchmark: on the local S3 server (fauxqs, in-process), for projects of N tasks in
 * Label Studio's annotation layout, compare
 *  - a full rebuild (list + read every source object, build the state), with
 *  - ingesting 100 changed tasks through the ingest handler (S3 events → only those objects),
 * counting source objects and bytes read, state objects and bytes read/written, and seconds; then
 * the render of latest/ (JSON + CSV), which reads the whole state by nature.
 *
 * Then `runRenderBench()`: the render of latest/ by segments (JSON, JSON_MIN, CSV, CONLL2003) on a
 * state written straight into the bucket, after 1, 100 and 10,000 changed tasks: requests and
 * bytes read/written and bytes copied server-side (UploadPartCopy) per render; after the first
 * render, batches of segments rendered by segment workers each in its own process
 * (bench/segment-worker.ts): their peak RSS and time.
 *
 * `runPipelineBench()` prints markdown tables (npm run bench calls it). Alone:
 *   node bin/run-ts.mjs bench/pipeline.ts [--sizes 10000,100000] [--changed 100] [--render-sizes 100000]
 *   [--render-only] [--render-store s3|folder] [--render-formats JSON_MIN,CSV]
 *   [--render-kind text-ner|image-bbox|audio-asr]
 *   [--render-changes 1,100,10000|none] [--worker-batches 8|all|0] [--fanout-commit] [--render-zip]
 * Sizes also come from LS_EXPORT_BENCH_PIPELINE_SIZES. fauxqs keeps objects in memory: 100,000
 * tasks hold about 0.4 GB of objects plus the state; `--render-store folder` keeps the render
 * bench's objects in a temporary folder instead (how 1,000,000 tasks fit one machine).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mapLimit } from '../functions/core/bounded-map.ts';
import { parseJson } from '../functions/core/json/parse.ts';
import type { JsonObject } from '../functions/core/json/value.ts';
import { createIngestHandler } from '../functions/handlers/ingest.ts';
import { annotationObjects } from '../functions/local/label-studio-storage.ts';
import { parseConfig } from '../functions/pipeline/config.ts';
import { silentLogger } from '../functions/pipeline/context.ts';
import { rebuildProject } from '../functions/pipeline/rebuild.ts';
import { Shard, shardOf } from '../functions/pipeline/records.ts';
import { renderLatest } from '../functions/pipeline/render.ts';
import { buildS3EventRecord, buildSqsRecord, LocalSequencer } from '../functions/pipeline/s3-events.ts';
import { DEFAULT_SEGMENT_SHARDS, planSegments, type SegmentJob } from '../functions/pipeline/segments.ts';
import {
  renderSegment,
  type SegmentOutput,
  type SegmentRunner,
  spoolOutput,
} from '../functions/pipeline/segments-render.ts';
import {
  acquireLock,
  bumpVersion,
  loadHead,
  projectStore,
  releaseLock,
} from '../functions/pipeline/state.ts';
import { createRuntime } from '../functions/runtime/env.ts';
import { s3ClientConfig } from '../functions/storage/s3.ts';
import { benchClient, benchRuntime, type StoreSpec } from './bench-runtime.ts';
import { type Counter, CountingStore, zero } from './counting-store.ts';
import { fanoutCommitHeader, measureFanoutCommit } from './fanout-commit.ts';
import { CONFIGS, generateTask, KINDS, type Kind } from './generate.ts';

const mb = (n: number) => (n / 1e6).toFixed(1);
const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Task `i` of a generated project of `kind` (bench/generate.ts); `version` > 0 moves its
 * annotations' updated_at, and with `moveRegions` also each region's `x` by `version` / 10 percent
 * (so per-task label files change too, not only the aggregate files).
 */
function task(i: number, version = 0, kind: Kind = 'text-ner', moveRegions = false): JsonObject {
  const t = parseJson(JSON.stringify(generateTask(kind, i, 1))) as JsonObject;
  if (version > 0 && Array.isArray(t.annotations)) {
    for (const a of t.annotations as JsonObject[]) {
      a.updated_at = `2027-01-0${version}T00:00:00.000000Z`;
      if (moveRegions && Array.isArray(a.result))
        for (const r of a.result as JsonObject[]) {
          const v = r.value as JsonObject | undefined;
          if (v && typeof v.x === 'number') v.x = Math.min(90, v.x + version / 10);
        }
    }
  }
  return t;
}

export async function runPipelineBench(
  sizes = envSizes(),
  changed = 100,
  renderOptions: RenderBenchOptions = {},
): Promise<string> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { startFauxqs } = await import('fauxqs');
  const rows: string[] = [];
  const header = [
    '| tasks | operation | source objects read | source MB read | state objects read / written | state MB read / written | seconds |',
    '|---:|---|---:|---:|---:|---:|---:|',
  ];
  console.log(
    '\n### Pipeline: ingest of changed tasks vs full rebuild (local S3 server, text-ner, annotation layout)\n',
  );
  console.log(header.join('\n'));
  for (const n of sizes) {
    const server = await startFauxqs({ port: 0, logger: false });
    try {
      const client = new S3Client({
        ...s3ClientConfig({ endpoint: `http://127.0.0.1:${server.port}`, region: 'us-east-1' }),
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      });
      for (const Bucket of ['bench-source', 'bench-exports'])
        await client.send(new CreateBucketCommand({ Bucket }));
      const config = parseConfig({
        version: 1,
        projects: [
          {
            id: 'bench',
            source: { bucket: 'bench-source', prefix: 'ls' },
            labelConfig: { inline: CONFIGS['text-ner'] },
            formats: ['JSON', 'CSV'],
            export: { bucket: 'bench-exports', prefix: 'exports' },
          },
        ],
      });
      const counters = { src: zero(), state: zero() };
      const rt = createRuntime({
        config,
        client,
        log: silentLogger,
        storeOptions: { emulateConditionalWrites: true },
        wrapStore: (store, bucket) =>
          new CountingStore(store, bucket === 'bench-source' ? counters.src : counters.state),
      });
      // Label Studio's objects (one per annotation), written straight to the server.
      const t0 = Date.now();
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      let objects = 0;
      await mapLimit(ids, 64, async (i) => {
        for (const o of annotationObjects(task(i), 'ls')) {
          await client.send(new PutObjectCommand({ Bucket: 'bench-source', Key: o.key, Body: o.body }));
          objects++;
        }
      });
      console.error(
        `  [${fmt(n)} tasks: ${fmt(objects)} objects written in ${((Date.now() - t0) / 1000).toFixed(1)} s]`,
      );
      const measure = async (label: string, fn: () => Promise<unknown>) => {
        counters.src = Object.assign(counters.src, zero());
        counters.state = Object.assign(counters.state, zero());
        const start = process.hrtime.bigint();
        await fn();
        const s = Number(process.hrtime.bigint() - start) / 1e9;
        const row = `| ${fmt(n)} | ${label} | ${fmt(counters.src.gets)} | ${mb(counters.src.getBytes)} | ${fmt(counters.state.gets)} / ${fmt(counters.state.puts)} | ${mb(counters.state.getBytes)} / ${mb(counters.state.putBytes)} | ${s.toFixed(2)} |`;
        console.log(row);
        rows.push(row);
      };
      const project = config.projects[0];
      await measure(`full rebuild (${fmt(objects)} objects listed)`, () => rebuildProject(rt.ctx, project));
      await measure('render latest/ (JSON + CSV)', () => renderLatest(rt.ctx, project));
      // Changed tasks: new versions of their annotation objects, then their S3 events, in SQS
      // batches of 10 — once spread evenly over the id range (each change in its own shard: the
      // worst case), once on consecutive ids (annotators working through a range).
      const seq = new LocalSequencer();
      const ingest = createIngestHandler(() => rt);
      const changeTasks = async (taskIds: number[], version: number) => {
        const records: unknown[] = [];
        for (const i of taskIds) {
          for (const o of annotationObjects(task(i, version), 'ls')) {
            await client.send(new PutObjectCommand({ Bucket: 'bench-source', Key: o.key, Body: o.body }));
            const event = buildS3EventRecord({
              bucket: 'bench-source',
              key: o.key,
              eventName: 'ObjectCreated:Put',
              sequencer: seq.next(),
            });
            records.push(buildSqsRecord(JSON.stringify({ Records: [event] }), `m${records.length}`));
          }
        }
        return records;
      };
      const deliver = async (records: unknown[]) => {
        for (let i = 0; i < records.length; i += 10) {
          const res = await ingest({ Records: records.slice(i, i + 10) } as SQSEvent);
          if (res.batchItemFailures.length) throw new Error('ingest failed');
        }
      };
      await deliver(await changeTasks([n], 9)); // warm-up: first invocation of the handler
      const spread = await changeTasks(
        Array.from({ length: changed }, (_, k) => 1 + Math.floor((k * n) / changed)),
        1,
      );
      await measure(`ingest ${changed} changed tasks spread over the ids (${spread.length} events)`, () =>
        deliver(spread),
      );
      const clustered = await changeTasks(
        Array.from({ length: changed }, (_, k) => Math.floor(n / 2) + k),
        2,
      );
      await measure(`ingest ${changed} changed tasks with consecutive ids (${clustered.length} events)`, () =>
        deliver(clustered),
      );
      await measure('render latest/ after the change', () => renderLatest(rt.ctx, project));
    } finally {
      await server.stop();
    }
  }
  const render = await runRenderBench(renderOptions);
  return [...header, ...rows, '', render].join('\n');
}

/** Options of runRenderBench (defaults: what `npm run bench` runs). */
export interface RenderBenchOptions {
  /** Project sizes (tasks). */
  sizes?: number[];
  /** Changed tasks per re-render, spread evenly over the ids. */
  changes?: number[];
  formats?: string[];
  /**
   * The generated project's kind (bench/generate.ts: its label config and tasks); default text-ner.
   * image-bbox tasks show `s3://ls-media/…` images the bench's media policy refuses, so formats
   * that copy or measure images (*_WITH_IMAGES, VOC, YOLO) report each and skip it.
   */
  kind?: Kind;
  /**
   * `s3`: the local S3 server (fauxqs, in this process, reached over HTTP); `folder`: FsObjectStore
   * under a temporary folder (removed afterwards). Requests are counted at the ObjectStore boundary
   * either way.
   */
  store?: 's3' | 'folder';
  /**
   * Segment-worker batches (`segmentsPerBatch` segments each, spread evenly over the project) run
   * after the first render, each in its own process: `renderSegmentJobs` as a fan-out Map child
   * runs it, its peak RSS and time. 0: none; 'all': every segment.
   */
  workerBatches?: number | 'all';
  /** Segments per worker batch (the ItemBatcher's default, infra/constructs/render-fanout.ts). */
  segmentsPerBatch?: number;
  /**
   * After the first render, a fan-out render of every segment in this process with the manifest and
   * segment index deleted first, so every file is written (plan, every segment by
   * `renderSegmentJobs` in batches, then the commit), timing the commit alone: its requests, bytes,
   * CPU, and the manifest's `spoolPeakBytes` / `peakHeldBytes` against the aggregate files' sizes.
   */
  fanoutCommit?: boolean;
  /**
   * The project asks for zips (`latest.zip`): every multi-file format's `latest/<FORMAT>.zip` is
   * written too; each render prints how (kept, incremental, full), its entries reused and read,
   * and its bytes uploaded and copied server-side. Changed tasks also move their regions (`task`), so
   * their label files change.
   */
  zip?: boolean;
}

interface WorkerResult {
  segments: number;
  tasks: number;
  shardsRead: number;
  bytesRead: number;
  secs: number;
  cpuSecs: number;
  count: Counter;
  peakRssKiB: number;
}

const ROOT = join(import.meta.dirname, '..');
/** One bundle per bench process: a second bench running meanwhile does not rebuild it under this one. */
const WORKER_BUNDLE = join(ROOT, 'bench-output', `segment-worker-${process.pid}.mjs`);

/** bench/segment-worker.ts bundled as the Lambda is (dependencies from node_modules). */
async function bundleWorker(): Promise<string> {
  const { build } = await import('esbuild');
  mkdirSync(dirname(WORKER_BUNDLE), { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'bench', 'segment-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: WORKER_BUNDLE,
    packages: 'external',
    logLevel: 'warning',
  });
  return WORKER_BUNDLE;
}

/** Runs one batch of segments in a child process (node running this bench, no heap flags). */
function runWorker(bundle: string, jobFile: string): Promise<WorkerResult> {
  return new Promise((ok, fail) => {
    execFile(process.execPath, [bundle, jobFile], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`segment worker failed: ${err.message}\n${stderr}`));
      else ok(JSON.parse(stdout.trim().split('\n').pop() ?? '') as WorkerResult);
    });
  });
}

/**
 * Render by segments after 1, 100 and 10,000 changed tasks (spread evenly over the ids: the worst
 * case, every change in its own segment until they outnumber the segments), per project size.
 * The state is written straight into the bucket (one PUT per shard of 100 tasks). After the first
 * render, `workerBatches` batches of segments are rendered again by segment workers, each in its
 * own process (their peak RSS is what a fan-out segment Lambda needs).
 */
export async function runRenderBench(options: RenderBenchOptions = {}): Promise<string> {
  const sizes = options.sizes ?? envRenderSizes();
  const changes = options.changes ?? [1, 100, 10_000];
  const formats = options.formats ?? ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003'];
  const kind = options.kind ?? 'text-ner';
  const storeKind = options.store ?? 's3';
  const workerBatches = options.workerBatches ?? 8;
  const perBatch = options.segmentsPerBatch ?? 4;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { startFauxqs } = await import('fauxqs');
  const bundle = workerBatches === 0 ? '' : await bundleWorker();
  const header = [
    '| tasks | render | segments rendered / total | shards read | GET / PUT / LIST | UploadPartCopy parts | MB read | MB written | MB copied server-side | seconds |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows: string[] = [];
  const segmentRows: string[] = [];
  const workerRows: string[] = [];
  const commitRows: string[] = [];
  const zipRows: string[] = [];
  const storeName =
    storeKind === 's3'
      ? 'local S3 server (fauxqs) over HTTP'
      : 'folder store (FsObjectStore), requests counted at the ObjectStore boundary';
  console.log(
    `\n### Render of latest/ by segments (${storeName}; ${kind}; ${formats.join(', ')}; Node ${process.version}; ${new Date().toISOString()}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})\n`,
  );
  console.log(header.join('\n'));
  for (const n of sizes) {
    const server = storeKind === 's3' ? await startFauxqs({ port: 0, logger: false }) : undefined;
    const root = storeKind === 'folder' ? mkdtempSync(join(tmpdir(), 'ls-export-bench-render-')) : '';
    const spec: StoreSpec = server
      ? { kind: 's3', endpoint: `http://127.0.0.1:${server.port}` }
      : { kind: 'folder', root };
    try {
      if (spec.kind === 's3')
        await benchClient(spec.endpoint).send(new CreateBucketCommand({ Bucket: 'bench-exports' }));
      const rawConfig = {
        version: 1,
        projects: [
          {
            id: 'bench',
            source: { bucket: 'bench-source', prefix: 'ls' },
            labelConfig: { inline: CONFIGS[kind] },
            formats,
            export: { bucket: 'bench-exports', prefix: 'exports' },
            ...(options.zip ? { latest: { zip: true } } : {}),
          },
        ],
      };
      const config = parseConfig(rawConfig);
      const c = zero();
      const raw = benchRuntime(config, spec);
      const rt = benchRuntime(config, spec, c);
      const project = config.projects[0];
      const ps = projectStore(raw.ctx, project);
      const head = await loadHead(raw.ctx, ps);
      const writeShards = async (ids: number[], version: number) => {
        const byShard = new Map<string, number[]>();
        for (const i of ids) {
          const sh = shardOf(String(i), head.shardTasks);
          let list = byShard.get(sh);
          if (!list) byShard.set(sh, (list = []));
          list.push(i);
        }
        await mapLimit([...byShard], 16, async ([sh, list]) => {
          let text = '';
          try {
            const r = await ps.store.get(ps.paths.taskShard(sh));
            const parts: Uint8Array[] = [];
            for await (const x of r.body) parts.push(x);
            text = Buffer.concat(parts).toString('utf8');
          } catch {}
          const shard = Shard.parse(text);
          for (const i of list) {
            const body = task(i, version, kind, options.zip);
            shard.set({
              taskId: String(i),
              entries: [
                {
                  key: `ls/${i}.json`,
                  layout: 'task',
                  seq: '',
                  updatedAt: String(body.updated_at ?? ''),
                  observedAt: '2027-01-01T00:00:00.000Z',
                  body,
                },
              ],
            });
          }
          await ps.store.put(ps.paths.taskShard(sh), shard.serialize());
        });
        await bumpVersion(raw.ctx, ps);
      };
      const t0 = Date.now();
      await writeShards(
        Array.from({ length: n }, (_, i) => i + 1),
        0,
      );
      console.error(`  [${fmt(n)} tasks: state written in ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
      // Per segment (what one fan-out Map child does per segment): seconds, and the aggregate text
      // it holds (its output bodies, the bulk of its memory); two at a time, as renderLatest does.
      let perSegment: Array<{ secs: number; bytes: number }> = [];
      const timedSegments: SegmentRunner = async (rc, jobs, aggregatePaths) => {
        const outs = await mapLimit(jobs, 2, async (job): Promise<SegmentOutput> => {
          const t = process.hrtime.bigint();
          const o = await renderSegment(rc, job, aggregatePaths);
          let bytes = 0;
          for (const files of o.aggregate.values())
            for (const b of files.values()) bytes += typeof b === 'string' ? Buffer.byteLength(b) : b.bytes;
          perSegment.push({ secs: Number(process.hrtime.bigint() - t) / 1e9, bytes });
          // To the render's spool, as renderSegments does: held, every segment's text would stay in memory.
          return spoolOutput(rc, o);
        });
        return new Map(outs.map((o) => [o.entry.id, o]));
      };
      const measure = async (label: string) => {
        Object.assign(c, zero());
        perSegment = [];
        const start = process.hrtime.bigint();
        const r = await renderLatest(rt.ctx, project, { segments: timedSegments });
        const secs = Number(process.hrtime.bigint() - start) / 1e9;
        const seg = r.manifest?.timings?.segments;
        const row = `| ${fmt(n)} | ${label} | ${fmt(seg?.rendered ?? 0)} / ${fmt(seg?.total ?? 0)} | ${fmt(r.manifest?.timings?.shardsRead ?? 0)} | ${fmt(c.gets)} / ${fmt(c.puts)} / ${fmt(c.lists)} | ${fmt(c.copies)} | ${mb(c.getBytes)} | ${mb(c.putBytes)} | ${mb(c.copiedBytes)} | ${secs.toFixed(2)} |`;
        console.log(row);
        rows.push(row);
        const rep = r.manifest?.report;
        const fallback = seg?.fallback ? Object.keys(seg.fallback) : [];
        console.error(
          `  [report: ${fmt(rep?.skippedCount ?? 0)} skipped${rep?.skipped[0] ? ` (first: ${rep.skipped[0].format ?? ''} ${rep.skipped[0].reason})` : ''}, ${fmt(rep?.warningCount ?? 0)} warnings${rep?.warnings[0] ? ` (first: ${rep.warnings[0].reason})` : ''}; formats over every task: ${fallback.join(', ') || 'none'}]`,
        );
        for (const [format, z] of Object.entries(r.manifest?.timings?.zips ?? {})) {
          const zipRow = `| ${fmt(n)} | ${label} | ${format} | ${z.mode} | ${fmt(z.entries)} | ${fmt(z.reusedEntries)} / ${fmt(z.freshEntries)} (${fmt(z.recordedEntries ?? 0)}) | ${mb(z.sourceBytesRead)} | ${mb(z.zipBytesRead)} | ${mb(z.uploadedBytes)} | ${mb(z.copiedBytes)} |`;
          console.error(`  [zip: ${zipRow}]`);
          zipRows.push(zipRow);
        }
        if (perSegment.length > 0) {
          const slowest = Math.max(...perSegment.map((x) => x.secs));
          const mean = perSegment.reduce((a, x) => a + x.secs, 0) / perSegment.length;
          const largest = Math.max(...perSegment.map((x) => x.bytes));
          const seg = `| ${fmt(n)} | ${label} | ${fmt(perSegment.length)} | ${slowest.toFixed(2)} | ${mean.toFixed(2)} | ${mb(largest)} | ${mb(process.resourceUsage().maxRSS * 1024)} |`;
          console.error(`  [per segment: ${seg}]`);
          segmentRows.push(seg);
        }
      };
      await measure('first (every segment)');
      if (options.fanoutCommit) commitRows.push(await measureFanoutCommit(n, raw, rt, c, project, perBatch));
      if (bundle) workerRows.push(...(await measureWorkers(n, rawConfig, spec, raw, ps)));
      let version = 1;
      for (const k of changes.filter((x) => x <= n)) {
        await writeShards(
          Array.from({ length: k }, (_, j) => 1 + Math.floor((j * n) / k)),
          version++,
        );
        await measure(`after ${fmt(k)} changed task${k === 1 ? '' : 's'}`);
      }
    } finally {
      await server?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    }
  }
  if (bundle) rmSync(bundle, { force: true });

  /**
   * Batches of segments spread evenly over the project, each rendered by `renderSegmentJobs` in a
   * child process, one child at a time; their stored outputs are deleted afterwards.
   */
  async function measureWorkers(
    n: number,
    rawConfig: unknown,
    spec: StoreSpec,
    raw: ReturnType<typeof benchRuntime>,
    ps: ReturnType<typeof projectStore>,
  ): Promise<string[]> {
    const plan = await planSegments(ps.store, ps.paths.taskShards, DEFAULT_SEGMENT_SHARDS, undefined);
    const batches: SegmentJob[][] = [];
    for (let i = 0; i < plan.segments.length; i += perBatch)
      batches.push(plan.segments.slice(i, i + perBatch));
    const count = workerBatches === 'all' ? batches.length : Math.min(workerBatches, batches.length);
    const picked = Array.from(
      { length: count },
      (_, k) => batches[count === 1 ? 0 : Math.round((k * (batches.length - 1)) / (count - 1))],
    );
    // The workers renew the render lock as their owner (as the fan-out's plan would hold it).
    const owner = 'bench-workers';
    if (!(await acquireLock(raw.ctx, ps, owner))) throw new Error('the render lock is held');
    const jobDir = mkdtempSync(join(tmpdir(), 'ls-export-bench-worker-'));
    const out: string[] = [];
    const results: WorkerResult[] = [];
    try {
      for (const [k, jobs] of picked.entries()) {
        const jobFile = join(jobDir, `job-${k}.json`);
        writeFileSync(
          jobFile,
          JSON.stringify({
            store: spec,
            config: rawConfig,
            project: 'bench',
            owner,
            startedAt: new Date().toISOString(),
            jobs,
          }),
        );
        const r = await runWorker(bundle, jobFile);
        results.push(r);
        const row = `| ${fmt(n)} | ${jobs[0].id}–${jobs[jobs.length - 1].id} | ${r.segments} | ${fmt(r.tasks)} | ${r.secs.toFixed(2)} | ${r.cpuSecs.toFixed(2)} | ${fmt(r.count.gets)} / ${fmt(r.count.puts)} | ${mb(r.count.getBytes)} | ${mb(r.count.putBytes)} | ${(r.peakRssKiB / 1024).toFixed(0)} |`;
        console.error(`  [segment worker: ${row}]`);
        out.push(row);
      }
    } finally {
      rmSync(jobDir, { recursive: true, force: true });
      for await (const o of ps.store.list(`${ps.paths.state}render-fanout/${owner}/`))
        await ps.store.delete(o.key);
      await releaseLock(ps, owner);
    }
    if (results.length > 0) {
      const rss = Math.max(...results.map((r) => r.peakRssKiB)) / 1024;
      const slow = Math.max(...results.map((r) => r.secs));
      out.push(
        `| ${fmt(n)} | **largest of ${results.length} batches** | ≤ ${perBatch} | | ${slow.toFixed(2)} | | | | | **${rss.toFixed(0)}** |`,
      );
    }
    return out;
  }

  const segmentHeader = [
    '',
    '| tasks | render | segments rendered | slowest segment s | mean segment s | largest segment aggregate text MB | process peak RSS MB |',
    '|---:|---|---:|---:|---:|---:|---:|',
  ];
  const workerHeader = [
    '',
    `Segment workers, each batch in its own process (renderSegmentJobs; ${storeName}):`,
    '',
    '| tasks | segments | segments in batch | tasks | seconds | CPU s | GET / PUT | MB read | MB written | peak RSS MiB (VmHWM) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const tables = [...header, ...rows, ...segmentHeader, ...segmentRows];
  if (workerRows.length > 0) tables.push(...workerHeader, ...workerRows);
  const commitHeader = ['', ...fanoutCommitHeader(storeName)];
  if (commitRows.length > 0) tables.push(...commitHeader, ...commitRows);
  const zipHeader = [
    '',
    `latest/<FORMAT>.zip per render (${storeName}):`,
    '',
    '| tasks | render | format | written | entries | reused / fresh entries (of them, recorded as written) | MB of files read | MB of the old zip read | MB uploaded | MB copied server-side |',
    '|---:|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  if (zipRows.length > 0) tables.push(...zipHeader, ...zipRows);
  const text = tables.join('\n');
  console.log(segmentHeader.concat(segmentRows).join('\n'));
  if (workerRows.length > 0) console.log(workerHeader.concat(workerRows).join('\n'));
  if (commitRows.length > 0) console.log(commitHeader.concat(commitRows).join('\n'));
  if (zipRows.length > 0) console.log(zipHeader.concat(zipRows).join('\n'));
  return text;
}

function envRenderSizes(): number[] {
  return (process.env.LS_EXPORT_BENCH_RENDER_SIZES ?? '100000').split(',').map(Number);
}

function envSizes(): number[] {
  return (process.env.LS_EXPORT_BENCH_PIPELINE_SIZES ?? '10000,100000').split(',').map(Number);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      changed: { type: 'string' },
      'render-sizes': { type: 'string' },
      'render-only': { type: 'boolean' },
      'render-changes': { type: 'string' },
      'render-formats': { type: 'string' },
      'render-store': { type: 'string' },
      'render-kind': { type: 'string' },
      'worker-batches': { type: 'string' },
      'fanout-commit': { type: 'boolean' },
      'render-zip': { type: 'boolean' },
    },
  });
  if (values['render-sizes']) process.env.LS_EXPORT_BENCH_RENDER_SIZES = values['render-sizes'];
  const store = values['render-store'] ?? 's3';
  if (store !== 's3' && store !== 'folder') throw new Error(`--render-store: s3 or folder, not ${store}`);
  const kind = values['render-kind'] ?? 'text-ner';
  if (!KINDS.includes(kind as Kind)) throw new Error(`--render-kind: ${KINDS.join(', ')}, not ${kind}`);
  const batches = values['worker-batches'];
  const renderOptions: RenderBenchOptions = {
    ...(values['render-changes']
      ? {
          changes: values['render-changes'] === 'none' ? [] : values['render-changes'].split(',').map(Number),
        }
      : {}),
    ...(values['render-formats'] ? { formats: values['render-formats'].split(',') } : {}),
    store,
    kind: kind as Kind,
    ...(batches ? { workerBatches: batches === 'all' ? 'all' : Number(batches) } : {}),
    ...(values['fanout-commit'] ? { fanoutCommit: true } : {}),
    ...(values['render-zip'] ? { zip: true } : {}),
  };
  if (values['render-only']) await runRenderBench(renderOptions);
  else
    await runPipelineBench(
      values.sizes ? values.sizes.split(',').map(Number) : envSizes(),
      Number(values.changed ?? 100),
      renderOptions,
    );
}
