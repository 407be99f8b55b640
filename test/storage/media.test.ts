import { lookup } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonPublicAddressReason } from '../../functions/core/ip-address.ts';
import { MediaError } from '../../functions/core/media.ts';
import { DEFAULT_MEDIA_LIMITS, type MediaPolicy, s3Location } from '../../functions/core/media-policy.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { LocalMedia } from '../../functions/storage/local-media.ts';
import { PolicyMedia } from '../../functions/storage/media.ts';
import { mediaErrorOf, readText } from '../helpers/media.ts';

const openDescriptors = () => readdirSync('/proc/self/fd').length;

describe('local files: only under the allowed roots', () => {
  const root = mkdtempSync(join(tmpdir(), 'ls-media-'));
  const upload = join(root, 'upload');
  const media = join(root, 'media');
  const outside = join(root, 'outside');
  for (const d of [join(upload, '3'), media, outside]) mkdirSync(d, { recursive: true });
  writeFileSync(join(upload, '3', 'a b.wav'), 'RIFF-audio-bytes');
  writeFileSync(join(media, 'ok.png'), 'allowed');
  writeFileSync(join(outside, 'secret.txt'), 'SECRET');
  symlinkSync(join(outside, 'secret.txt'), join(media, 'link.png'));
  symlinkSync(outside, join(media, 'dir-link'));

  it('resolves /data/upload/… against the upload folder, percent-decoded, with its local path', async () => {
    const m = new LocalMedia({ uploadDir: upload });
    const file = await m.open('/data/upload/3/a%20b.wav');
    expect(file.name).toBe('a b.wav');
    expect(file.size).toBe(16);
    expect(file.copyByPath?.()).toBe(join(upload, '3', 'a b.wav'));
    expect(await readText(file.read())).toBe('RIFF-audio-bytes');
    expect(await readText(file.read({ start: 5, end: 10 }))).toBe('audio');
    // The CLI now strips ?query like the pipeline did (one rule in core/label-studio-urls.ts).
    expect((await m.open('/data/upload/3/a%20b.wav?x=1')).name).toBe('a b.wav');
  });

  it('opens the file only when its bytes are read (sinks that copy by path never read them)', async () => {
    const file = await new LocalMedia({ uploadDir: upload }).open('/data/upload/3/a%20b.wav');
    const before = openDescriptors();
    const unread = Array.from({ length: 200 }, () => file.read());
    await sleep(50);
    expect(openDescriptors()).toBeLessThan(before + 5);
    expect(unread).toHaveLength(200);
  });

  it('a file copied by its path counts whole against the run byte budget; past it the copy is refused', async () => {
    const m = new LocalMedia({ uploadDir: upload, limits: { runBytes: 40 } });
    const first = await m.open('/data/upload/3/a%20b.wav');
    const second = await m.open('/data/upload/3/a%20b.wav');
    const third = await m.open('/data/upload/3/a%20b.wav');
    // Opening and reading a header charge only what is read (16 + 4 bytes here).
    expect(await readText(first.read({ start: 0, end: 4 }))).toBe('RIFF');
    expect(first.copyByPath?.()).toBe(join(upload, '3', 'a b.wav'));
    expect(first.copyByPath?.()).toBe(join(upload, '3', 'a b.wav')); // charged once per file
    expect(second.copyByPath?.()).toBe(join(upload, '3', 'a b.wav')); // 4 + 16 + 16 = 36 bytes
    let refused: MediaError | undefined;
    try {
      third.copyByPath?.();
    } catch (err) {
      refused = err as MediaError;
    }
    expect(refused).toBeInstanceOf(MediaError);
    expect(refused?.refused).toBe(true);
    expect(refused?.message).toMatch(/byte budget for media \(40 bytes\) is used up/);
  });

  it('reads plain paths and file: URLs under a media root', async () => {
    const m = new LocalMedia({ mediaRoots: [media] });
    expect(await readText((await m.open(join(media, 'ok.png'))).read())).toBe('allowed');
    expect(await readText((await m.open(`file://${join(media, 'ok.png')}`)).read())).toBe('allowed');
  });

  it('refuses paths outside the roots: absolute, .., %2e%2e, file:, symlinks', async () => {
    const m = new LocalMedia({ uploadDir: upload, mediaRoots: [media] });
    const cases = [
      '/proc/self/environ',
      '/etc/passwd',
      join(outside, 'secret.txt'),
      `${media}/../outside/secret.txt`,
      `file://${media}/%2e%2e/outside/secret.txt`,
      `file://${outside}/secret.txt`,
      join(media, 'link.png'), // a symlink out of the root
      join(media, 'dir-link', 'secret.txt'), // a directory symlink out of the root
      '../../../../etc/passwd',
    ];
    for (const url of cases) {
      const err = await mediaErrorOf(m.open(url));
      expect(err.refused, url).toBe(true);
      expect(err.message, url).toMatch(/outside the allowed media roots/);
    }
    const up = await mediaErrorOf(m.open('/data/upload/%2e%2e/outside/secret.txt'));
    expect(up.message).toMatch(/escapes the upload folder/);
    const up2 = await mediaErrorOf(m.open('/data/upload/3/..%2f..%2f..%2foutside/secret.txt'));
    expect(up2.message).toMatch(/escapes the upload folder/);
  });

  it('without roots no local file is read at all', async () => {
    const err = await mediaErrorOf(new LocalMedia().open(join(media, 'ok.png')));
    expect(err.message).toMatch(/outside the allowed media roots \(none are configured/);
    await expect(new LocalMedia().open('/data/upload/3/a.wav')).rejects.toThrow(/--upload-dir/);
    await expect(new LocalMedia().open('ftp://host/x.wav')).rejects.toThrow(/unsupported URL scheme/);
  });
});

describe('s3:// media: only under the allowed prefixes', () => {
  const root = mkdtempSync(join(tmpdir(), 'ls-media-s3-'));
  const put = (bucket: string, key: string, body: string) => {
    mkdirSync(join(root, bucket, key, '..'), { recursive: true });
    writeFileSync(join(root, bucket, key), body);
  };
  put('media', 'proj-a/x.jpg', 'A-IMAGE');
  put('media', 'upload/1/u.jpg', 'UPLOADED');
  put('media', 'proj-b/x.jpg', 'B-IMAGE');
  put('exports', 'exports/b/_state/tasks/n0.jsonl', 'B-STATE');
  const requested: string[] = [];
  const policy: MediaPolicy = {
    upload: { s3: s3Location('s3://media/upload/') },
    localRoots: [],
    s3: [s3Location('s3://media/proj-a')],
    http: { mode: 'off' },
    limits: DEFAULT_MEDIA_LIMITS,
  };
  const store = (bucket: string) => {
    requested.push(bucket);
    return new FsObjectStore(join(root, bucket));
  };

  it('reads allowed keys, uploads under the upload prefix', async () => {
    const m = new PolicyMedia(policy, { store });
    expect(await readText((await m.open('s3://media/proj-a/x.jpg')).read())).toBe('A-IMAGE');
    expect(await readText((await m.open('/data/upload/1/u.jpg')).read())).toBe('UPLOADED');
    expect(await readText((await m.open('s3://media/upload/1/u.jpg')).read())).toBe('UPLOADED');
  });

  it('refuses other prefixes, other buckets and dot tricks before any request', async () => {
    const m = new PolicyMedia(policy, { store });
    requested.length = 0;
    for (const url of [
      's3://media/proj-b/x.jpg',
      's3://exports/exports/b/_state/tasks/n0.jsonl',
      's3://some-other-bucket/private/payroll.csv',
      's3://media/proj-a/../proj-b/x.jpg',
      's3://media/proj-a/%2e%2e/proj-b/x.jpg',
      's3://media/proj-a-evil/x.jpg',
    ]) {
      const err = await mediaErrorOf(m.open(url));
      expect(err.refused, url).toBe(true);
      expect(err.message).toMatch(/^media not allowed: /);
    }
    expect(requested).toEqual([]);
  });
});

describe('s3:// media without AWS credentials', () => {
  it('after the SDK finds no credentials, later s3:// media are skipped without a request', async () => {
    const heads: string[] = [];
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const store = () =>
      ({
        description: 's3://media',
        head: async (key: string) => {
          heads.push(key);
          throw noCredentials;
        },
      }) as unknown as FsObjectStore;
    const m = new PolicyMedia(
      { localRoots: [], s3: 'any', http: { mode: 'off' }, limits: DEFAULT_MEDIA_LIMITS },
      { store },
    );
    const first = await mediaErrorOf(m.open('s3://media/a.jpg'));
    expect(first.message).toBe(
      'media skipped: s3://media/a.jpg: no AWS credentials (Could not load credentials from any providers), found at the first s3:// read of this run',
    );
    const second = await mediaErrorOf(m.open('s3://media/b.jpg'));
    expect(second.refused).toBe(true);
    expect(second.message).toBe(
      'media skipped: s3://media/b.jpg: no AWS credentials (Could not load credentials from any providers), found at the first s3:// read of this run',
    );
    expect(heads).toEqual(['a.jpg']);
  });

  it('another failure (an object denied, a network error) does not stop later reads', async () => {
    const heads: string[] = [];
    const store = () =>
      ({
        description: 's3://media',
        head: async (key: string) => {
          heads.push(key);
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
        },
      }) as unknown as FsObjectStore;
    const m = new PolicyMedia(
      { localRoots: [], s3: 'any', http: { mode: 'off' }, limits: DEFAULT_MEDIA_LIMITS },
      { store },
    );
    await expect(m.open('s3://media/a.jpg')).rejects.toThrow('Access Denied');
    await expect(m.open('s3://media/b.jpg')).rejects.toThrow('Access Denied');
    expect(heads).toEqual(['a.jpg', 'b.jpg']);
  });
});

describe('http(s) media', () => {
  const hits: string[] = [];
  let server: Server;
  let base = '';
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect-private') {
        res.writeHead(302, { location: `http://localhost:${port}/secret` });
        return res.end();
      }
      if (req.url === '/redirect-ok') {
        res.writeHead(302, { location: '/ok.png' });
        return res.end();
      }
      if (req.url?.startsWith('/loop')) {
        res.writeHead(302, { location: `/loop${hits.length}` });
        return res.end();
      }
      if (req.url?.startsWith('/slow')) {
        res.writeHead(200);
        res.write('PNG-head');
        return; // never ends
      }
      if (req.url === '/big') {
        res.writeHead(200);
        return res.end(Buffer.alloc(10_000, 1));
      }
      if (req.url === '/ok.png') {
        res.writeHead(200);
        return res.end('OK-BODY');
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const media = (http: MediaPolicy['http'], limits: Partial<typeof DEFAULT_MEDIA_LIMITS> = {}) =>
    new PolicyMedia({ localRoots: [], s3: [], http, limits: { ...DEFAULT_MEDIA_LIMITS, ...limits } });

  it('public: refuses loopback in every notation, without a request', async () => {
    hits.length = 0;
    const m = media({ mode: 'public' });
    for (const host of [
      '127.0.0.1',
      '2130706433',
      '0177.0.0.1',
      '0x7f.1',
      '127.1',
      '[::ffff:127.0.0.1]',
      '[::1]',
      'localhost',
    ]) {
      const url = `http://${host}:${port}/ok.png`;
      const err = await mediaErrorOf(m.open(url).then((f) => readText(f.read())));
      expect(err.refused, url).toBe(true);
    }
    const meta = await mediaErrorOf(m.open('http://169.254.169.254/latest/meta-data/'));
    expect(meta.message).toMatch(/link-local/);
    expect(hits).toEqual([]);
  });

  it('public: a name resolving to a private address is refused on connect (no request sent)', async () => {
    // The machine's own name resolves to a loopback address here (/etc/hosts), as on most hosts.
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => nonPublicAddressReason(a.address) !== undefined)).toBe(true);
    hits.length = 0;
    const m = media({ mode: 'public' });
    const err = await mediaErrorOf(m.open(`http://${name}:${port}/ok.png`).then((f) => readText(f.read())));
    expect(err.refused).toBe(true);
    expect(err.message).toMatch(new RegExp(`${name} resolves to .*(loopback|private)`));
    expect(hits).toEqual([]);
  });

  it('allow-list: fetches listed hosts, follows checked redirects, refuses a redirect to another host', async () => {
    hits.length = 0;
    const m = media({ mode: 'allow', hosts: [`127.0.0.1:${port}`] });
    expect(await readText((await m.open(`${base}/ok.png`)).read())).toBe('OK-BODY');
    expect(await readText((await m.open(`${base}/redirect-ok`)).read())).toBe('OK-BODY');
    const err = await mediaErrorOf(m.open(`${base}/redirect-private`).then((f) => readText(f.read())));
    expect(err.refused).toBe(true);
    expect(err.message).toMatch(/redirected to http:\/\/localhost.*not on the allowed host list/);
    expect(hits).not.toContain('/secret');
    await expect(m.open('http://example.com/x.png')).rejects.toThrow(/not on the allowed host list/);
  });

  it('caps redirects', async () => {
    const m = media({ mode: 'any' });
    await expect(m.open(`${base}/loop`).then((f) => readText(f.read()))).rejects.toThrow(
      /more than 3 redirects/,
    );
  });

  it('off: nothing is fetched', async () => {
    await expect(media({ mode: 'off' }).open(`${base}/ok.png`)).rejects.toThrow(/turned off/);
  });

  it('a tarpit times out quickly, and after N failures its host is skipped at once', async () => {
    const m = media({ mode: 'any' }, { timeoutMs: 200, hostFailures: 2 });
    const started = Date.now();
    for (const n of [1, 2]) {
      const err = await mediaErrorOf(m.open(`${base}/slow/${n}.png`).then((f) => readText(f.read())));
      expect(err.message).toMatch(/no data for 0.2 s/);
    }
    hits.length = 0;
    const err = await mediaErrorOf(m.open(`${base}/slow/3.png`));
    expect(err.message).toBe(
      `media skipped: ${base}/slow/3.png: the host 127.0.0.1:${port} is skipped after 2 failures in this run`,
    );
    expect(hits).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a host skipped after failures is named as the task writes it, in any notation, and after a redirect', async () => {
    const m = media({ mode: 'any' }, { timeoutMs: 200, hostFailures: 2 });
    for (const n of [1, 2])
      await mediaErrorOf(m.open(`${base}/slow/${n}.png`).then((f) => readText(f.read())));
    hits.length = 0;
    const first = `127.0.0.1:${port}`;
    for (const host of [`[::ffff:127.0.0.1]:${port}`, `2130706433:${port}`, `0x7f.1:${port}`]) {
      const url = `http://${host}/slow/3.png`;
      const err = await mediaErrorOf(m.open(url));
      expect(err.message).toBe(
        `media skipped: ${url}: the host ${host} (the same host as ${first}) is skipped after 2 failures in this run`,
      );
      expect(err.message).not.toMatch(/not allowed|7f00/);
    }
    // Another host that redirects to the skipped one: the redirect is followed, the target is not.
    const other = createServer((_req, res) => {
      res.writeHead(302, { location: `${base}/slow/4.png` });
      res.end();
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    try {
      const from = `http://127.0.0.1:${(other.address() as AddressInfo).port}/to-slow`;
      const f = await m.open(from);
      const err = await mediaErrorOf(readText(f.read()));
      expect(err.message).toBe(
        `media skipped: ${from}: redirected to ${base}/slow/4.png: the host ${first} is skipped after 2 failures in this run`,
      );
    } finally {
      other.close();
    }
    expect(hits).toEqual([]);
  });

  it('the run time budget ends every further http(s) read', async () => {
    const m = media({ mode: 'any' }, { timeoutMs: 5_000, runTimeMs: 300, hostFailures: 100 });
    const err = await mediaErrorOf(m.open(`${base}/slow/9.png`).then((f) => readText(f.read())));
    expect(err.message).toMatch(/time budget for http\(s\) media \(0.3 s\) is used up/);
    await expect(m.open(`${base}/ok.png`).then((f) => readText(f.read()))).rejects.toThrow(/time budget/);
  });

  it('the byte budget and the per-file limit stop reads', async () => {
    const perFile = media({ mode: 'any' }, { fileBytes: 5_000 });
    await expect(perFile.open(`${base}/big`).then((f) => readText(f.read()))).rejects.toThrow(/per file/);
    const run = media({ mode: 'any' }, { runBytes: 12_000 });
    expect((await readText((await run.open(`${base}/big`)).read())).length).toBe(10_000);
    await expect(run.open(`${base}/big`).then((f) => readText(f.read()))).rejects.toThrow(/byte budget/);
    await expect(run.open(`${base}/ok.png`).then((f) => readText(f.read()))).rejects.toThrow(/byte budget/);
  });

  it('ranged reads of a server that ignores Range return only the range', async () => {
    const m = media({ mode: 'any' });
    expect(await readText((await m.open(`${base}/ok.png`)).read({ start: 3, end: 7 }))).toBe('BODY');
  });
});
