/**
 * Render and the export-bucket subscriptions of render and snapshot.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FULL_PROPS, flat, logicalId, ofType, type Resource, type Synth, synth } from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const resource = (id: string): Resource => s.json.Resources[id];

describe('render', () => {
  it('the render queue debounces with a delivery delay', () => {
    expect(resource(logicalId(s, s.ls.queues.render)).Properties.DelaySeconds).toBe(60);
    expect(resource(logicalId(s, s.ls.queues.ingest)).Properties.DelaySeconds).toBeUndefined();
  });

  it('the export bucket notifies render of dirty markers and snapshot of export requests', () => {
    const notif = ofType(s, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === `<${logicalId(s, s.ls.exportBucket)}>`,
    );
    const configs = notif![1].Properties.NotificationConfiguration.QueueConfigurations;
    const render = { 'Fn::GetAtt': [logicalId(s, s.ls.queues.render), 'Arn'] };
    const snapshot = { 'Fn::GetAtt': [logicalId(s, s.ls.queues.snapshot), 'Arn'] };
    for (const id of ['news-ner', 'street-scenes']) {
      expect(configs).toContainEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: '_state/dirty' },
              { Name: 'prefix', Value: `exports/${id}/_state/` },
            ],
          },
        },
        QueueArn: render,
      });
      expect(configs).toContainEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: '.json' },
              { Name: 'prefix', Value: `exports/${id}/_exports/requests/` },
            ],
          },
        },
        QueueArn: snapshot,
      });
    }
  });
});
