/** HostBreaker (storage/host-breaker.ts): one host in any notation and port, skipped after `limit` failures. */
import { describe, expect, it } from 'vitest';
import { MediaError } from '../../functions/core/media.ts';
import { HostBreaker } from '../../functions/storage/host-breaker.ts';

describe('HostBreaker', () => {
  it('skips a host after `limit` failures, under any notation of it, and names both', () => {
    const hosts = new HostBreaker(2);
    const raw = 'http://127.0.0.1/a.png';
    hosts.fail(new URL(raw), raw);
    expect(hosts.skipped(new URL(raw), '127.0.0.1')).toBeUndefined();
    hosts.fail(new URL(raw), raw);
    expect(hosts.skipped(new URL(raw), '127.0.0.1')).toBe(
      'the host 127.0.0.1 is skipped after 2 failures in this run',
    );
    const other = 'http://2130706433/b.png';
    let err: unknown;
    try {
      hosts.check(other, new URL(other));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).message).toBe(
      'media skipped: http://2130706433/b.png: the host 2130706433 (the same host as 127.0.0.1) is skipped after 2 failures in this run',
    );
  });

  it('another port, or the default https port, is another host', () => {
    const hosts = new HostBreaker(1);
    const raw = 'http://example.org/a.png';
    hosts.fail(new URL(raw), raw);
    expect(hosts.skipped(new URL('http://example.org:80/x'), 'example.org')).toBeDefined();
    expect(hosts.skipped(new URL('http://example.org:8080/x'), 'example.org:8080')).toBeUndefined();
    expect(hosts.skipped(new URL('https://example.org/x'), 'example.org')).toBeUndefined();
  });
});
