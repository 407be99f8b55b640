/**
 * Logs and metrics of the Lambda handlers through Powertools (runtime/observability.ts): the
 * lines written to stdout/stderr are JSON with the Lambda context and correlation ids, and the EMF
 * blobs (namespace LsExport) hold the metrics of an ingest batch, a render and API requests.
 */
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { mediaRefusals, recordRenders } from '../../functions/pipeline/metrics.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { createRuntime, type Runtime } from '../../functions/runtime/env.ts';
import {
  createObservability,
  type Observability,
  powertoolsLog,
  powertoolsMetrics,
} from '../../functions/runtime/observability.ts';
import { annotatedTask, makeConfig, OUT, objectsOf, SRC, TestClock } from '../pipeline/helpers.ts';
import { FakeS3, s3Error } from './fake-s3.ts';
import { s3Message, sqsEvent } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ formats: ['JSON', 'CSV'], settings: { shardTasks: 100, keyShards: 2 } });
const project = config.projects[0].id;
const paths = projectPaths(config.projects[0]);
const clock = new TestClock(Date.parse('2026-03-01T10:15:00.000Z'));

/** Everything written to stdout and stderr while a test runs, one entry per line. */
let lines: string[] = [];
const capture = (chunk: unknown) => {
  for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(l);
  return true;
};

let obs: Observability;
let rt: Runtime;

function lambdaContext(requestId: string, functionName: string): Context {
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Emf = {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }>;
  };
  [k: string]: unknown;
};
/** Every captured line parsed as JSON (a line that is not JSON fails the test). */
const json = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const emf = () => json().filter((o): o is Emf => '_aws' in o);
const logs = () => json().filter((o) => !('_aws' in o));

/** The values of a metric in the EMF blobs, for the blobs carrying exactly these dimension values. */
function metricValues(name: string, dims: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const b of emf()) {
    const meta = b._aws.CloudWatchMetrics[0];
    if (!meta.Metrics.some((m) => m.Name === name)) continue;
    const keys = meta.Dimensions[0].filter((d) => d !== 'service');
    const want = Object.keys(dims);
    if (keys.length !== want.length || !want.every((k) => b[k] === dims[k])) continue;
    const v = b[name];
    out.push(...(Array.isArray(v) ? (v as number[]) : [v as number]));
  }
  return out;
}

beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  // As in Lambda's on-demand environments (Powertools' ColdStart metric needs it).
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  obs = createObservability({ LS_EXPORT_LOG_LEVEL: 'info' });
  rt = createRuntime({
    config,
    client: s3.client,
    log: powertoolsLog(obs.logger),
    metrics: powertoolsMetrics(obs.metrics),
    now: clock.now,
    sleep: async () => {},
    storeOptions: { partSize: 5 * 1024 * 1024 },
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});
afterAll(() => s3.restore());

describe('Powertools logs and metrics', () => {
  it('an ingest batch: JSON logs with the Lambda request id, TasksIngested and ObjectsSkipped in EMF', async () => {
    const a = objectsOf(annotatedTask(1), 'task')[0];
    const b = objectsOf(annotatedTask(2), 'task')[0];
    s3.put(SRC, a.key, a.body);
    s3.put(SRC, b.key, b.body);
    s3.put(SRC, 'annotations/broken.json', '{"id": 3, "data": ');
    const msgs = [s3Message(SRC, a.key), s3Message(SRC, b.key), s3Message(SRC, 'annotations/broken.json')];
    const ingest = createIngestHandler(() => rt, obs);
    const res = await ingest(sqsEvent(...msgs), lambdaContext('req-ingest-1', 'ls-export-ingest'));
    expect(res.batchItemFailures).toEqual([]);

    expect(lines.length).toBeGreaterThan(0);
    const ingested = logs().find((l) => l.message === 'ingested')!;
    expect(ingested).toMatchObject({
      level: 'INFO',
      service: 'ls-export',
      function_request_id: 'req-ingest-1',
      function_name: 'ls-export-ingest',
      project,
      changedTasks: 2,
      malformed: 1,
    });
    expect(typeof ingested.timestamp).toBe('string');

    const blobs = emf();
    expect(blobs.every((b) => b._aws.CloudWatchMetrics[0].Namespace === 'LsExport')).toBe(true);
    expect(metricValues('TasksIngested', { project })).toEqual([2]);
    expect(metricValues('ObjectsSkipped', { project })).toEqual([1]);
    // The service totals (no project dimension), flushed by logMetrics at the end.
    expect(metricValues('TasksIngested')).toEqual([2]);
    expect(metricValues('ObjectsSkipped')).toEqual([1]);
    expect(metricValues('ColdStart', { function_name: 'ls-export-ingest' })).toEqual([1]);
  });

  it('a retried change is logged with its SQS message id and S3 key', async () => {
    const c = objectsOf(annotatedTask(4), 'task')[0];
    s3.put(SRC, c.key, c.body);
    s3.before.set('GetObject', (input) => {
      if (input.Key === c.key) throw s3Error('InternalError', 500, 'boom');
    });
    const msg = s3Message(SRC, c.key);
    const ingest = createIngestHandler(() => rt, obs);
    const res = await ingest(sqsEvent(msg), lambdaContext('req-ingest-2', 'ls-export-ingest'));
    s3.before.clear();
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: msg.messageId }]);
    const line = logs().find((l) => l.message === 'change not ingested; the message is retried')!;
    expect(line).toMatchObject({
      level: 'WARN',
      function_request_id: 'req-ingest-2',
      messageId: msg.messageId,
      bucket: SRC,
      key: c.key,
    });
  });

  it('a render: Renders, RenderLagSeconds from the state head updatedAt, RenderDurationMs, SkippedItems, MediaRefusals', async () => {
    const head = JSON.parse(s3.text(OUT, paths.head)!) as { updatedAt: string };
    clock.advance(42_000);
    const render = createRenderHandler(() => rt, obs);
    const res = await render(
      sqsEvent(s3Message(OUT, paths.dirty)),
      lambdaContext('req-render-1', 'ls-export-render'),
    );
    expect(res.batchItemFailures).toEqual([]);
    const manifest = JSON.parse(s3.text(OUT, paths.latestManifest)!) as Manifest;
    expect(manifest.state.updatedAt).toBe(head.updatedAt);

    const rendered = logs().find((l) => l.message === 'rendered')!;
    expect(rendered).toMatchObject({ function_request_id: 'req-render-1', project, tasks: 2 });
    expect(metricValues('Renders', { project })).toEqual([1]);
    expect(metricValues('Renders')).toEqual([1]);
    // The test clock stands still during the render: the lag is the 42 s the clock moved.
    expect(metricValues('RenderLagSeconds', { project })).toEqual([
      (Date.parse(manifest.timings!.finishedAt) - Date.parse(head.updatedAt)) / 1000,
    ]);
    expect(metricValues('RenderLagSeconds', { project })).toEqual([42]);
    expect(metricValues('RenderDurationMs', { project })).toEqual([manifest.timings!.ms]);
    expect(metricValues('SkippedItems', { project })).toEqual([manifest.report.skippedCount]);
    expect(metricValues('MediaRefusals', { project })).toEqual([0]);
  });

  it('MediaRefusals counts the report entries refused by the media policy', () => {
    const report = {
      skippedCount: 3,
      warningCount: 1,
      truncated: false,
      sourceObjects: [],
      skipped: [
        {
          source: 'task 1',
          reason:
            'audio unavailable, item left out: media not allowed: s3://x/a.wav: outside the allowed prefixes',
        },
        { source: 'task 2', reason: 'brush mask m.png not written: name too long' },
        { source: 'task 3', reason: 'media not allowed: http://10.0.0.1/a.png: private address' },
      ],
      warnings: [
        { source: 'task 4', reason: 'image size unknown: media not allowed: file:///etc/passwd: scheme' },
      ],
    };
    expect(mediaRefusals(report)).toBe(3);
    const manifest = {
      project,
      state: { version: 3, updatedAt: '2026-03-01T10:00:00.000Z' },
      timings: { startedAt: '2026-03-01T10:00:05.000Z', finishedAt: '2026-03-01T10:00:09.500Z', ms: 4500 },
      report,
    } as unknown as Manifest;
    recordRenders(powertoolsMetrics(obs.metrics), [manifest]);
    obs.metrics.publishStoredMetrics();
    expect(metricValues('MediaRefusals', { project })).toEqual([3]);
    expect(metricValues('SkippedItems', { project })).toEqual([3]);
    expect(metricValues('RenderLagSeconds', { project })).toEqual([9.5]);
    expect(metricValues('RenderDurationMs', { project })).toEqual([4500]);
  });

  it('API requests: correlation_id is the API Gateway request id; ApiRequests by status class', async () => {
    const api = createApiHandler(() => rt, obs);
    const event = (requestId: string, path: string) =>
      ({
        rawPath: path,
        requestContext: { requestId, http: { method: 'GET', path } },
        headers: {},
      }) as never;
    const ok = await api(event('api-req-1', '/api/version'), lambdaContext('lambda-1', 'ls-export-api'));
    const missing = await api(event('api-req-2', '/nope'), lambdaContext('lambda-2', 'ls-export-api'));
    expect(ok.statusCode).toBe(200);
    expect(missing.statusCode).toBe(404);
    expect(metricValues('ApiRequests', { statusClass: '2xx' })).toEqual([1]);
    expect(metricValues('ApiRequests', { statusClass: '4xx' })).toEqual([1]);
    expect(metricValues('ApiRequests')).toEqual([1, 1]);

    // A failing route logs its error with the request's correlation id, and the key does not leak
    // into the next invocation.
    const failing = createApiHandler(
      () => ({
        ...rt,
        ctx: {
          ...rt.ctx,
          store: () => {
            throw new Error('s3 down');
          },
        },
      }),
      obs,
    );
    lines = [];
    const r = await failing(
      event('api-req-3', `/api/projects/${project}/exports`),
      lambdaContext('lambda-3', 'ls-export-api'),
    );
    expect(r.statusCode).toBe(500);
    const err = logs().find((l) => l.message === 'API request failed')!;
    expect(err).toMatchObject({
      level: 'ERROR',
      correlation_id: 'api-req-3',
      function_request_id: 'lambda-3',
    });
    expect(metricValues('ApiRequests', { statusClass: '5xx' })).toEqual([1]);
    lines = [];
    await api(event('api-req-4', '/api/version'), lambdaContext('lambda-4', 'ls-export-api'));
    obs.logger.info('after');
    expect(logs().find((l) => l.message === 'after')!.correlation_id).toBeUndefined();
  });

  it('the log level comes from LS_EXPORT_LOG_LEVEL, else POWERTOOLS_LOG_LEVEL', () => {
    expect(createObservability({ LS_EXPORT_LOG_LEVEL: 'warn' }).logger.getLevelName()).toBe('WARN');
    const prev = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    try {
      expect(createObservability({}).logger.getLevelName()).toBe('ERROR');
      expect(createObservability({ LS_EXPORT_LOG_LEVEL: 'debug' }).logger.getLevelName()).toBe('DEBUG');
    } finally {
      if (prev === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = prev;
    }
    const quiet = createObservability({ LS_EXPORT_LOG_LEVEL: 'warn' });
    powertoolsLog(quiet.logger)('info', 'hidden');
    powertoolsLog(quiet.logger)('warn', 'shown', { project });
    expect(logs().map((l) => l.message)).toEqual(['shown']);
  });
});

describe('Invocations count (no empty EMF flush)', () => {
  /** A runtime whose pipeline records no metric (as the demo's and the CLI's). */
  const bare = () =>
    createRuntime({ config, client: s3.client, log: powertoolsLog(obs.logger), now: clock.now });

  it('every invocation flushes Invocations 1, so Powertools never warns "No application metrics to publish"', async () => {
    const quiet = bare();
    const ingest = createIngestHandler(() => quiet, obs);
    await ingest(sqsEvent(), lambdaContext('req-empty-1', 'ls-export-ingest'));
    await ingest(sqsEvent(), lambdaContext('req-empty-2', 'ls-export-ingest'));
    expect(metricValues('Invocations')).toEqual([1, 1]);
    expect(logs().filter((l) => String(l.message).includes('No application metrics'))).toEqual([]);
  });
});
