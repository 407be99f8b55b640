import { describe, expect, it } from 'vitest';
import {
  hostAllowed,
  parseHttpPolicy,
  prefixesOverlap,
  s3KeyAllowed,
  s3Location,
  unsafeKeyReason,
} from '../../functions/core/media-policy.ts';

describe('S3 prefix confinement', () => {
  const allowed = [s3Location('s3://media/proj-a/'), s3Location('s3://shared/raw')];

  it('allows keys under a prefix of the same bucket only', () => {
    expect(s3KeyAllowed(allowed, 'media', 'proj-a/x.jpg')).toBe(true);
    expect(s3KeyAllowed(allowed, 'shared', 'raw/deep/x.jpg')).toBe(true);
    expect(s3KeyAllowed(allowed, 'media', 'proj-b/x.jpg')).toBe(false);
    expect(s3KeyAllowed(allowed, 'other', 'proj-a/x.jpg')).toBe(false);
    // "raw" is a folder: "raw-private/…" is not under it.
    expect(s3KeyAllowed(allowed, 'shared', 'raw-private/x.jpg')).toBe(false);
  });

  it('refuses keys with dot segments, encoded or not, backslashes and control characters', () => {
    expect(unsafeKeyReason('proj-a/../proj-b/_state/x')).toMatch(/\.\./);
    expect(unsafeKeyReason('proj-a/%2e%2e/proj-b/x')).toMatch(/\.\./);
    expect(unsafeKeyReason('proj-a/%2E%2e%2fproj-b')).toMatch(/\.\./);
    expect(unsafeKeyReason('proj-a/./x')).toMatch(/"\."/);
    expect(unsafeKeyReason('proj-a\\..\\x')).toMatch(/backslash/);
    expect(unsafeKeyReason('proj-a/x\u0000')).toMatch(/control/);
    expect(unsafeKeyReason('proj-a/x..y/a.b.jpg')).toBeUndefined();
  });

  it('tells overlapping prefixes apart from neighbours', () => {
    expect(prefixesOverlap('exports', 'exports/asr/')).toBe(true);
    expect(prefixesOverlap('exports/asr/latest', 'exports/asr/')).toBe(true);
    expect(prefixesOverlap('', 'exports/asr/')).toBe(true);
    expect(prefixesOverlap('exports-media/', 'exports/asr/')).toBe(false);
    expect(prefixesOverlap('exports/as', 'exports/asr/')).toBe(false);
  });
});

describe('http policy', () => {
  it('parses off, public, any and host lists', () => {
    expect(parseHttpPolicy('off')).toEqual({ mode: 'off' });
    expect(parseHttpPolicy('public')).toEqual({ mode: 'public' });
    expect(parseHttpPolicy('a.example.com, 127.0.0.1:8080')).toEqual({
      mode: 'allow',
      hosts: ['a.example.com', '127.0.0.1:8080'],
    });
    expect(() => parseHttpPolicy(',')).toThrow(/comma-separated/);
  });

  it('matches hosts by name, port, wildcard and canonical IP', () => {
    const hosts = ['images.example.com', '127.0.0.1:8080', '*.cdn.example.net', '[::1]'];
    const ok = (u: string) => hostAllowed(hosts, new URL(u));
    expect(ok('https://IMAGES.example.com/a.jpg')).toBe(true);
    expect(ok('http://images.example.com.evil.org/a.jpg')).toBe(false);
    expect(ok('http://127.0.0.1:8080/a')).toBe(true);
    expect(ok('http://2130706433:8080/a')).toBe(true); // the same address in another notation
    expect(ok('http://127.0.0.1:8081/a')).toBe(false);
    expect(ok('https://a.cdn.example.net/x')).toBe(true);
    expect(ok('https://cdn.example.net/x')).toBe(false);
    expect(ok('http://[::1]:9/x')).toBe(true);
    expect(ok('http://localhost:8080/x')).toBe(false);
  });
});
