/** MediaError (core/media.ts): what a report shows of unusable media. */
import { describe, expect, it } from 'vitest';
import { MediaError, mediaReason, mediaRefused, mediaSkipped } from '../../functions/core/media.ts';

describe('MediaError', () => {
  it('names the URL and the reason; the detail leaves the URL out', () => {
    const refused = mediaRefused('s3://b/k.jpg', 'outside the prefixes');
    expect(refused).toBeInstanceOf(MediaError);
    expect(refused.message).toBe('media not allowed: s3://b/k.jpg: outside the prefixes');
    expect(mediaReason(refused)).toBe('media not allowed: outside the prefixes');
    expect(refused.refused).toBe(true);
    const skipped = mediaSkipped('http://h/x.png', 'the host h is skipped after 2 failures in this run');
    expect(skipped.message).toBe(
      'media skipped: http://h/x.png: the host h is skipped after 2 failures in this run',
    );
    expect(skipped.name).toBe('MediaError');
  });

  it('captures no stack trace (one per task when media are unreachable), and leaves the limit as it was', () => {
    const before = Error.stackTraceLimit;
    const err = new MediaError('x.wav: file not found', 'x.wav');
    expect(err.stack).toMatch(/^(Media)?Error: x\.wav: file not found$/);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });
});
