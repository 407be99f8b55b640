/**
 * QueueConsumer: SQS → Lambda with a DLQ, the 6× visibility rule, partial batch failures, bounded concurrency (read from the synthesized template).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  FULL_PROPS,
  flat,
  fnId as fnIdOf,
  ofType,
  type Resource,
  type Synth,
  synth,
} from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);
const resource = (id: string): Resource => s.json.Resources[id];

describe('queues and event sources', () => {
  const esms = () =>
    ofType(s, 'AWS::Lambda::EventSourceMapping').map(([, r]) => {
      const queue = resource(r.Properties.EventSourceArn['Fn::GetAtt'][0]);
      const fn = resource(r.Properties.FunctionName.Ref);
      return {
        esm: r.Properties,
        queue: queue.Properties,
        fn: fn.Properties,
        fnRef: r.Properties.FunctionName.Ref,
      };
    });

  it('each consumer: visibility timeout ≥ 6 × function timeout + batching window (synthesized values)', () => {
    const all = esms();
    expect(all.map((e) => e.fnRef).sort()).toEqual([fnId('ingest'), fnId('render'), fnId('snapshot')].sort());
    for (const { esm, queue, fn } of all) {
      const window = esm.MaximumBatchingWindowInSeconds ?? 0;
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout + window);
    }
  });

  it('partial batch failures, batch size, batching window and maximum concurrency are set', () => {
    for (const { esm } of esms()) {
      expect(esm.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(esm.BatchSize).toBeGreaterThanOrEqual(1);
      expect(esm.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
      expect(esm.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(1000);
    }
    const ingest = esms().find((e) => e.fnRef === fnId('ingest'))!;
    expect(ingest.esm).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    const render = esms().find((e) => e.fnRef === fnId('render'))!;
    expect(render.esm.ScalingConfig.MaximumConcurrency).toBe(2);
  });

  it('every consumer queue has a DLQ with maxReceiveCount ≥ 5', () => {
    for (const { queue } of esms()) {
      expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
      const dlq = resource(queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]);
      expect(dlq.Type).toBe('AWS::SQS::Queue');
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      expect(dlq.Properties.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
    }
  });

  it('every queue is encrypted and refuses non-TLS access', () => {
    const queues = ofType(s, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    for (const [id, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled).toBe(true);
      const policy = ofType(s, 'AWS::SQS::QueuePolicy').find(([, p]) =>
        asArray(p.Properties.Queues).some((r: unknown) => flat(r) === `<${id}>`),
      );
      expect(policy, `queue policy of ${id}`).toBeDefined();
      expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});
