/**
 * A label config uploaded during a render (QA s6 F3). The render records the digest it read first;
 * the segments used to load the config again, so a render could publish output of config B under
 * digest A, and once the operator reverted to A every later render was "up-to-date". Now each
 * step loads the config expecting the recorded digest and fails with LabelConfigChangedError; the
 * next render renders with one config.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { taskObject } from '../../functions/local/label-studio-storage.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { LabelConfigChangedError } from '../../functions/pipeline/errors.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { abortRender, commitRender } from '../../functions/pipeline/render-fanout-commit.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { change, fsContext, OUT, readJsonObject, readText, SRC, tempDir } from './helpers.ts';
import { compareLatest } from './latest-compare.ts';

const CFG_BUCKET = 'ls-config';
const KEY = 'label.xml';
const A =
  '<View><Text name="text" value="$text"/><Choices name="s" toName="text"><Choice value="pos"/><Choice value="neg"/></Choices></View>';
// B renames the control: results of "s" are no longer read (CSV and JSON_MIN lose the column).
const B =
  '<View><Text name="text" value="$text"/><Choices name="t" toName="text"><Choice value="pos"/></Choices></View>';

/** The config bucket; the label config is replaced by `swap.to` just before its read number `swap.at`. */
class SwapStore extends FsObjectStore {
  reads = 0;
  swap?: { at: number; to: string };
  override async get(key: string, range?: { start: number; end: number }) {
    if (key === KEY) {
      this.reads++;
      if (this.swap && this.reads === this.swap.at) await super.put(KEY, this.swap.to);
    }
    return super.get(key, range);
  }
}

const stamp = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000000Z`;
const task = (id: number, choice: string, n: number) =>
  parseJson(
    JSON.stringify({
      id,
      data: { text: `t${id}` },
      annotations: [
        {
          id: 100 + id + n * 1000,
          completed_by: 1,
          result: [
            { id: 'r', type: 'choices', from_name: 's', to_name: 'text', value: { choices: [choice] } },
          ],
          updated_at: stamp(n),
        },
      ],
      updated_at: stamp(n),
    }),
  ) as JsonObject;

async function env() {
  const root = await tempDir();
  const ctx = fsContext(
    root,
    parseConfig({
      version: 1,
      projects: [
        {
          id: 'proj',
          lsProjectId: 7,
          source: { bucket: SRC, prefix: 'annotations' },
          labelConfig: { s3: `s3://${CFG_BUCKET}/${KEY}` },
          formats: ['JSON', 'JSON_MIN', 'CSV', 'TSV'],
          export: { bucket: OUT, prefix: 'exports' },
        },
      ],
      settings: { shardTasks: 2, keyShards: 3 },
    }),
  );
  const cfg = new SwapStore(join(root, CFG_BUCKET));
  ctx.stores.set(CFG_BUCKET, cfg);
  await cfg.put(KEY, A);
  const put = async (t: JsonObject) => {
    const o = taskObject(t, 'annotations');
    await ctx.store(SRC).put(o.key, o.body);
    await ingestChanges(ctx, [change(o.key)]);
  };
  for (let id = 1; id <= 8; id++) await put(task(id, id % 2 ? 'pos' : 'neg', id));
  const p = ctx.config.projects[0];
  const side = { store: ctx.store(OUT), paths: projectPaths(p) };
  return { ctx, cfg, p, put, side };
}

/** A from-scratch render of the same tasks (task 3 changed) at the time of `e`'s manifest. */
async function reference(e: Awaited<ReturnType<typeof env>>) {
  const created = Date.parse(
    (await readJsonObject<{ createdAt: string }>(e.ctx.store(OUT), projectPaths(e.p).latestManifest))
      .createdAt,
  );
  const ref = await env();
  await ref.put(task(3, 'neg', 9));
  ref.ctx.clock.t = created;
  await renderLatest(ref.ctx, ref.p, { segmentShards: 1 });
  return ref;
}

/** A project rendered once, then task 3 changed: the render under test has one segment to render. */
async function afterOneChange() {
  const e = await env();
  await renderLatest(e.ctx, e.p, { segmentShards: 1 });
  await e.put(task(3, 'neg', 9));
  e.ctx.clock.advance(60_000);
  return e;
}

/** A fan-out plan of `e` by `owner` and its segment jobs. */
async function plan(e: Awaited<ReturnType<typeof env>>, owner: string) {
  const planned = await planRender(e.ctx, e.p, { owner, segmentShards: 1 });
  if (planned.status !== 'planned') throw new Error(planned.status);
  const items = await readJsonObject<SegmentJob[]>(
    e.ctx.store(planned.ref.items.bucket),
    planned.ref.items.key,
  );
  return { ref: planned.ref, items };
}

describe('a label config uploaded during a render, then reverted', () => {
  it('in-process: the render fails instead of publishing config B under digest A; the next render equals a from-scratch one', async () => {
    const e = await afterOneChange();
    const manifestBefore = await readText(e.ctx.store(OUT), projectPaths(e.p).latestManifest);
    e.cfg.reads = 0;
    e.cfg.swap = { at: 2, to: B }; // right after the render read the digest
    await expect(renderLatest(e.ctx, e.p, { segmentShards: 1 })).rejects.toThrow(LabelConfigChangedError);
    e.cfg.swap = undefined;
    expect(await readText(e.ctx.store(OUT), projectPaths(e.p).latestManifest)).toBe(manifestBefore);
    await e.cfg.put(KEY, A); // reverted
    e.ctx.clock.advance(60_000);
    expect((await renderLatest(e.ctx, e.p, { segmentShards: 1 })).status).toBe('rendered');
    const ref = await reference(e);
    expect((await compareLatest('in-process', e.side, ref.side)).findings).toEqual([]);
  });

  it('fan-out: a segment worker that finds another config fails; after Abort the next render equals a from-scratch one', async () => {
    const e = await afterOneChange();
    const { ref, items } = await plan(e, 'x1');
    await e.cfg.put(KEY, B); // uploaded after the plan
    await expect(renderSegmentJobs(e.ctx, e.p, ref, items)).rejects.toThrow(LabelConfigChangedError);
    await abortRender(e.ctx, e.p, 'x1', 'States.TaskFailed', 0);
    await e.cfg.put(KEY, A); // reverted
    e.ctx.clock.advance(60_000);
    expect((await renderLatest(e.ctx, e.p, { segmentShards: 1 })).status).toBe('rendered');
    const scratch = await reference(e);
    expect((await compareLatest('fan-out', e.side, scratch.side)).findings).toEqual([]);
  });

  it("fan-out: the commit also renders with the plan's config only", async () => {
    const e = await afterOneChange();
    const { ref, items } = await plan(e, 'x2');
    await renderSegmentJobs(e.ctx, e.p, ref, items);
    await e.cfg.put(KEY, B); // uploaded between the workers and the commit
    await expect(commitRender(e.ctx, e.p, ref)).rejects.toThrow(LabelConfigChangedError);
  });
});
