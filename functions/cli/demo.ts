/**
 * `npm run demo`: everything on one machine, no AWS account, no network.
 *  1. The converter: each bundled sample project (samples/) into every format its config supports,
 *     under demo-output/local/. The image sample's media (s3://ls-media/images/…) are placeholder
 *     JPEGs put on the local S3 server of step 2, which is started first.
 *  2. The serverless pipeline, event-driven, against an in-process S3 server (fauxqs on 127.0.0.1):
 *     Label Studio's target storage is played (both layouts, updates, deletes, a malformed object),
 *     the S3 notifications go — duplicated and out of order, in AWS's shape — to the ingest
 *     handler, the debounced render handler refreshes latest/, and a snapshot is created, converted
 *     and downloaded through the export API handler. Exports are mirrored under demo-output/pipeline/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSRecord } from 'aws-lambda';
import { supportedFormats } from '../core/config/formats.ts';
import { parseLabelConfig } from '../core/config/label-config.ts';
import { runExport } from '../core/export.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { implementedFormats } from '../core/formats/registry.ts';
import { parseJson } from '../core/json/parse.ts';
import { PY_JSON_COMPACT, stringify } from '../core/json/serialize.ts';
import { isJsonObject, type JsonObject } from '../core/json/value.ts';
import { readAll } from '../core/object-store.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report } from '../core/report.ts';
import { StoreSink } from '../core/store-sink.ts';
import { createApiHandler } from '../handlers/api.ts';
import { createIngestHandler } from '../handlers/ingest.ts';
import { createRenderHandler } from '../handlers/render.ts';
import { createSnapshotHandler } from '../handlers/snapshot.ts';
import { annotationObjects, type StorageObject, taskObject } from '../local/label-studio-storage.ts';
import { LocalBus } from '../local/notification-bus.ts';
import { placeholderJpeg } from '../local/placeholder-jpeg.ts';
import { type PipelineConfig, parseConfig } from '../pipeline/config.ts';
import { silentLogger } from '../pipeline/context.ts';
import type { Manifest } from '../pipeline/manifest.ts';
import { notificationRoutes } from '../pipeline/notifications.ts';
import { readJson } from '../pipeline/object-text.ts';
import { parseS3Url, projectPaths } from '../pipeline/paths.ts';
import { createRuntime } from '../runtime/env.ts';
import { createObservability } from '../runtime/observability.ts';
import { FsObjectStore } from '../storage/fs.ts';
import { LocalMedia } from '../storage/local-media.ts';
import { S3ObjectStore, s3ClientConfig } from '../storage/s3.ts';
import { CliError } from './errors.ts';
import { writeJsonFile } from './json-file.ts';

/**
 * The repository (samples/, demo-output/): the nearest folder above `from` holding samples/ and a
 * package.json, so it is found from functions/cli/ (tsx) as from dist/cli/chunks/ (the bundled CLI).
 */
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'samples'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json with samples/ above ${from}`);
  }
}

const ROOT = repositoryRoot(import.meta.dirname);
const SAMPLES = ['image-bbox', 'text-ner', 'audio-asr'];

type Log = (s: string) => void;

export async function runDemo(
  outRoot = join(ROOT, 'demo-output'),
  log: Log = (s) => process.stdout.write(`${s}\n`),
) {
  assertLocalS3ServerRuns();
  await rm(outRoot, { recursive: true, force: true });
  const started = Date.now();
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false });
  try {
    const endpoint = `http://127.0.0.1:${server.port}`;
    const client = new S3Client({
      ...s3ClientConfig({ endpoint, region: 'us-east-1' }),
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    log('1. The converter, on this machine (samples/ → demo-output/local/)');
    const images = await putSampleImages(client);
    log(
      `  image-bbox's ${images.count} images (${images.url}…): mid-gray placeholder JPEGs of each task's size, put on the local S3 server (${endpoint}), which the converter reads as with --endpoint`,
    );
    await localConversions(join(outRoot, 'local'), log, client);
    log('\n2. The serverless pipeline, on a local S3 server (fauxqs, in-process on 127.0.0.1)');
    await withoutEmf(() => pipelineDemo(join(outRoot, 'pipeline'), log, client, endpoint));
  } finally {
    await server.stop();
  }
  log(
    `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: open ${relative(process.cwd(), outRoot) || '.'}/ to see every export.`,
  );
}

/**
 * The image-bbox sample's images (`s3://ls-media/images/…` in its tasks) do not ship with the
 * repository: a placeholder JPEG per URL, of the size its results give (`original_width` ×
 * `original_height`; 640×480 for a task without results), is put in that bucket. Returns how many
 * and the first URL.
 */
async function putSampleImages(client: S3Client): Promise<{ count: number; url: string }> {
  const tasks = parseJson(
    await readFile(join(ROOT, 'samples', 'image-bbox', 'tasks.json'), 'utf8'),
  ) as JsonObject[];
  const sizes = new Map<string, [number, number]>();
  for (const t of tasks) {
    const url = isJsonObject(t.data) ? t.data.image : undefined;
    if (typeof url !== 'string' || !url.startsWith('s3://')) continue;
    const region = (Array.isArray(t.annotations) ? t.annotations : [])
      .flatMap((a) => (isJsonObject(a) && Array.isArray(a.result) ? a.result : []))
      .find((r) => isJsonObject(r) && typeof r.original_width === 'number') as JsonObject | undefined;
    const size: [number, number] = region
      ? [Number(region.original_width), Number(region.original_height)]
      : [640, 480];
    if (!sizes.has(url)) sizes.set(url, size);
  }
  const stores = new Map<string, S3ObjectStore>();
  for (const [url, [w, h]] of sizes) {
    const { bucket, prefix } = parseS3Url(url);
    let store = stores.get(bucket);
    if (!store) {
      await createBucket(client, bucket);
      store = new S3ObjectStore(client, bucket);
      stores.set(bucket, store);
    }
    await store.put(prefix, placeholderJpeg(w, h));
  }
  return { count: sizes.size, url: [...sizes.keys()][0] ?? '' };
}

/** CreateBucket, a bucket this demo already made being fine. */
async function createBucket(client: S3Client, Bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

async function localConversions(outRoot: string, log: Log, client: S3Client): Promise<void> {
  const implemented = new Set(implementedFormats());
  for (const sample of SAMPLES) {
    const dir = join(ROOT, 'samples', sample);
    const schema = parseLabelConfig(await readFile(join(dir, 'config.xml'), 'utf8'));
    const formats = supportedFormats(schema).filter((f) => implemented.has(f));
    log(`  ${sample}: ${formats.join(', ')}`);
    for (const format of formats) {
      const outDir = join(outRoot, sample, format);
      await mkdir(outDir, { recursive: true });
      const sink = new StoreSink(new FsObjectStore(outDir), '');
      const report = new Report();
      const { tasks } = await runExport({
        source: new SingleFileSource(new FsObjectStore(dir), 'tasks.json'),
        schema,
        targets: [{ format, sink }],
        options: parseExportOptions({}),
        media: new LocalMedia({ uploadDir: join(dir, 'upload'), s3: () => client }),
        report,
      });
      await writeJsonFile(join(outDir, 'report.json'), report.toJSON());
      const bytes = sink.files.reduce((n, f) => n + f.bytes, 0);
      const shown =
        sink.files.length > 3 ? `${sink.files.length} files` : sink.files.map((f) => f.path).join(', ');
      log(
        `    ${format.padEnd(20)} ${tasks} tasks → ${relative(ROOT, outDir)}/ (${shown}, ${bytes.toLocaleString('en-US')} bytes)${report.skippedCount ? `, ${report.skippedCount} skipped` : ''}`,
      );
    }
  }
}

/**
 * Runs `f` with Powertools' `POWERTOOLS_METRICS_DISABLED` set (restored after): the demo prints
 * its own story, so the handlers' EMF lines (meant for CloudWatch) are not written to stdout.
 * Powertools reads the variable when a Metrics is constructed: the handlers' instances
 * (`demoObservability`, and the single metrics they make) are created inside `f`.
 */
async function withoutEmf<T>(f: () => Promise<T>): Promise<T> {
  const had = Object.hasOwn(process.env, 'POWERTOOLS_METRICS_DISABLED');
  const before = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return await f();
  } finally {
    if (had) process.env.POWERTOOLS_METRICS_DISABLED = before;
    else delete process.env.POWERTOOLS_METRICS_DISABLED;
  }
}

/**
 * Report entries grouped by reason for a printout: reasons equal once their numbers are left out
 * (the same reason once per region, or per image file, is one group), in first-seen order;
 * `count` entries, `example` the first one (its source and reason as written).
 */
export function groupByReason<E extends { source: string; reason: string }>(
  entries: readonly E[],
): Array<{ count: number; example: E }> {
  const groups = new Map<string, { count: number; example: E }>();
  for (const e of entries) {
    const key = e.reason.replace(/\d+/g, '#');
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { count: 1, example: e });
  }
  return [...groups.values()];
}

/**
 * Why some demo keys hold `//`: the projects whose source prefix ends in `/` (as typed in Label
 * Studio, which joins `prefix + '/' + name`), e.g. `text-ner's prefix "ls/text-ner/" gives keys
 * like ls/text-ner//10, as Label Studio writes them`; `no prefix ends in "/"` when none does.
 */
export function doubleSlashNote(projects: ReadonlyArray<{ id: string; source: { prefix: string } }>): string {
  const typed = projects.filter((p) => p.source.prefix.endsWith('/'));
  if (typed.length === 0) return 'no prefix ends in "/"';
  const [first] = typed;
  const names = typed.map((p) => `${p.id}'s prefix "${p.source.prefix}"`).join(', ');
  return `${names} ${typed.length === 1 ? 'gives' : 'give'} keys like ${first.source.prefix}/10, as Label Studio writes them`;
}

/** A deterministic shuffle (the demo prints the same story every time). */
function scramble<T>(xs: T[]): T[] {
  const a = [...xs];
  let s = 42;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * The local S3 server (fauxqs 2, which uses node:sqlite) needs Node ≥ 22.5. Throws a CliError
 * naming the fix on an older Node, before anything is written.
 */
function assertLocalS3ServerRuns(): void {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 5)) return;
  throw new CliError(
    `the demo's local S3 server (fauxqs) needs Node ≥ 22.5, this is ${process.version}: run it as ` +
      '"npm run demo" (on Linux, npm ci installs Node 24 into node_modules/.bin for it) or install Node 24',
  );
}

async function pipelineDemo(outRoot: string, log: Log, client: S3Client, endpoint: string): Promise<void> {
  const config: PipelineConfig = parseConfig(
    await readFile(join(ROOT, 'samples', 'pipeline-config.json'), 'utf8'),
  );
  const buckets = new Set<string>();
  for (const p of config.projects) {
    buckets.add(p.source.bucket).add(p.export.bucket);
    if (p.media.uploadPrefix) buckets.add(parseS3Url(p.media.uploadPrefix).bucket);
  }
  for (const Bucket of buckets) await createBucket(client, Bucket);
  log(`  S3 endpoint ${endpoint}; buckets ${[...buckets].join(', ')}`);

  // S3 → SQS notifications, as the stack configures them (fauxqs emits none: LocalBus plays them).
  const bus = new LocalBus();
  bus.subscribe(notificationRoutes(config), { delaySeconds: { render: 60 } });
  const obs = createObservability();
  const rt = createRuntime({
    config,
    client,
    log: silentLogger,
    storeOptions: { emulateConditionalWrites: true },
    wrapStore: (store, bucket) => bus.wrap(store, bucket),
  });
  const store = (bucket: string) => rt.ctx.store(bucket);

  // The label configs and Label Studio's uploaded media live in S3 too.
  for (const p of config.projects) {
    const sample = join(ROOT, 'samples', p.id);
    if ('s3' in p.labelConfig) {
      const { bucket, prefix } = parseS3Url(p.labelConfig.s3);
      await store(bucket).put(prefix, await readFile(join(sample, 'config.xml')));
    }
    if (p.media.uploadPrefix) {
      const { bucket, prefix } = parseS3Url(p.media.uploadPrefix);
      const upload = new FsObjectStore(join(sample, 'upload'));
      for await (const o of upload.list(''))
        await store(bucket).put(`${prefix}${o.key}`, await readAll((await upload.get(o.key)).body));
    }
  }

  // Label Studio writes its target storage: image-bbox and text-ner in the annotation layout
  // (one object per annotation), audio-asr in the task layout (one <task id>.json per task).
  const written: Record<string, StorageObject[]> = {};
  for (const p of config.projects) {
    const tasks = parseJson(
      await readFile(join(ROOT, 'samples', p.id, 'tasks.json'), 'utf8'),
    ) as JsonObject[];
    // The prefix as typed in Label Studio: it joins `prefix + '/' + name` without normalising, so
    // text-ner's `ls/text-ner/` gives keys like `ls/text-ner//10`, which the pipeline must read
    // (docs/label-studio-storage-and-api.md, target storage keys).
    const prefix = p.source.prefix;
    const objects = tasks.flatMap((t) =>
      p.id === 'audio-asr'
        ? Array.isArray(t.annotations) && t.annotations.length
          ? [taskObject(t, prefix)]
          : []
        : annotationObjects(t, prefix),
    );
    for (const o of objects) await store(p.source.bucket).put(o.key, o.body);
    written[p.id] = objects;
  }
  const src = store(config.projects[0].source.bucket);
  // Annotators keep working: updates (a later updated_at), deletions, and one broken object.
  const edit = (o: StorageObject, stamp: string) => {
    const body = parseJson(o.body) as JsonObject;
    body.updated_at = stamp;
    if (Array.isArray(body.annotations))
      for (const a of body.annotations) if (isJsonObject(a)) a.updated_at = stamp;
    if (typeof body.lead_time === 'number') body.lead_time += 30;
    return stringify(body, PY_JSON_COMPACT);
  };
  const img = written['image-bbox'];
  const ner = written['text-ner'];
  const asr = written['audio-asr'];
  await src.put(img[0].key, edit(img[0], '2026-02-01T09:00:00.000000Z'));
  await src.put(img[0].key, edit(img[0], '2026-02-01T09:05:00.000000Z'));
  await src.put(ner[3].key, edit(ner[3], '2026-02-01T09:10:00.000000Z'));
  await src.put(asr[2].key, edit(asr[2], '2026-02-01T09:15:00.000000Z'));
  await src.delete(img[1].key);
  await src.delete(asr[5].key);
  await src.put(`${ner[0].key.replace(/[^/]+$/, '')}9999`, '{"id": 9999, "result": [{"from_name": "ner", ');
  const changes = img.length + ner.length + asr.length + 4 + 2 + 1;
  log(
    `  Label Studio wrote ${changes} object versions under s3://${src.description.replace('s3://', '')}/ls/ (annotation and task layouts, 4 updates, 2 deletes, 1 malformed; ${doubleSlashNote(config.projects)})`,
  );

  // SQS delivers each notification at least once, in any order.
  const ingest = createIngestHandler(() => rt, obs);
  const messages = bus.take('ingest');
  const delivered: SQSRecord[] = scramble([...messages, ...messages.filter((_, i) => i % 7 === 0)]);
  let batches = 0;
  let failed = 0;
  for (let i = 0; i < delivered.length; i += 10) {
    const res = await ingest({ Records: delivered.slice(i, i + 10) });
    batches++;
    failed += res.batchItemFailures.length;
  }
  log(
    `  ingest: ${delivered.length} S3 event messages (${delivered.length - messages.length} duplicates, shuffled) in ${batches} SQS batches, ${failed} failed`,
  );

  // The render queue delays each dirty marker's event (the debounce), then renders.
  const render = createRenderHandler(() => rt, obs);
  bus.time += 61_000;
  let renders = 0;
  await bus.deliver('render', async (e) => {
    renders += e.Records.length;
    return render(e);
  });
  log(
    `  render: ${renders} render message(s) for ${config.projects.length} projects (one dirty marker per project, however many writes)`,
  );

  for (const p of config.projects) {
    const out = store(p.export.bucket);
    const paths = projectPaths(p);
    const manifest = (await readJson<Manifest>(out, paths.latestManifest))?.value;
    if (!manifest) {
      log(`  ${p.id}: no export`);
      continue;
    }
    log(
      `\n  ${p.id}: s3://${p.export.bucket}/${paths.latestManifest} — state v${manifest.state.version}, ${manifest.counts.tasks} tasks, ${manifest.counts.annotations} annotations`,
    );
    for (const f of manifest.formats) {
      const files = f.files ?? [];
      const bytes = files.reduce((n, x) => n + x.bytes, 0);
      const where =
        files.length === 1 ? files[0].key : `${manifest.prefix}${f.format}/ (${files.length} files)`;
      const zip = f.zip ? ` + ${f.zip.key} (${f.zip.bytes.toLocaleString('en-US')} bytes)` : '';
      log(
        `    ${f.format.padEnd(14)} ${f.status === 'completed' ? `${where}, ${bytes.toLocaleString('en-US')} bytes${zip}` : `skipped: ${f.reason}`}`,
      );
      for (const file of files) {
        const local = join(outRoot, p.id, 'latest', f.format, file.path);
        await mkdir(dirname(local), { recursive: true });
        await writeFile(local, await readAll((await out.get(file.key)).body));
      }
      if (f.zip)
        await writeFile(
          join(outRoot, p.id, 'latest', `${f.format}.zip`),
          await readAll((await out.get(f.zip.key)).body),
        );
    }
    for (const s of manifest.report.sourceObjects) log(`    skipped source object ${s.source}: ${s.reason}`);
    // The manifest (and demo-output/…/manifest.json) keeps the first 100 entries (task order, with
    // the full counts); the printout groups them.
    for (const g of groupByReason(manifest.report.skipped))
      log(
        `    skipped by the converter${g.count > 1 ? `, ${g.count} entries like` : ''} ${g.example.source}: ${g.example.reason}`,
      );
    await writeFile(join(outRoot, p.id, 'latest', 'manifest.json'), JSON.stringify(manifest, null, 2));
  }

  // A snapshot through the export API, as a Label Studio client would make one.
  const api = createApiHandler(() => rt, obs);
  const snapshot = createSnapshotHandler(() => rt, obs);
  const call = async (method: string, path: string, body?: unknown, query?: Record<string, string>) => {
    const res = (await api({
      rawPath: path,
      queryStringParameters: query,
      requestContext: { http: { method } },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2)) as APIGatewayProxyStructuredResultV2;
    return {
      status: res.statusCode ?? 0,
      headers: res.headers ?? {},
      json: res.body ? JSON.parse(res.body) : undefined,
    };
  };
  const work = () => bus.deliver('snapshot', (e) => snapshot(e) as never);
  const ner2 = config.projects.find((p) => p.id === 'text-ner')!;
  const base = `/api/projects/${ner2.lsProjectId}`;
  const created = await call('POST', `${base}/exports`, {
    task_filter_options: { only_with_annotations: true },
    annotation_filter_options: { usual: true },
    serialization_options: { annotations__completed_by: { only_id: false } },
    anonymize: true,
  });
  log(
    `\n  API POST ${base}/exports → ${created.status}, export ${created.json.id} "${created.json.title}" ${created.json.status}`,
  );
  await work();
  const done = await call('GET', `${base}/exports/${created.json.id}`);
  log(
    `  API GET  ${base}/exports/${created.json.id} → ${done.json.status}, ${done.json.counters.task_number} tasks, md5 ${done.json.md5}`,
  );
  const conv = await call('POST', `${base}/exports/${created.json.id}/convert`, {
    export_type: 'CONLL2003',
  });
  log(`  API POST ${base}/exports/${created.json.id}/convert CONLL2003 → ${conv.status}`);
  await work();
  for (const type of [undefined, 'CONLL2003']) {
    const dl = await call(
      'GET',
      `${base}/exports/${created.json.id}/download`,
      undefined,
      type ? { exportType: type } : undefined,
    );
    const body = Buffer.from(await (await fetch(String(dl.headers.location))).arrayBuffer());
    const file = join(outRoot, ner2.id, 'snapshots', String(dl.json.filename));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
    log(
      `  API GET  …/download${type ? `?exportType=${type}` : ''} → ${dl.status} to a presigned URL; saved ${relative(ROOT, file)} (${body.length.toLocaleString('en-US')} bytes)`,
    );
  }
  const nightly = (await snapshot({ kind: 'nightly' })) as {
    results: Array<{ project: string; status: string }>;
  };
  log(`  nightly schedule: ${nightly.results.map((r) => `${r.project} ${r.status}`).join(', ')}`);
  log(
    `\n  Each project's latest/ is mirrored under ${relative(ROOT, outRoot)}/<project>/latest/; the API downloads under ${relative(ROOT, outRoot)}/${ner2.id}/snapshots/.`,
  );
}
