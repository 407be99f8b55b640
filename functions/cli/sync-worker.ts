/**
 * One segment worker thread of `ls-export sync --workers N` (render-threads.ts): builds its own
 * pipeline context from the WorkerSpec it is started with (the configuration's text, the S3
 * endpoint and region; credentials from the environment, as the CLI's), then renders each segment
 * job it is sent with renderSegmentJobs — what a Distributed Map child does in the AWS deployment —
 * and answers `{done}` or `{error}`. Pipeline log lines go to the parent thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseConfig } from '../pipeline/config.ts';
import { renderSegmentJobs } from '../pipeline/render-fanout-segments.ts';
import { createRuntime } from '../runtime/env.ts';
import type { FromWorker, ToWorker, WorkerSpec } from './render-threads.ts';
import { s3Client } from './s3-client.ts';

const port = parentPort;
if (!port) throw new Error('sync-worker runs as a worker thread of ls-export sync');
const spec = workerData as WorkerSpec;
const config = parseConfig(spec.configText);
const send = (m: FromWorker) => port.postMessage(m);
const { ctx } = createRuntime({
  config,
  client: s3Client({ endpoint: spec.endpoint, region: spec.region }, process.env),
  log: (level, message, fields) => send({ log: { level, message, ...(fields ? { fields } : {}) } }),
  storeOptions: { emulateConditionalWrites: spec.emulateConditionalWrites },
});

port.on('message', (m: ToWorker) => {
  const project = config.projects.find((p) => p.id === m.project);
  const run = project
    ? renderSegmentJobs(ctx, project, { owner: m.owner, startedAt: m.startedAt }, [m.job])
    : Promise.reject(new Error(`project ${m.project} is not in the configuration`));
  run.then(
    (r) => send({ done: { tasks: r.tasks } }),
    (err: unknown) => send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
