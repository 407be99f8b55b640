/**
 * A label config uploaded in place (`labelConfig.s3`) on the local S3 server (fauxqs): its S3 event
 * reaches ingest (notifications.ts routes the object's key), which marks the project dirty; the
 * debounced render sees a digest other than the one `latest/manifest.json` records and re-renders,
 * in the same warm context that rendered the old config. The result equals a from-scratch render
 * with the new config byte for byte; an unchanged config stays "up to date".
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONFIGS } from '../../bench/generate.ts';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import { type PipelineConfig, parseConfig } from '../../functions/pipeline/config.ts';
import { LabelConfigChangedError } from '../../functions/pipeline/errors.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { labelConfigDigest } from '../../functions/pipeline/label-config.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { type InflightDoc, renderLatest } from '../../functions/pipeline/render.ts';
import { abortRender } from '../../functions/pipeline/render-fanout-commit.ts';
import type { FanoutRef } from '../../functions/pipeline/render-fanout-job.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import {
  bucketNames,
  createBuckets,
  type LocalRuntime,
  localRuntime,
  s3Client,
} from '../integration/helpers.ts';
import { annotatedTask, lsTask, objectsOf, readJsonObject, readText } from './helpers.ts';

const CONFIG_KEY = 'label-configs/news.xml';
const OLD = CONFIGS['text-ner'];
/** The NER control renamed: the annotations' `from_name: "ner"` results no longer match it. */
const NEW = OLD.replace('name="ner"', 'name="entities"');
const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003'];

let client: S3Client;
let names: ReturnType<typeof bucketNames>;
let config: PipelineConfig;
let rt: LocalRuntime;

function configFor(exportBucket: string): PipelineConfig {
  return parseConfig({
    version: 1,
    projects: [
      {
        id: 'news',
        source: { bucket: names.src, prefix: 'ls' },
        labelConfig: { s3: `s3://${names.out}/${CONFIG_KEY}` },
        formats: FORMATS,
        export: { bucket: exportBucket, prefix: 'exports' },
      },
    ],
    settings: { shardTasks: 4, keyShards: 4 },
  });
}

beforeAll(() => {
  client = s3Client();
});

beforeEach(async () => {
  names = bucketNames();
  await createBuckets(client, [names.src, names.out]);
  config = configFor(names.out);
  rt = localRuntime(client, config);
  rt.bus.subscribe(
    notificationRoutes(config).filter((r) => r.target !== 'snapshot'),
    { delaySeconds: { render: 60 } },
  );
});

const project = () => config.projects[0];
const paths = () => projectPaths(project());
const out = () => rt.ctx.store(names.out);

/** Hands the ingest queue to the ingest handler. */
async function ingest(): Promise<void> {
  const handler = createIngestHandler(() => rt);
  await rt.bus.deliver('ingest', (e: SQSEvent) => handler(e, {} as never));
}

/** Lets the render queue's delay pass and hands it to the render handler; returns the messages. */
async function renders(): Promise<number> {
  rt.bus.time += 61_000;
  let n = 0;
  const handler = createRenderHandler(() => rt);
  await rt.bus.deliver('render', async (e: SQSEvent) => {
    n += e.Records.length;
    return handler(e, {} as never);
  });
  return n;
}

const manifest = () => readJsonObject<Manifest>(out(), paths().latestManifest);

/** Every file of every format of a manifest: path → bytes, read from its bucket. */
async function files(rtx: LocalRuntime, bucket: string, m: Manifest): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const f of m.formats)
    for (const x of f.files ?? [])
      all.set(`${f.format}/${x.path}`, await readText(rtx.ctx.store(bucket), x.key));
  return all;
}

/**
 * Renders the same source objects with the label config now stored into another export bucket,
 * from scratch, and expects `m`'s files (every format) to equal its files byte for byte.
 */
async function expectFromScratch(m: Manifest): Promise<void> {
  const scratchBucket = `${names.out}-${Math.random().toString(16).slice(2, 6)}`;
  await createBuckets(client, [scratchBucket]);
  const scratch = localRuntime(client, configFor(scratchBucket));
  const keys: string[] = [];
  for await (const o of scratch.ctx.store(names.src).list('ls/')) keys.push(o.key);
  await ingestChanges(
    scratch.ctx,
    keys.map((key, i) => ({
      bucket: names.src,
      key,
      kind: 'created',
      sequencer: String(i + 1).padStart(4, '0'),
    })),
  );
  const fresh = await renderLatest(scratch.ctx, scratch.ctx.config.projects[0]);
  expect(fresh.status).toBe('rendered');
  const mine = await files(rt, names.out, m);
  const scratchFiles = await files(scratch, scratchBucket, fresh.manifest!);
  expect([...mine.keys()].sort()).toEqual([...scratchFiles.keys()].sort());
  for (const [path, text] of scratchFiles) expect(mine.get(path), path).toBe(text);
  expect(m.formats.map((f) => [f.format, f.status])).toEqual(
    fresh.manifest!.formats.map((f) => [f.format, f.status]),
  );
}

/** Source objects of a few annotated tasks, written the way Label Studio does. */
async function labelStudioWrites(): Promise<void> {
  const src = rt.ctx.store(names.src);
  const tasks = [1, 2, 3, 4, 5, 6].map((i) => annotatedTask(i));
  tasks.push(lsTask(7));
  for (const o of tasks.flatMap((t) => objectsOf(t, 'annotation', 'ls'))) await src.put(o.key, o.body);
}

describe('label config upload', () => {
  it('marks the project dirty; the next render equals a from-scratch render with the new config', async () => {
    await out().put(CONFIG_KEY, OLD);
    await labelStudioWrites();
    await ingest();
    expect(await renders()).toBe(1);
    const before = await manifest();
    expect(before.labelConfig).toEqual({ sha256: labelConfigDigest(OLD) });
    const oldFiles = await files(rt, names.out, before);

    // The operator overwrites the config in place; its event goes to ingest, which marks the project.
    await out().put(CONFIG_KEY, NEW);
    expect(rt.bus.pending('ingest')).toBe(1);
    await ingest();
    expect(await out().head(paths().dirty)).toBeDefined();
    expect(await renders()).toBe(1);
    const after = await manifest();
    expect(after.id).not.toBe(before.id);
    expect(after.state.version).toBe(before.state.version);
    expect(after.labelConfig).toEqual({ sha256: labelConfigDigest(NEW) });
    const newFiles = await files(rt, names.out, after);
    // The change shows in the output (CONLL2003 loses the NER tags), so the comparison below means something.
    expect(newFiles.get('CONLL2003/result.conll')).not.toBe(oldFiles.get('CONLL2003/result.conll'));

    await expectFromScratch(after);
  });

  it('an explicit render after an upload re-renders in the same (warm) context; an unchanged config stays up to date', async () => {
    await out().put(CONFIG_KEY, OLD);
    await labelStudioWrites();
    await ingest();
    const first = await renderLatest(rt.ctx, project());
    expect(first.status).toBe('rendered');
    expect(await renders()).toBe(1); // the ingest's marker: already rendered

    // The same bytes uploaded again: the project is marked dirty, the render finds nothing to do.
    await out().put(CONFIG_KEY, OLD);
    await ingest();
    expect(await renders()).toBe(1);
    expect((await manifest()).id).toBe(first.manifest!.id);
    expect((await renderLatest(rt.ctx, project())).status).toBe('up-to-date');

    // A new config, with the context that parsed the old one: no stale copy answers "up to date".
    await out().put(CONFIG_KEY, NEW);
    const second = await renderLatest(rt.ctx, project());
    expect(second.status).toBe('rendered');
    expect(second.manifest!.labelConfig).toEqual({ sha256: labelConfigDigest(NEW) });
    expect((await renderLatest(rt.ctx, project())).status).toBe('up-to-date');
  });

  it('a malformed upload is acknowledged by the ingest handler and renders nothing', async () => {
    await out().put(CONFIG_KEY, OLD);
    await labelStudioWrites();
    await ingest();
    expect(await renders()).toBe(1);
    const before = await manifest();

    await out().put(CONFIG_KEY, '<View><Labels name="ner" toName="text"><Label value="PER"/>');
    const handler = createIngestHandler(() => rt);
    const batches: unknown[] = [];
    await rt.bus.deliver('ingest', async (e: SQSEvent) => {
      const r = await handler(e, {} as never);
      batches.push(r);
      return r;
    });
    expect(batches).toEqual([{ batchItemFailures: [] }]);
    expect(await out().head(paths().dirty)).toBeUndefined();
    expect(rt.bus.pending('render')).toBe(0);
    expect((await manifest()).id).toBe(before.id);
  });

  it('fan-out: the plan sees the change and records its digest; a worker finding another config fails', async () => {
    await out().put(CONFIG_KEY, OLD);
    await labelStudioWrites();
    await ingest();
    expect((await renderLatest(rt.ctx, project())).status).toBe('rendered');
    expect((await planRender(rt.ctx, project(), { owner: 'exec-1' })).status).toBe('up-to-date');

    await out().put(CONFIG_KEY, NEW);
    const plan = await planRender(rt.ctx, project(), { owner: 'exec-2' });
    expect(plan.status).toBe('planned');
    const ref = (plan as { ref: FanoutRef }).ref;
    const record = await readJsonObject<InflightDoc>(out(), paths().renderInflight);
    expect(record.labelConfigSha256).toBe(labelConfigDigest(NEW));
    // Another upload after the plan: the segment workers find a digest other than the plan's and
    // fail (they used to render with it while the commit recorded the plan's digest); the
    // execution is aborted and the next render renders with the newer config.
    const NEWER = NEW.replace('name="sentiment"', 'name="mood"');
    await out().put(CONFIG_KEY, NEWER);
    const jobs = await readJsonObject<SegmentJob[]>(rt.ctx.store(ref.items.bucket), ref.items.key);
    await expect(renderSegmentJobs(rt.ctx, project(), ref, jobs)).rejects.toThrow(LabelConfigChangedError);
    await abortRender(rt.ctx, project(), ref.owner, 'States.TaskFailed', 0);
    const next = await renderLatest(rt.ctx, project());
    expect(next.status).toBe('rendered');
    expect(next.manifest!.labelConfig).toEqual({ sha256: labelConfigDigest(NEWER) });
    await expectFromScratch(next.manifest!);
  });

  it('a manifest written before the digest was recorded is not current', async () => {
    await out().put(CONFIG_KEY, OLD);
    await labelStudioWrites();
    await ingest();
    const first = await renderLatest(rt.ctx, project());
    const { labelConfig: _dropped, ...older } = first.manifest!;
    await out().put(paths().latestManifest, JSON.stringify(older));
    const next = await renderLatest(rt.ctx, project());
    expect(next.status).toBe('rendered');
    expect(next.manifest!.labelConfig).toEqual({ sha256: labelConfigDigest(OLD) });
    // Same config, same state: every file is left as it was.
    expect(next.manifest!.changes!.written).toBe(0);
  });
});
