/** The stack's bucket notifications are exactly the declared topology (functions/pipeline/notifications.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import { EXPORT, exampleConfig, flat, logicalId, ofType, type Synth, synth } from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('bucket notifications', () => {
  it('are one queue configuration per route and event family, in the order of notificationRoutes', () => {
    const queues: Record<string, string> = {
      [logicalId(s, s.ls.queues.ingest)]: 'ingest',
      [logicalId(s, s.ls.queues.render)]: 'render',
      [logicalId(s, s.ls.queues.snapshot)]: 'snapshot',
    };
    const bucketName = (v: unknown) =>
      flat(v) === `<${logicalId(s, s.ls.exportBucket)}>` ? EXPORT : flat(v);
    const deployed = ofType(s, 'Custom::S3BucketNotifications').flatMap(([, r]) =>
      r.Properties.NotificationConfiguration.QueueConfigurations.map(
        (c: {
          Events: string[];
          Filter?: { Key: { FilterRules: Array<{ Name: string; Value: string }> } };
          QueueArn: { 'Fn::GetAtt': [string, string] };
        }) => {
          const rules = Object.fromEntries((c.Filter?.Key.FilterRules ?? []).map((f) => [f.Name, f.Value]));
          return `${bucketName(r.Properties.BucketName)} ${rules.prefix ?? ''} ${rules.suffix ?? '-'} ${c.Events.join()} ${queues[c.QueueArn['Fn::GetAtt'][0]]}`;
        },
      ),
    );
    const declared = notificationRoutes(parseConfig(exampleConfig())).flatMap((r) =>
      r.events.map(
        (e) =>
          `${r.bucket} ${r.prefix} ${r.suffix ?? '-'} s3:${e === 'created' ? 'ObjectCreated' : 'ObjectRemoved'}:* ${r.target}`,
      ),
    );
    // One custom resource per bucket: compare per bucket in order, and the whole as a set.
    expect([...deployed].sort()).toEqual([...declared].sort());
    for (const bucket of new Set(declared.map((d) => d.split(' ')[0])))
      expect(deployed.filter((d) => d.startsWith(`${bucket} `))).toEqual(
        declared.filter((d) => d.startsWith(`${bucket} `)),
      );
  });
});
