/**
 * EventIngest: S3 notifications of the watched prefixes feed the ingest queue.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asArray,
  type Cfn,
  exampleConfig,
  FULL_PROPS,
  flat,
  logicalId,
  ofType,
  SOURCE,
  type Statement,
  type Synth,
  synth,
} from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

describe('S3 notifications', () => {
  it('watched prefixes notify the ingest queue of created and removed objects', () => {
    const ingestQueue = logicalId(s, s.ls.queues.ingest);
    const notif = ofType(s, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === SOURCE,
    );
    expect(notif).toBeDefined();
    expect(notif![1].Properties.Managed).toBe(false); // imported bucket: existing notifications are kept
    const configs = notif![1].Properties.NotificationConfiguration.QueueConfigurations;
    for (const prefix of ['ls/news-ner/', 'ls/street-scenes/']) {
      for (const event of ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']) {
        expect(configs).toContainEqual({
          Events: [event],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
          QueueArn: { 'Fn::GetAtt': [ingestQueue, 'Arn'] },
        });
      }
    }
    expect(configs).toHaveLength(4);
    // Only S3 events of that bucket may be sent to the queue.
    const [, policy] = ofType(s, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      asArray(p.Properties.Queues).some((q: unknown) => flat(q) === `<${ingestQueue}>`),
    )!;
    const allow = (policy.Properties.PolicyDocument.Statement as Statement[]).filter(
      (st) => st.Effect === 'Allow',
    );
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({ Principal: { Service: 's3.amazonaws.com' } });
    expect(flat(allow[0].Condition!.ArnLike['aws:SourceArn'])).toBe(`arn:<AWS::Partition>:s3:::${SOURCE}`);
  });

  it('overlapping watched prefixes in one bucket collapse into one notification', () => {
    const config = exampleConfig();
    config.projects[1].source.prefix = 'ls/news-ner/images';
    const t = synth({ config });
    const notif = ofType(t, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === SOURCE,
    );
    const prefixes = notif![1].Properties.NotificationConfiguration.QueueConfigurations.map(
      (c: Cfn) => c.Filter.Key.FilterRules[0].Value,
    );
    expect([...new Set(prefixes)]).toEqual(['ls/news-ner/']);
  });
});
