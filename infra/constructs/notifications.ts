/**
 * Bucket notifications from the declared topology (functions/pipeline/notifications.ts): one S3
 * notification per event family of a route, filtered by the route's prefix and suffix.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { NotificationRoute } from '../../functions/pipeline/notifications.ts';

const EVENT_TYPES = { created: s3.EventType.OBJECT_CREATED, removed: s3.EventType.OBJECT_REMOVED } as const;

/** Adds the route's notifications (created before removed, as listed) to the bucket. */
export function addRouteNotifications(
  bucket: s3.IBucket,
  destination: s3.IBucketNotificationDestination,
  route: NotificationRoute,
): void {
  const filter: s3.NotificationKeyFilter = {
    ...(route.prefix === '' ? {} : { prefix: route.prefix }),
    ...(route.suffix === undefined ? {} : { suffix: route.suffix }),
  };
  const filters = Object.keys(filter).length === 0 ? [] : [filter];
  for (const event of route.events) bucket.addEventNotification(EVENT_TYPES[event], destination, ...filters);
}
