/**
 * One render fan-out segment worker in its own process (what one Distributed Map child does): reads
 * a job file (argv[2], JSON: `{ store: StoreSpec, config, project, owner, startedAt, jobs }`), runs
 * `renderSegmentJobs` on the jobs (one ItemBatcher batch) and prints one JSON line: the counts it
 * returns, wall and CPU seconds, requests and bytes at the ObjectStore boundary, and its own peak
 * RSS (VmHWM from /proc/self/status, KiB; getrusage's maxRSS where there is no /proc).
 *
 * Run by bench/pipeline.ts (`runRenderBench`, bundled with esbuild as the Lambda is, so tsx's
 * loader is not in the measured memory).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../functions/pipeline/config.ts';
import { renderSegmentJobs } from '../functions/pipeline/render-fanout-segments.ts';
import type { SegmentJob } from '../functions/pipeline/segments.ts';
import { benchRuntime, type StoreSpec } from './bench-runtime.ts';
import { zero } from './counting-store.ts';

interface WorkerJob {
  store: StoreSpec;
  config: unknown;
  project: string;
  owner: string;
  startedAt: string;
  jobs: SegmentJob[];
}

/** This process's peak resident set (KiB). */
export function peakRssKiB(): number {
  try {
    const m = /VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}

const file = process.argv[2];
if (!file) throw new Error('usage: segment-worker <job.json>');
const job = JSON.parse(readFileSync(file, 'utf8')) as WorkerJob;
const config = parseConfig(job.config);
const project = config.projects.find((p) => p.id === job.project);
if (!project) throw new Error(`project ${job.project} is not in the job's config`);
const count = zero();
const rt = benchRuntime(config, job.store, count);
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const out = await renderSegmentJobs(
  rt.ctx,
  project,
  { owner: job.owner, startedAt: job.startedAt },
  job.jobs,
);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ ...out, secs, cpuSecs: (cpu.user + cpu.system) / 1e6, count, peakRssKiB: peakRssKiB() })}\n`,
);
