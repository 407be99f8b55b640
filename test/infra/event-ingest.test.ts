/**
 * EventIngest: S3 notifications of the watched prefixes and of the label config objects feed the
 * ingest queue.
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
    // Only S3 events of that bucket, and of the export bucket (the sample's second project keeps
    // its label config there), may be sent to the queue.
    const [, policy] = ofType(s, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      asArray(p.Properties.Queues).some((q: unknown) => flat(q) === `<${ingestQueue}>`),
    )!;
    const allow = (policy.Properties.PolicyDocument.Statement as Statement[]).filter(
      (st) => st.Effect === 'Allow',
    );
    expect(allow).toHaveLength(2);
    for (const st of allow) expect(st).toMatchObject({ Principal: { Service: 's3.amazonaws.com' } });
    expect(allow.map((st) => flat(st.Condition!.ArnLike['aws:SourceArn']))).toEqual([
      `arn:<AWS::Partition>:s3:::${SOURCE}`,
      `<${logicalId(s, s.ls.exportBucket)}.Arn>`,
    ]);
  });

  it('a label config object notifies the ingest queue of its exact key', () => {
    const ingestQueue = logicalId(s, s.ls.queues.ingest);
    const notif = ofType(s, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === `<${logicalId(s, s.ls.exportBucket)}>`,
    );
    const toIngest = (notif![1].Properties.NotificationConfiguration.QueueConfigurations as Cfn[]).filter(
      (c) => c.QueueArn['Fn::GetAtt'][0] === ingestQueue,
    );
    expect(toIngest).toEqual(
      ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'].map((event) => ({
        Events: [event],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'label-configs/street-scenes.xml' }] } },
        QueueArn: { 'Fn::GetAtt': [ingestQueue, 'Arn'] },
      })),
    );
  });

  it('a label config in a bucket of its own is imported (never created) and notifies ingest', () => {
    const config = exampleConfig();
    config.projects[1].labelConfig = { s3: 's3://acme-label-configs/street-scenes.xml' };
    const t = synth({ config, sourceBucketMode: 'create' });
    const notif = ofType(t, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === 'acme-label-configs',
    );
    expect(notif![1].Properties.Managed).toBe(false); // its other notifications are kept
    expect(
      notif![1].Properties.NotificationConfiguration.QueueConfigurations.map(
        (c: Cfn) => `${c.Events[0]} ${c.Filter.Key.FilterRules[0].Value}`,
      ),
    ).toEqual(['s3:ObjectCreated:* street-scenes.xml', 's3:ObjectRemoved:* street-scenes.xml']);
    const created = ofType(t, 'AWS::S3::Bucket').map(([, r]) => r.Properties.BucketName);
    expect(created).toContain(SOURCE);
    expect(created).not.toContain('acme-label-configs');
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
