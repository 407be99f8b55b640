/**
 * `bench/pipeline.ts --fanout-commit`: a fan-out render of every segment with the manifest and
 * segment index deleted first (so every file is written), the segments rendered by
 * renderSegmentJobs in this process (not counted), then the commit alone, counted and timed.
 */
import { writeFileSync } from 'node:fs';
import type { parseConfig } from '../functions/pipeline/config.ts';
import { commitRender } from '../functions/pipeline/render-fanout-commit.ts';
import { planRender } from '../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../functions/pipeline/render-fanout-segments.ts';
import { type SegmentJob, segmentIndexKey } from '../functions/pipeline/segments.ts';
import { projectStore } from '../functions/pipeline/state.ts';
import type { benchRuntime } from './bench-runtime.ts';
import { type Counter, zero } from './counting-store.ts';

const mb = (n: number) => (n / 1e6).toFixed(1);
const fmt = (n: number) => n.toLocaleString('en-US');

/** The table's title and header lines for `storeName`. */
export function fanoutCommitHeader(storeName: string): string[] {
  return [
    `Fan-out commit of a first render (every segment rendered by workers, every file written; ${storeName}):`,
    '',
    '| tasks | segments | commit s | commit CPU s | GET / PUT | MB read | MB written | spool peak MB | held peak MB | largest aggregate file MB | aggregate files MB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
}

/**
 * A forced fan-out render (every segment by workers in this process, uncounted), then the commit
 * alone, counted and timed (wall and this process's CPU).
 */
export async function measureFanoutCommit(
  n: number,
  raw: ReturnType<typeof benchRuntime>,
  rt: ReturnType<typeof benchRuntime>,
  c: Counter,
  project: ReturnType<typeof parseConfig>['projects'][number],
  perBatch: number,
): Promise<string> {
  const owner = `bench-fanout-${n}`;
  // Without a previous manifest and segment index: every file is written, as on a first render.
  const ps = projectStore(raw.ctx, project);
  await ps.store.delete(ps.paths.latestManifest);
  await ps.store.delete(segmentIndexKey(ps.paths.state));
  const plan = await planRender(raw.ctx, project, { owner, force: true });
  if (plan.status !== 'planned') throw new Error(`fan-out not planned: ${plan.status}`);
  const itemsBody = await raw.ctx.store(plan.ref.items.bucket).get(plan.ref.items.key);
  const chunks: Uint8Array[] = [];
  for await (const x of itemsBody.body) chunks.push(x);
  const items = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SegmentJob[];
  for (let i = 0; i < items.length; i += perBatch)
    await renderSegmentJobs(raw.ctx, project, plan.ref, items.slice(i, i + perBatch));
  Object.assign(c, zero());
  // LS_EXPORT_BENCH_COMMIT_PROFILE=<file>: a CPU profile of the commit alone (node:inspector).
  const profileTo = process.env.LS_EXPORT_BENCH_COMMIT_PROFILE;
  const session = profileTo ? new (await import('node:inspector/promises')).Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  const r = await commitRender(rt.ctx, project, plan.ref);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (session && profileTo) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
    session.disconnect();
  }
  const seg = r.manifest?.timings?.segments;
  const aggregate = /(^|\/)(result\.(json|csv|tsv|conll)|manifest\.jsonl?|classes\.txt|notes\.json)$/;
  const sizes = (r.manifest?.formats ?? []).flatMap((f) =>
    (f.files ?? []).filter((x) => aggregate.test(x.path)).map((x) => x.bytes),
  );
  const row = `| ${fmt(n)} | ${fmt(items.length)} | ${secs.toFixed(2)} | ${((cpu.user + cpu.system) / 1e6).toFixed(2)} | ${fmt(c.gets)} / ${fmt(c.puts)} | ${mb(c.getBytes)} | ${mb(c.putBytes)} | ${mb(seg?.spoolPeakBytes ?? 0)} | ${mb(seg?.peakHeldBytes ?? 0)} | ${mb(Math.max(0, ...sizes))} | ${mb(sizes.reduce((a, b) => a + b, 0))} |`;
  console.error(`  [fan-out commit: ${row}]`);
  return row;
}
