/**
 * The render handler against a mocked S3: a multipart part that fails (the upload is aborted and
 * the published export does not move), a busy project (rescheduled, not failed), a lost render lock.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { rebuildProject } from '../../functions/pipeline/rebuild.ts';
import { lsTask, makeConfig, OUT, objectsOf, SRC, TestClock } from '../pipeline/helpers.ts';
import { FakeS3, s3Error } from './fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ formats: ['JSON', 'CSV'], settings: { shardTasks: 200, keyShards: 4 } });
const clock = new TestClock(Date.now());
const rt = mockRuntime(s3, config, clock);
const render = createRenderHandler(() => rt);
const paths = projectPaths(config.projects[0]);
const manifest = () => JSON.parse(s3.text(OUT, paths.latestManifest) ?? 'null') as Manifest | null;

afterAll(() => s3.restore());

beforeAll(async () => {
  // Enough tasks for a JSON export of more than one 5 MiB part.
  for (let i = 1; i <= 1700; i++) {
    const o = objectsOf(lsTask(i, 3), 'task')[0];
    s3.put(SRC, o.key, o.body);
  }
  await rebuildProject(rt.ctx, config.projects[0]);
});

describe('render handler', () => {
  it('renders a project named by its dirty marker, with multipart uploads, manifest last', async () => {
    const res = await render(sqsEvent(s3Message(OUT, paths.dirty)));
    expect(res.batchItemFailures).toEqual([]);
    const m = manifest()!;
    expect(m.counts.tasks).toBe(1700);
    const json = m.formats.find((f) => f.format === 'JSON')!.files![0];
    expect(json.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(s3.mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { Key: json.key });
    expect(s3.objects.get(FakeS3.id(OUT, json.key))!.etag).toMatch(/-2"$/);
    expect(s3.text(OUT, paths.dirty)).toBeUndefined();
    expect(s3.text(OUT, paths.lock)).toBeUndefined();
  });

  it('aborts the upload when a part fails, fails the message, and leaves the published export intact', async () => {
    const before = manifest()!;
    const beforeJson = s3.text(OUT, before.formats[0].files![0].key);
    // New state version, so the render has work to do.
    const o = objectsOf(lsTask(5000, 3), 'task')[0];
    s3.put(SRC, o.key, o.body);
    const { ingestChanges } = await import('../../functions/pipeline/ingest.ts');
    await ingestChanges(rt.ctx, [{ bucket: SRC, key: o.key, kind: 'created', sequencer: '01' }]);
    s3.mock.resetHistory();
    let parts = 0;
    s3.before.set('UploadPart', (input) => {
      if (String(input.Key).endsWith('result.json') && ++parts === 2)
        throw s3Error('InternalError', 500, 'part failed');
    });
    const msg = s3Message(OUT, paths.dirty);
    const res = await render(sqsEvent(msg));
    s3.before.clear();
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: msg.messageId }]);
    expect(s3.mock).toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3.mock.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(2);
    expect(manifest()).toEqual(before);
    // The aborted upload never replaced the object under the fixed key.
    expect(before.formats[0].files![0].key).toBe(`${paths.latest}JSON/result.json`);
    expect(s3.text(OUT, before.formats[0].files![0].key)).toBe(beforeJson);
    // No key beyond the published ones appeared; the lock is free for the retry, and the in-flight
    // record tells the retry that the keys may no longer match the manifest.
    const published = before.formats.flatMap((f) => (f.files ?? []).map((x) => x.key));
    expect(s3.keys(OUT, paths.latest)).toEqual([...published, paths.latestManifest].sort());
    expect(s3.text(OUT, paths.lock)).toBeUndefined();
    expect(s3.text(OUT, paths.renderInflight)).toBeDefined();
    // SQS redelivers: this time it works, rewriting every file.
    expect((await render(sqsEvent(msg))).batchItemFailures).toEqual([]);
    expect(manifest()!.counts.tasks).toBe(1701);
    expect(manifest()!.previous).toBe(before.id);
    expect(manifest()!.changes).toMatchObject({ unchanged: 0, written: published.length, deleted: 0 });
    expect(s3.text(OUT, paths.renderInflight)).toBeUndefined();
  });

  it('reschedules instead of failing when another render holds the lock', async () => {
    s3.put(
      OUT,
      paths.lock,
      JSON.stringify({
        owner: 'other',
        acquiredAt: clock.now().toISOString(),
        expiresAt: new Date(clock.t + 60_000).toISOString(),
      }),
    );
    s3.mock.resetHistory();
    const res = await render(sqsEvent(s3Message(OUT, paths.dirty)));
    expect(res.batchItemFailures).toEqual([]);
    // The marker is rewritten: its new S3 event schedules another delayed try.
    expect(s3.mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: paths.dirty });
    expect(s3.mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    // An expired lock (a crashed render) is taken over.
    clock.advance(16 * 60_000);
    const later = await render(sqsEvent(s3Message(OUT, paths.dirty)));
    expect(later.batchItemFailures).toEqual([]);
    expect(s3.text(OUT, paths.lock)).toBeUndefined();
  });

  it('acknowledges messages that name no dirty marker of a configured project', async () => {
    s3.mock.resetHistory();
    const res = await render(
      sqsEvent(s3Message(OUT, 'exports/other/_state/dirty'), s3Message(OUT, paths.head)),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(s3.mock).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
