/**
 * `ls-export sync --workers N`: a `latest/` render whose changed segments are rendered by worker
 * threads, so a local render uses every core (Node runs JavaScript on one thread per isolate). It
 * is the render fan-out of the AWS deployment (DESIGN.md "Render fan-out") with threads in place
 * of the Distributed Map: the same plan (planRender: lock, items, previous slices), the same
 * segment jobs (renderSegmentJobs, one segment per message, in `functions/cli/sync-worker.ts`),
 * the same commit (commitRender: assembly, manifest last). So the output is byte for byte the
 * in-process render's (test/integration/sync-threads.test.ts).
 *
 * A failed segment terminates every thread (none is left writing, unlike a Lambda of a failed
 * Map); then, as after a failed commit, Abort runs with no fence: the lock is released at once, the dirty marker rewritten and
 * the next render rewrites `latest/` in full. A render below `minSegments` changed segments, a
 * locked project or an up-to-date one goes to renderLatest, as before.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProjectConfig } from '../pipeline/config.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { readJson } from '../pipeline/object-text.ts';
import { type RenderResult, renderLatest } from '../pipeline/render.ts';
import { abortRender, commitRender } from '../pipeline/render-fanout-commit.ts';
import { planRender } from '../pipeline/render-fanout-plan.ts';
import { estimateRender } from '../pipeline/render-route.ts';
import type { SegmentJob } from '../pipeline/segments.ts';

/** What a worker thread needs to build its own pipeline context (structured-clonable). */
export interface WorkerSpec {
  /** The pipeline configuration's JSON text (parsed again in the thread). */
  configText: string;
  endpoint?: string;
  region?: string;
  emulateConditionalWrites: boolean;
}

/** Messages between the render and its threads. */
export type ToWorker = { project: string; owner: string; startedAt: string; job: SegmentJob };
export type FromWorker =
  | { done: { tasks: number } }
  | { error: string }
  | {
      log: { level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> };
    };

export interface ThreadRenderOptions {
  /** Worker threads (>= 2; with 1 the render runs in-process). */
  workers: number;
  /** Fewer changed segments than this render in-process (threads cost ≈ 0.2–0.5 s to start). */
  minSegments: number;
}

export type ThreadRenderResult = RenderResult & {
  /** Segments rendered by the threads (0: in-process) and the threads used. */
  threads: { segments: number; workers: number };
};

/**
 * Renders `project`'s `latest/`, fanning its changed segments out to `options.workers` threads
 * when the estimate reaches `options.minSegments`. Throws what the render throws; a thread's
 * failure is rethrown after Abort (the lock released, the dirty marker rewritten).
 */
export async function renderWithThreads(
  ctx: PipelineContext,
  project: ProjectConfig,
  spec: WorkerSpec,
  options: ThreadRenderOptions,
): Promise<ThreadRenderResult> {
  const inProcess = async () => ({
    ...(await renderLatest(ctx, project)),
    threads: { segments: 0, workers: 0 },
  });
  if (options.workers < 2) return inProcess();
  const est = await estimateRender(ctx, project);
  if (est.locked || est.changed < options.minSegments) return inProcess();
  const owner = `sync-${ctx.now().getTime()}-${process.pid}`;
  const plan = await planRender(ctx, project, { owner });
  if (plan.status !== 'planned')
    return { project: project.id, status: plan.status, threads: { segments: 0, workers: 0 } };
  const { ref } = plan;
  const jobs = (await readJson<SegmentJob[]>(ctx.store(ref.items.bucket), ref.items.key))?.value ?? [];
  const workers = Math.min(options.workers, jobs.length);
  let result: Awaited<ReturnType<typeof commitRender>>;
  try {
    // The plan may find fewer changed segments than the estimate (the state moved): none, no threads.
    if (workers > 0)
      await runOnThreads(
        ctx,
        spec,
        workers,
        jobs.map((job) => ({ project: project.id, owner, startedAt: ref.startedAt, job })),
      );
    result = await commitRender(ctx, project, ref);
  } catch (err) {
    // As the state machine's Catch does. No thread is left running: nothing can write after the
    // next render, so no fence is needed.
    await abortRender(ctx, project, owner, (err as Error).message, 0).catch(() => {});
    throw err;
  }
  return {
    project: result.project,
    status: result.status,
    manifest: result.manifest,
    threads: { segments: jobs.length, workers },
  };
}

/** The worker script: the bundle's `dist/cli/sync-worker.mjs`, or the TypeScript through tsx. */
function workerEntry(): { url: URL; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { url: new URL('./sync-worker.ts', here), execArgv: ['--import', tsx] };
  }
  // The bundle: dist/cli/main.mjs, its chunks in dist/cli/chunks/, the worker in dist/cli/.
  return {
    url: new URL(here.includes('/chunks/') ? '../sync-worker.mjs' : './sync-worker.mjs', here),
    execArgv: [],
  };
}

/**
 * Runs `messages` on `count` threads, each taking the next message when it finishes one. Rejects
 * with the first failure after terminating every thread.
 */
async function runOnThreads(
  ctx: PipelineContext,
  spec: WorkerSpec,
  count: number,
  messages: ToWorker[],
): Promise<void> {
  const { url, execArgv } = workerEntry();
  const queue = [...messages];
  const threads: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      const next = (w: Worker) => {
        if (failed) return;
        const m = queue.shift();
        if (!m) {
          running--;
          if (running === 0 && !failed) resolve();
          return;
        }
        w.postMessage(m);
      };
      for (let i = 0; i < count; i++) {
        const w = new Worker(url, { workerData: spec, execArgv });
        threads.push(w);
        running++;
        w.on('message', (msg: FromWorker) => {
          if ('log' in msg) ctx.log(msg.log.level, msg.log.message, msg.log.fields);
          else if ('error' in msg) fail(new Error(`segment worker thread: ${msg.error}`));
          else next(w);
        });
        w.on('error', (err) => fail(err));
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`segment worker thread exited with code ${code}`));
        });
        next(w);
      }
    });
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
