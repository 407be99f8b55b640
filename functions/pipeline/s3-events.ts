/**
 * S3 event notifications as they reach us through SQS (docs/label-studio-storage-and-api.md#s3-event-notifications): each SQS message
 * body is a JSON `{Records: [...]}` (or a one-off `s3:TestEvent`); keys are URL-encoded with `+`
 * for spaces; delivery is at least once and unordered, and `sequencer` orders events of one key.
 * Also builds records in exactly that shape, for the local runs and the tests.
 */
import { z } from 'zod';

export const s3EventRecordSchema = z.looseObject({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  eventTime: z.string().optional(),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string() }),
    object: z.looseObject({
      key: z.string(),
      size: z.number().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
export type S3EventRecord = z.infer<typeof s3EventRecordSchema>;

const testEventSchema = z.looseObject({ Event: z.literal('s3:TestEvent') });
const notificationSchema = z.looseObject({ Records: z.array(z.unknown()) });

/** One change of one object, decoded. */
export interface ObjectChange {
  bucket: string;
  key: string;
  kind: 'created' | 'removed';
  /** The event's sequencer ('' when absent); orders events of the same key only. */
  sequencer: string;
  eventTime?: string;
  etag?: string;
  size?: number;
}

/** S3 keys in notifications are URL-encoded with `+` for spaces. */
export function decodeS3Key(key: string): string {
  const plus = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Encodes a key the way S3 does in notifications (spaces as `+`). */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export type ParsedNotification =
  | { kind: 'test' }
  | { kind: 'changes'; changes: ObjectChange[]; ignored: number }
  | { kind: 'invalid'; reason: string };

/** Parses one SQS message body holding an S3 notification. Never throws. */
export function parseS3Notification(body: string): ParsedNotification {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { kind: 'invalid', reason: `the message body is not JSON: ${(err as Error).message}` };
  }
  if (testEventSchema.safeParse(value).success) return { kind: 'test' };
  const n = notificationSchema.safeParse(value);
  if (!n.success) return { kind: 'invalid', reason: 'the message body is not an S3 event notification' };
  const changes: ObjectChange[] = [];
  let ignored = 0;
  for (const raw of n.data.Records) {
    const r = s3EventRecordSchema.safeParse(raw);
    if (!r.success) {
      ignored++;
      continue;
    }
    const change = changeOf(r.data);
    if (change) changes.push(change);
    else ignored++;
  }
  return { kind: 'changes', changes, ignored };
}

/** The object change of one record, or undefined for event types that change no content. */
export function changeOf(record: S3EventRecord): ObjectChange | undefined {
  const name = record.eventName.replace(/^s3:/, '');
  let kind: ObjectChange['kind'];
  if (name.startsWith('ObjectCreated:')) kind = 'created';
  else if (name.startsWith('ObjectRemoved:')) kind = 'removed';
  else return undefined;
  const o = record.s3.object;
  return {
    bucket: record.s3.bucket.name,
    key: decodeS3Key(o.key),
    kind,
    sequencer: o.sequencer ?? '',
    eventTime: record.eventTime,
    etag: o.eTag,
    size: o.size,
  };
}

/**
 * Orders two sequencers of the same key (AWS: left-pad the shorter with zeros, then compare).
 * An empty sequencer (a listing, an event without one) is older than any other.
 */
export function compareSequencers(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return -1;
  if (b === '') return 1;
  const len = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padStart(len, '0');
  const pb = b.toUpperCase().padStart(len, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

export interface BuildRecordInput {
  bucket: string;
  key: string;
  eventName: string;
  sequencer: string;
  eventTime?: string;
  size?: number;
  eTag?: string;
  region?: string;
}

/** One S3 event record in the shape AWS sends (event version 2.1). */
export function buildS3EventRecord(input: BuildRecordInput): Record<string, unknown> {
  const removed = input.eventName.startsWith('ObjectRemoved');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: input.region ?? 'us-east-1',
    eventTime: input.eventTime ?? new Date().toISOString(),
    eventName: input.eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'LOCAL', 'x-amz-id-2': 'LOCAL' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ls-export',
      bucket: {
        name: input.bucket,
        ownerIdentity: { principalId: 'LOCAL' },
        arn: `arn:aws:s3:::${input.bucket}`,
      },
      object: {
        key: encodeS3Key(input.key),
        ...(removed ? {} : { size: input.size ?? 0, eTag: (input.eTag ?? '').replace(/"/g, '') }),
        sequencer: input.sequencer,
      },
    },
  };
}

/** A Lambda SQS record wrapping a message body. */
export function buildSqsRecord(
  body: string,
  messageId: string,
  queue = 'ls-export',
): Record<string, unknown> {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDASAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    awsRegion: 'us-east-1',
  };
}

/** A monotonically increasing sequencer source for local runs (18 hex digits, like S3's). */
export class LocalSequencer {
  private n = 0n;
  constructor(start = BigInt(Date.now()) * 1000n) {
    this.n = start;
  }
  next(): string {
    this.n += 1n;
    return this.n.toString(16).toUpperCase().padStart(18, '0');
  }
}
