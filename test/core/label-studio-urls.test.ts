import { describe, expect, it } from 'vitest';
import { mediaBaseName, parseMediaUrl } from '../../functions/core/label-studio-urls.ts';

describe('Label Studio media URLs', () => {
  it('upload paths in all three spellings, query and fragment dropped, percent-decoded', () => {
    for (const raw of ['/data/upload/1/a%20b.jpg', 'upload/1/a%20b.jpg', '/upload/1/a%20b.jpg']) {
      expect(parseMediaUrl(raw)).toEqual({ kind: 'upload', path: '1/a b.jpg' });
    }
    expect(parseMediaUrl('/data/upload/1/a.jpg?x=1')).toEqual({ kind: 'upload', path: '1/a.jpg' });
    expect(parseMediaUrl('/data/upload/1/a.jpg#f')).toEqual({ kind: 'upload', path: '1/a.jpg' });
    // An encoded "?" is part of the name, not a query.
    expect(parseMediaUrl('/data/upload/1/a%3F.jpg')).toEqual({ kind: 'upload', path: '1/a?.jpg' });
    expect(parseMediaUrl('/data/upload/%2e%2e/x')).toEqual({ kind: 'upload', path: '../x' });
  });

  it('local-files URLs, cloud URIs, http(s), file: and plain paths', () => {
    expect(parseMediaUrl('/data/local-files/?d=dir/a%20b.png')).toEqual({
      kind: 'local-files',
      path: 'dir/a b.png',
    });
    expect(parseMediaUrl('s3://bucket/a/b.jpg')).toEqual({ kind: 's3', bucket: 'bucket', key: 'a/b.jpg' });
    expect(parseMediaUrl('s3://bucket').kind).toBe('unsupported');
    expect(parseMediaUrl('gs://b/k.jpg').kind).toBe('gs');
    const http = parseMediaUrl('http://2130706433:8080/x.png');
    expect(http.kind === 'http' && http.url.hostname).toBe('127.0.0.1');
    expect(parseMediaUrl('file:///tmp/%2e%2e/etc/passwd')).toEqual({ kind: 'file', path: '/etc/passwd' });
    expect(parseMediaUrl('file://other-host/x').kind).toBe('unsupported');
    expect(parseMediaUrl('/proc/self/environ')).toEqual({ kind: 'local', path: '/proc/self/environ' });
    expect(parseMediaUrl('../../etc/passwd')).toEqual({ kind: 'local', path: '../../etc/passwd' });
    expect(parseMediaUrl('ftp://h/x')).toEqual({
      kind: 'unsupported',
      reason: 'unsupported URL scheme "ftp:"',
    });
  });

  it('names media by the basename of their path or key', () => {
    expect(mediaBaseName(parseMediaUrl('/data/upload/3/a%20b.wav'))).toBe('a b.wav');
    expect(mediaBaseName(parseMediaUrl('s3://b/x/y.wav'))).toBe('y.wav');
    expect(mediaBaseName(parseMediaUrl('https://h/p/photo%20one.JPG?x=1'))).toBe('photo%20one.JPG');
  });
});
