/**
 * The ingest handler against a mocked S3 (aws-sdk-client-mock): what no local server does —
 * conditional-write conflicts (412/409) while another ingest commits, 503 SlowDown, an object
 * deleted between its event and the read — plus the SQS contract (test events, partial failures).
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { Shard } from '../../functions/pipeline/records.ts';
import { buildSqsRecord } from '../../functions/pipeline/s3-events.ts';
import { annotatedTask, makeConfig, OUT, objectsOf, SRC } from '../pipeline/helpers.ts';
import { FakeS3, s3Error } from './fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ settings: { shardTasks: 100, keyShards: 2 } });
const rt = mockRuntime(s3, config);
const ingest = createIngestHandler(() => rt);
const paths = projectPaths(config.projects[0]);

afterAll(() => s3.restore());
beforeEach(() => s3.reset());

function seed(i: number) {
  const objs = objectsOf(annotatedTask(i), 'annotation');
  for (const o of objs) s3.put(SRC, o.key, o.body);
  return objs;
}

const shardTaskIds = () => Shard.parse(s3.text(OUT, paths.taskShard('n0000000000')) ?? '').taskIds();

describe('ingest handler', () => {
  it('acknowledges s3:TestEvent and non-S3 messages, and fails nothing', async () => {
    const res = await ingest(
      sqsEvent(
        buildSqsRecord(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: SRC }), 't1'),
        buildSqsRecord('not json', 't2'),
        buildSqsRecord(JSON.stringify({ hello: 1 }), 't3'),
      ),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(s3.mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('loses neither update when another ingest wins the race for a shard (412)', async () => {
    const a = seed(1)[0];
    const b = seed(2)[0];
    let raced = false;
    s3.before.set('PutObject', async (input) => {
      if (raced || input.Key !== paths.taskShard('n0000000000')) return;
      raced = true;
      // Another Lambda commits task 2 between our read of the shard and our conditional write.
      const other = await createIngestHandler(() => rt)(sqsEvent(s3Message(SRC, b.key)));
      expect(other.batchItemFailures).toEqual([]);
    });
    const res = await ingest(sqsEvent(s3Message(SRC, a.key)));
    expect(res.batchItemFailures).toEqual([]);
    expect(raced).toBe(true);
    expect(shardTaskIds()).toEqual(['1', '2']);
    const shardPuts = s3.mock
      .commandCalls(PutObjectCommand)
      .filter((c) => c.args[0].input.Key === paths.taskShard('n0000000000'));
    // Ours (rejected with 412), the other writer's, and our retry.
    expect(shardPuts.length).toBe(3);
    expect(shardPuts[0].args[0].input.IfNoneMatch).toBe('*');
    expect(shardPuts[2].args[0].input.IfMatch).toMatch(/^"/);
  });

  it('retries a 409 ConditionalRequestConflict and then commits', async () => {
    const a = seed(3)[0];
    let conflicts = 0;
    s3.before.set('PutObject', (input) => {
      if (input.Key === paths.taskShard('n0000000000') && conflicts < 2) {
        conflicts++;
        throw s3Error('ConditionalRequestConflict', 409);
      }
    });
    const res = await ingest(sqsEvent(s3Message(SRC, a.key)));
    expect(res.batchItemFailures).toEqual([]);
    expect(conflicts).toBe(2);
    expect(shardTaskIds()).toEqual(['3']);
  });

  it('fails the batch records (for SQS to retry) when conflicts never stop, without writing a bad state', async () => {
    const a = seed(4)[0];
    s3.before.set('PutObject', (input) => {
      if (input.Key === paths.taskShard('n0000000000')) throw s3Error('PreconditionFailed', 412);
    });
    const msg = s3Message(SRC, a.key);
    const res = await ingest(sqsEvent(msg));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: msg.messageId }]);
    expect(s3.text(OUT, paths.taskShard('n0000000000'))).toBeUndefined();
    expect(s3.text(OUT, paths.dirty)).toBeUndefined();
    // The redelivery succeeds once the contention is over.
    s3.before.clear();
    expect((await ingest(sqsEvent(msg))).batchItemFailures).toEqual([]);
    expect(shardTaskIds()).toEqual(['4']);
  });

  // The SDK retries throttling itself (test/storage/s3-retries.test.ts); the mock bypasses it, so a
  // SlowDown here is one that outlasted those attempts.
  it('fails only the record whose read is throttled (503 SlowDown), without retrying it itself', async () => {
    const a = seed(5)[0];
    const b = seed(6)[0];
    s3.before.set('GetObject', (input) => {
      if (input.Key === b.key) throw s3Error('SlowDown', 503, 'Please reduce your request rate.');
    });
    const ma = s3Message(SRC, a.key);
    const mb = s3Message(SRC, b.key);
    const res = await ingest(sqsEvent(ma, mb));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: mb.messageId }]);
    expect(shardTaskIds()).toEqual(['5']);
    expect(s3.mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Key === b.key)).toHaveLength(
      1,
    );
  });

  it('treats an object deleted between the event and the read as a deletion', async () => {
    const a = seed(7)[0];
    expect((await ingest(sqsEvent(s3Message(SRC, a.key)))).batchItemFailures).toEqual([]);
    expect(shardTaskIds()).toEqual(['7']);
    // A newer write's event arrives, but the object is gone when we read it.
    s3.objects.delete(FakeS3.id(SRC, a.key));
    const res = await ingest(sqsEvent(s3Message(SRC, a.key)));
    expect(res.batchItemFailures).toEqual([]);
    const rec = Shard.parse(s3.text(OUT, paths.taskShard('n0000000000'))!).record('7');
    expect(rec.entries.every((e) => e.deleted)).toBe(true);
  });

  it('creates the dirty marker once per render cycle (IfNoneMatch)', async () => {
    const a = seed(8)[0];
    await ingest(sqsEvent(s3Message(SRC, a.key)));
    const markerPuts = () =>
      s3.mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === paths.dirty);
    expect(markerPuts()).toHaveLength(1);
    expect(markerPuts()[0].args[0].input.IfNoneMatch).toBe('*');
    s3.put(SRC, a.key, a.body.replace('"lead_time": ', '"lead_time": 9'));
    await ingest(sqsEvent(s3Message(SRC, a.key)));
    expect(markerPuts()).toHaveLength(1); // already there: no write, no second event
  });
});
