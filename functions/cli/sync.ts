/**
 * `ls-export sync`: ingest + render against any S3 endpoint, without events. For each project of
 * the pipeline configuration: a project without state is rebuilt from a full listing; otherwise
 * the listing is compared with the state's recorded ETags and only new or changed objects are
 * read (deleted keys are removed). Then `latest/` is rendered (manifest last).
 */

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConfigError, type PipelineConfig, type ProjectConfig, parseConfig } from '../pipeline/config.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { LabelConfigUnavailableError } from '../pipeline/errors.ts';
import { findProject, parseS3Url } from '../pipeline/paths.ts';
import { syncProject } from '../pipeline/sync.ts';
import { createRuntime } from '../runtime/env.ts';
import { CliError, labelConfigInputError, UsageError } from './errors.ts';
import { cliPipelineLog } from './pipeline-log.ts';
import { renderWithThreads, type WorkerSpec } from './render-threads.ts';
import { s3Client } from './s3-client.ts';
import { terminalSafe } from './terminal.ts';

const argsSchema = z.object({
  config: z
    .string({ error: 'missing -c/--config (the pipeline configuration JSON, a file or s3:// key)' })
    .min(1),
  project: z.array(z.string()).default([]),
  endpoint: z.url().optional(),
  region: z.string().optional(),
  full: z.boolean().default(false),
  render: z.boolean().default(true),
  emulateConditionalWrites: z.boolean().default(false),
  quiet: z.boolean().default(false),
  workers: z.coerce
    .number({ error: '--workers needs a whole number from 1 to 64' })
    .int({ error: '--workers needs a whole number from 1 to 64' })
    .min(1, { error: '--workers needs a whole number from 1 to 64' })
    .max(64, { error: '--workers needs a whole number from 1 to 64' })
    .default(() => defaultWorkers()),
});
export type SyncArgs = z.infer<typeof argsSchema>;

export function syncArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SyncArgs {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        project: { type: 'string', short: 'p', multiple: true },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        full: { type: 'boolean' },
        'no-render': { type: 'boolean' },
        'emulate-conditional-writes': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        workers: { type: 'string' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const r = argsSchema.safeParse({
    config: values.config,
    project: values.project,
    endpoint: values.endpoint ?? env.AWS_ENDPOINT_URL_S3,
    region: values.region ?? env.AWS_REGION,
    full: values.full,
    render: !values['no-render'],
    emulateConditionalWrites: values['emulate-conditional-writes'],
    quiet: values.quiet,
    workers: values.workers,
  });
  if (!r.success) throw new UsageError(r.error.issues[0].message);
  return r.data;
}

/**
 * Threads rendering segments unless `--workers` says otherwise: 1 (in this thread). Threads pay for
 * storing each segment's output and reading it back in the commit (as the AWS fan-out does): on
 * this project's 2-vCPU machine, with the S3 server on the same cores, they were slower, loaded or quiet
 * (docs/PERFORMANCE.md), so they are opt-in.
 */
export function defaultWorkers(): number {
  return 1;
}

/** Changed segments from which `sync` renders on threads (fewer: in-process, threads cost their start). */
export const THREAD_MIN_SEGMENTS = 4;

export function syncClient(args: SyncArgs, env: NodeJS.ProcessEnv = process.env): S3Client {
  return s3Client({ endpoint: args.endpoint, region: args.region }, env);
}

async function loadConfig(
  location: string,
  client: S3Client,
): Promise<{ config: PipelineConfig; text: string }> {
  let text: string;
  try {
    if (location.startsWith('s3://')) {
      const { bucket, prefix: key } = parseS3Url(location);
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = await r.Body!.transformToString('utf8');
    } else text = await readFile(location, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the configuration ${location}: ${(err as Error).message}`);
  }
  try {
    return { config: parseConfig(text), text };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * Syncs (and renders, unless --no-render) each project of `args`; `out` gets the progress lines and
 * the pipeline's warnings/errors (cliPipelineLog), one line each. Throws CliError for an unreadable
 * configuration or an unknown project; S3 errors propagate.
 */
export async function runSync(
  args: SyncArgs,
  out: (line: string) => void = (l) => process.stderr.write(`${terminalSafe(l)}\n`),
): Promise<void> {
  const client = syncClient(args);
  const { config, text } = await loadConfig(args.config, client);
  const workerSpec: WorkerSpec = {
    configText: text,
    endpoint: args.endpoint,
    region: args.region,
    emulateConditionalWrites: args.emulateConditionalWrites,
  };
  const projects = args.project.length
    ? args.project.map((id) => {
        const p = findProject(config, id);
        if (!p)
          throw new CliError(
            `no project "${id}" in ${args.config} (have: ${config.projects.map((x) => x.id).join(', ')})`,
          );
        return p;
      })
    : config.projects;
  const { ctx } = createRuntime({
    config,
    client,
    // Pipeline warnings and errors as one human line each on stderr (-q: errors only).
    log: cliPipelineLog(args.quiet, out),
    storeOptions: { emulateConditionalWrites: args.emulateConditionalWrites },
  });
  const log = args.quiet ? () => {} : out;
  for (const project of projects) {
    try {
      await syncOne(ctx, project, args, workerSpec, log);
    } catch (err) {
      // A label config that cannot be used is the user's input: one sentence naming it, exit 2.
      if (err instanceof LabelConfigUnavailableError) {
        const where = 's3' in project.labelConfig ? project.labelConfig.s3 : `inline in ${args.config}`;
        throw labelConfigInputError(`of project ${project.id} (${where})`, err.reason);
      }
      throw err;
    }
  }
}

/** Syncs and (unless --no-render) renders one project, printing its progress lines through `log`. */
async function syncOne(
  ctx: PipelineContext,
  project: ProjectConfig,
  args: SyncArgs,
  workerSpec: WorkerSpec,
  log: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  const s = await syncProject(ctx, project, { full: args.full });
  const how =
    s.mode === 'rebuild'
      ? `rebuilt from ${s.listed} objects`
      : `${s.listed} objects listed, ${s.objectsRead} read, ${s.deleted} deleted, ${s.commit?.changedTasks ?? 0} tasks changed`;
  log(`${project.id}: ${how} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (!args.render) return;
  const r = await renderWithThreads(ctx, project, workerSpec, {
    workers: args.workers,
    minSegments: THREAD_MIN_SEGMENTS,
  });
  const m = r.manifest;
  if (!m) {
    log(`${project.id}: render ${r.status}`);
    return;
  }
  log(
    `${project.id}: latest ${r.status} — state v${m.state.version}, ${m.counts.tasks} tasks, ${m.counts.annotations} annotations${
      r.threads.segments ? ` (${r.threads.segments} segments rendered on ${r.threads.workers} threads)` : ''
    }`,
  );
  for (const f of m.formats) {
    const files = f.files ?? [];
    const bytes = files.reduce((n, x) => n + x.bytes, 0);
    log(
      `  ${f.format.padEnd(14)} ${f.status === 'completed' ? `${files.length} file(s), ${bytes.toLocaleString('en-US')} bytes` : `skipped: ${f.reason}`}`,
    );
  }
  log(`  manifest: s3://${project.export.bucket}/${m.prefix}manifest.json`);
  const skipped = m.report.sourceObjects.length + m.report.skippedCount;
  if (skipped) log(`  skipped: ${skipped} (see the manifest's report)`);
}
