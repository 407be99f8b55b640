/**
 * Routing of the render handler (pipeline/render-route.ts) against a mocked S3 and a mocked Step
 * Functions client: no fan-out port → in-process; fewer changed segments than the threshold →
 * in-process; at or above it → one StartExecution named from the state version and the marker's
 * event (a duplicate delivery gets ExecutionAlreadyExists and still succeeds); a refused call
 * fails the message so SQS retries it. Snapshots (exports-worker.ts runSnapshot): every segment
 * counts; from the threshold one StartExecution of a snapshot job named after the export (a retry
 * gets ExecutionAlreadyExists, the record stays in progress), below it in-process.
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import { snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { silentLogger } from '../../functions/pipeline/context.ts';
import { createRecord, getRecord } from '../../functions/pipeline/exports-records.ts';
import { runSnapshot } from '../../functions/pipeline/exports-worker.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { rebuildProject } from '../../functions/pipeline/rebuild.ts';
import {
  estimateRender,
  estimateSnapshot,
  fanoutExecutionName,
  routeRender,
  snapshotExecutionName,
} from '../../functions/pipeline/render-route.ts';
import { createRuntime, parseEnv } from '../../functions/runtime/env.ts';
import { sfnRenderFanout } from '../../functions/runtime/render-fanout.ts';
import { lsTask, makeConfig, OUT, objectsOf, SRC, TestClock } from '../pipeline/helpers.ts';
import { FakeS3 } from './fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from './helpers.ts';

const ARN = 'arn:aws:states:eu-central-1:111122223333:stateMachine:LsExport-render-proj';
const s3 = new FakeS3();
const sfnMock = mockClient(SFNClient);
// 60 tasks in shards of 5 (12 shards) → 2 segments of 10 shards.
const config = makeConfig({ formats: ['JSON', 'CSV'], settings: { shardTasks: 5, keyShards: 4 } });
const project = config.projects[0];
const paths = projectPaths(project);
const clock = new TestClock(Date.now());
const local = mockRuntime(s3, config, clock);
const withFanout = (minSegments: number) =>
  createRuntime({
    config,
    client: s3.client,
    log: silentLogger,
    now: clock.now,
    sleep: async () => {},
    renderFanout: sfnRenderFanout(new SFNClient({ region: 'eu-central-1' }), { proj: ARN }, minSegments),
  });
const manifest = () => JSON.parse(s3.text(OUT, paths.latestManifest) ?? 'null') as Manifest | null;
/** Executions "started" by the mocked service, by name (a second start of a name is refused). */
const executions = new Set<string>();

afterAll(() => {
  s3.restore();
  sfnMock.restore();
});
beforeAll(async () => {
  for (let i = 1; i <= 60; i++) {
    const o = objectsOf(lsTask(i, 3), 'task')[0];
    s3.put(SRC, o.key, o.body);
  }
  await rebuildProject(local.ctx, project);
});
beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake(async (input: { stateMachineArn: string; name: string }) => {
    if (executions.has(input.name))
      throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
    executions.add(input.name);
    return {
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
    };
  });
});

describe('render routing', () => {
  it('estimates every segment as changed before the first render', async () => {
    const est = await estimateRender(local.ctx, project);
    expect(est).toMatchObject({ changed: 2, total: 2, locked: false });
    expect(est.version).toBeGreaterThan(0);
  });

  it('at the threshold: starts one execution named from the state version and the event, renders nothing', async () => {
    const render = createRenderHandler(() => withFanout(2));
    const msg = s3Message(OUT, paths.dirty, 'created', '00000000000000000A1');
    const res = await render(sqsEvent(msg));
    expect(res.batchItemFailures).toEqual([]);
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const { version } = await estimateRender(local.ctx, project);
    expect(calls[0].args[0].input).toMatchObject({
      stateMachineArn: ARN,
      name: `v${version}-00000000000000000A1`,
    });
    expect(JSON.parse(calls[0].args[0].input.input!)).toEqual({
      projectId: 'proj',
      stateVersion: version,
      segments: { changed: 2, total: 2 },
    });
    expect(manifest()).toBeNull();
    expect(s3.text(OUT, paths.lock)).toBeUndefined();

    // The same S3 event delivered again: the same name, refused as existing, counted as success.
    const again = await render(sqsEvent({ ...msg, messageId: 'dup' }));
    expect(again.batchItemFailures).toEqual([]);
    const names = sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names).toEqual([calls[0].args[0].input.name, calls[0].args[0].input.name]);
    expect(executions.size).toBe(1);
  });

  it('a refused StartExecution fails the message (retried by SQS)', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const render = createRenderHandler(() => withFanout(1));
    const msg = s3Message(OUT, paths.dirty);
    const res = await render(sqsEvent(msg));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: msg.messageId }]);
    expect(manifest()).toBeNull();
  });

  it('below the threshold: renders in-process without calling Step Functions', async () => {
    const result = await routeRender(withFanout(3).ctx, project, { sequencer: '' });
    expect(result).toMatchObject({ route: 'in-process', status: 'rendered' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(manifest()!.counts.tasks).toBe(60);
  });

  it('after a committed render one changed task is one changed segment: in-process at threshold 2', async () => {
    const o = objectsOf(lsTask(7, 4), 'task')[0];
    s3.put(SRC, o.key, o.body);
    await ingestChanges(local.ctx, [{ bucket: SRC, key: o.key, kind: 'created', sequencer: '02' }]);
    const est = await estimateRender(local.ctx, project);
    expect(est).toMatchObject({ changed: 1, total: 2 });
    const result = await routeRender(withFanout(2).ctx, project, { sequencer: '' });
    expect(result).toMatchObject({ route: 'in-process', status: 'rendered' });
    expect(manifest()!.state.version).toBe(est.version);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('without the port every render is in-process, whatever its size', async () => {
    const o = objectsOf(lsTask(61, 3), 'task')[0];
    s3.put(SRC, o.key, o.body);
    await ingestChanges(local.ctx, [{ bucket: SRC, key: o.key, kind: 'created', sequencer: '03' }]);
    const result = await routeRender(local.ctx, project, { sequencer: '', force: true });
    expect(result).toMatchObject({ route: 'in-process', status: 'rendered' });
    expect(manifest()!.counts.tasks).toBe(61);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('a locked project goes in-process (rescheduled as busy), not to a second execution', async () => {
    s3.put(
      OUT,
      paths.lock,
      JSON.stringify({
        owner: 'exec-running',
        acquiredAt: clock.now().toISOString(),
        expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
      }),
    );
    const est = await estimateRender(local.ctx, project);
    expect(est.locked).toBe(true);
    const result = await routeRender(withFanout(1).ctx, project, { sequencer: '', force: true });
    expect(result).toMatchObject({ route: 'in-process', status: 'busy' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    s3.objects.delete(FakeS3.id(OUT, paths.lock));
  });

  it('execution names keep to Step Functions’ characters and length', () => {
    expect(fanoutExecutionName(12, '', 'req.id/1')).toBe('v12-req_id_1');
    expect(fanoutExecutionName(3, 'f'.repeat(100), 'x')).toHaveLength(80);
  });
});

describe('snapshot routing: size and execution name', () => {
  it('a snapshot counts every segment of the state (one LIST of the shards)', async () => {
    const est = await estimateSnapshot(local.ctx, project, 1);
    let shards = 0;
    for await (const _ of local.ctx.store(OUT).list(paths.taskShards)) shards++;
    // 60 tasks in shards of 5, and what earlier tests added: 12 shards and more.
    expect(shards).toBeGreaterThanOrEqual(12);
    expect(est.segments).toBe(shards);
    expect((await estimateSnapshot(local.ctx, project)).segments).toBe(Math.ceil(shards / 10));
  });

  it('the snapshot worker starts a snapshot job from the threshold (once per export) and renders in-process below', async () => {
    const options = snapshotOptionsSchema.parse(undefined);
    const below = withFanout(3);
    const small = await runSnapshot(
      below.ctx,
      project,
      await createRecord(below.ctx, project, { options, trigger: 'api', formats: ['JSON', 'CSV'] }),
    );
    expect(small.status).toBe('completed');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const above = withFanout(2);
    const record = await createRecord(above.ctx, project, {
      options,
      trigger: 'api',
      formats: ['JSON', 'CSV'],
    });
    const big = await runSnapshot(above.ctx, project, record);
    expect(big.status).toBe('in_progress');
    expect(await above.ctx.store(OUT).head(`${record.snapshot.prefix}manifest.json`)).toBeUndefined();
    // Retried (a redelivered request): the same execution name, refused as existing, still in progress.
    const again = await runSnapshot(above.ctx, project, await getRecord(above.ctx, project, record.id));
    expect(again.status).toBe('in_progress');
    const calls = sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.stateMachineArn).toBe(ARN);
      expect(c.name).toBe(`snapshot-${record.id}-${record.snapshot.name}`);
      expect(JSON.parse(c.input!)).toEqual({
        kind: 'snapshot',
        projectId: 'proj',
        exportId: record.id,
        snapshot: record.snapshot.name,
        segments: { total: 2 },
      });
    }
  });

  it("names the execution after the export id and the snapshot name, within Step Functions' limits", () => {
    expect(snapshotExecutionName(12, 'proj-at-2026-03-01-10-15')).toBe(
      'snapshot-12-proj-at-2026-03-01-10-15',
    );
    // `.` is not allowed: replaced, and a hash keeps `a.b` and `a_b` apart.
    const dotted = snapshotExecutionName(3, 'v1.2');
    expect(dotted).toMatch(/^snapshot-3-v1_2-[0-9a-f]{8}$/);
    expect(dotted).not.toBe(snapshotExecutionName(3, 'v1_2'));
    const long = snapshotExecutionName(99999, 'x'.repeat(100));
    expect(long).toHaveLength(80);
    expect(long).toMatch(/^snapshot-99999-x+-[0-9a-f]{8}$/);
    expect(long).not.toBe(snapshotExecutionName(99999, `${'x'.repeat(99)}y`));
    for (const n of [dotted, long]) expect(n).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('render fan-out environment', () => {
  const base = { LS_EXPORT_CONFIG: '{}' };
  it('reads the state machine map and the threshold (default 20)', () => {
    const e = parseEnv({ ...base, LS_EXPORT_RENDER_STATE_MACHINES: JSON.stringify({ proj: ARN }) });
    expect(e.LS_EXPORT_RENDER_STATE_MACHINES).toEqual({ proj: ARN });
    expect(e.LS_EXPORT_RENDER_FANOUT_SEGMENTS).toBe(20);
    expect(
      parseEnv({ ...base, LS_EXPORT_RENDER_FANOUT_SEGMENTS: '50' }).LS_EXPORT_RENDER_FANOUT_SEGMENTS,
    ).toBe(50);
  });
  it('refuses a map that is not JSON of ARNs, and a threshold below 1', () => {
    expect(() => parseEnv({ ...base, LS_EXPORT_RENDER_STATE_MACHINES: '{proj' })).toThrow(
      /LS_EXPORT_RENDER_STATE_MACHINES: must be a JSON object/,
    );
    expect(() => parseEnv({ ...base, LS_EXPORT_RENDER_STATE_MACHINES: '{"proj":"nope"}' })).toThrow(
      /LS_EXPORT_RENDER_STATE_MACHINES/,
    );
    expect(() => parseEnv({ ...base, LS_EXPORT_RENDER_FANOUT_SEGMENTS: '0' })).toThrow(
      /LS_EXPORT_RENDER_FANOUT_SEGMENTS/,
    );
  });
  it('a project without a state machine is an error naming it', async () => {
    const port = sfnRenderFanout(new SFNClient({ region: 'eu-central-1' }), {}, 1);
    await expect(port.start(project, 'v1-x', {})).rejects.toThrow(/project proj: no render state machine/);
  });
});
