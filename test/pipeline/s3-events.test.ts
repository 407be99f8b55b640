import { describe, expect, it } from 'vitest';
import { newestPerKey } from '../../functions/pipeline/ingest.ts';
import {
  buildS3EventRecord,
  decodeS3Key,
  encodeS3Key,
  parseS3Notification,
} from '../../functions/pipeline/s3-events.ts';

describe('S3 notifications', () => {
  it('decodes keys as S3 encodes them (+ is a space)', () => {
    expect(decodeS3Key('ls//my+file%281%29.json')).toBe('ls//my file(1).json');
    expect(decodeS3Key('a%2Bb')).toBe('a+b');
    expect(decodeS3Key('bad%E0%A4%A')).toBe('bad%E0%A4%A');
    expect(encodeS3Key('ls//a b+c.json')).toBe('ls//a+b%2Bc.json');
  });

  it('parses records, the test event, and ignores other event types', () => {
    const put = buildS3EventRecord({
      bucket: 'b',
      key: 'ls/x y',
      eventName: 'ObjectCreated:Put',
      sequencer: '0A',
      size: 3,
      eTag: '"e"',
    });
    const del = buildS3EventRecord({
      bucket: 'b',
      key: 'ls/z',
      eventName: 'ObjectRemoved:Delete',
      sequencer: '0B',
    });
    const tag = { ...put, eventName: 'ObjectTagging:Put' };
    const parsed = parseS3Notification(
      JSON.stringify({ Records: [put, del, tag, { eventSource: 'aws:sqs' }] }),
    );
    expect(parsed).toEqual({
      kind: 'changes',
      ignored: 2,
      changes: [
        {
          bucket: 'b',
          key: 'ls/x y',
          kind: 'created',
          sequencer: '0A',
          eventTime: expect.any(String),
          etag: 'e',
          size: 3,
        },
        {
          bucket: 'b',
          key: 'ls/z',
          kind: 'removed',
          sequencer: '0B',
          eventTime: expect.any(String),
          etag: undefined,
          size: undefined,
        },
      ],
    });
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).toEqual({
      kind: 'test',
    });
    expect(parseS3Notification('nope').kind).toBe('invalid');
    expect(parseS3Notification('{"a": 1}').kind).toBe('invalid');
  });

  it('keeps the newest event per key', () => {
    const c = (key: string, sequencer: string) => ({ bucket: 'b', key, kind: 'created' as const, sequencer });
    expect(
      newestPerKey([c('a', '02'), c('a', '0A'), c('b', '01'), c('a', '03')]).map(
        (x) => `${x.key}:${x.sequencer}`,
      ),
    ).toEqual(['a:0A', 'b:01']);
  });
});
