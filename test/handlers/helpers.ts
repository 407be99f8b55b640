/** Handler-test helpers: runtimes over the mocked S3 client, SQS events in the AWS shape. */
import type { SQSEvent } from 'aws-lambda';
import type { PipelineConfig } from '../../functions/pipeline/config.ts';
import { silentLogger } from '../../functions/pipeline/context.ts';
import { buildS3EventRecord, buildSqsRecord, LocalSequencer } from '../../functions/pipeline/s3-events.ts';
import { createRuntime, type Runtime } from '../../functions/runtime/env.ts';
import { TestClock } from '../pipeline/helpers.ts';
import type { FakeS3 } from './fake-s3.ts';

export function mockRuntime(s3: FakeS3, config: PipelineConfig, clock = new TestClock(Date.now())): Runtime {
  return createRuntime({
    config,
    client: s3.client,
    log: silentLogger,
    now: clock.now,
    sleep: async () => {},
    storeOptions: { partSize: 5 * 1024 * 1024 },
  });
}

const seq = new LocalSequencer(1000n);
let n = 0;

/** One SQS record holding one S3 notification. */
export function s3Message(
  bucket: string,
  key: string,
  kind: 'created' | 'removed' = 'created',
  sequencer = seq.next(),
) {
  const record = buildS3EventRecord({
    bucket,
    key,
    eventName: kind === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
    sequencer,
  });
  return buildSqsRecord(JSON.stringify({ Records: [record] }), `msg-${++n}`);
}

export function sqsEvent(...records: Array<Record<string, unknown>>): SQSEvent {
  return { Records: records } as unknown as SQSEvent;
}
