/**
 * The CLI's media policy: local files only under --upload-dir/--project-dir/--media-root (sec-01),
 * --media-http, and the run budgets against a tarpit server (sec-06).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { DEFAULT_MEDIA_LIMITS } from '../../functions/core/media-policy.ts';
import type { ReportJson } from '../../functions/core/report.ts';

const CASES = join(import.meta.dirname, '..', 'fixtures', 'cases');
const SEC01 = join(CASES, 'sec-01-render-copies-lambda-local-files');
const SEC06 = join(CASES, 'sec-06-media-tarpit-exhausts-render');
const tmp = () => mkdtempSync(join(tmpdir(), 'ls-sec-'));
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;

describe('CLI: local media only under the roots the user gave', () => {
  it('sec-01: /tmp/secret.txt, /proc/self/environ and ../../etc/passwd are refused and reported, never read', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    const status = await main([
      'convert',
      '-q',
      '-i',
      join(SEC01, 'tasks.json'),
      '-c',
      join(SEC01, 'config.xml'),
      '-o',
      out,
      '-f',
      'ASR_MANIFEST',
    ]);
    expect(status).toBe(0);
    expect(existsSync(join(out, 'audio')) ? readdirSync(join(out, 'audio')) : []).toEqual([]);
    const r = report(out);
    expect(r.skipped.map((e) => e.taskId)).toEqual([1, 2, 3]);
    for (const [i, url] of ['/tmp/secret.txt', '/proc/self/environ', '../../../../etc/passwd'].entries()) {
      expect(r.skipped[i].reason).toBe(
        `audio unavailable, item left out: media not allowed: ${url}: local files are outside the allowed media roots (none are configured; the CLI takes --media-root DIR)`,
      );
    }
  });

  it('a file under --media-root is copied; one outside it (or linked out of it) is not', async () => {
    const dir = tmp();
    const root = join(dir, 'media');
    mkdirSync(root);
    writeFileSync(join(root, 'ok.wav'), 'AUDIO');
    writeFileSync(join(dir, 'secret.wav'), 'SECRET');
    const tasks = [
      { id: 1, data: { audio: join(root, 'ok.wav'), duration: 1 }, annotations: [] },
      { id: 2, data: { audio: join(dir, 'secret.wav'), duration: 1 }, annotations: [] },
      { id: 3, data: { audio: `${root}/%2e%2e/secret.wav`, duration: 1 }, annotations: [] },
      { id: 4, data: { audio: `file://${root}/%2e%2e/secret.wav`, duration: 1 }, annotations: [] },
      { id: 5, data: { audio: `${root}/../secret.wav`, duration: 1 }, annotations: [] },
    ];
    const input = join(dir, 'tasks.json');
    writeFileSync(input, JSON.stringify(tasks));
    const out = join(dir, 'out');
    const status = await main([
      'convert',
      '-q',
      '-i',
      input,
      '-c',
      join(SEC01, 'config.xml'),
      '-o',
      out,
      '-f',
      'ASR_MANIFEST',
      '--media-root',
      root,
    ]);
    expect(status).toBe(0);
    expect(readdirSync(join(out, 'audio'))).toEqual(['ok.wav']);
    const r = report(out);
    // Task 3 names a literal folder "%2e%2e" under the root, which does not exist: not found, not read.
    expect(r.skipped.find((e) => e.taskId === 3)!.reason).toMatch(/file not found/);
    for (const id of [2, 4, 5])
      expect(r.skipped.find((e) => e.taskId === id)!.reason).toMatch(/outside the allowed media roots/);
  });

  it('--media-http rejects a bad value with a usage error', async () => {
    const status = await main([
      'convert',
      '-q',
      '-i',
      join(SEC01, 'tasks.json'),
      '-c',
      join(SEC01, 'config.xml'),
      '-o',
      join(tmp(), 'o'),
      '-f',
      'ASR_MANIFEST',
      '--media-http',
      ' , ',
    ]);
    expect(status).toBe(2);
  });
});

describe('sec-06: a tarpit server cannot stall the conversion', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex');
  const hits: string[] = [];
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.startsWith('/slow')) {
        res.writeHead(200);
        res.write(PNG); // a PNG header, then the body never ends
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  function casesInput(dir: string): string {
    const text = readFileSync(join(SEC06, 'tasks.json'), 'utf8').replaceAll(':18080/', `:${port}/`);
    writeFileSync(join(dir, 'tasks.json'), text);
    return join(dir, 'tasks.json');
  }

  it('COCO with the default (permissive) http policy finishes in seconds, the slow URLs reported', async () => {
    // The default 5 s pause limit, shortened to 1 s for this run (read when the CLI builds its
    // media access): the same code path, a fifth of the wall-clock wait.
    expect(DEFAULT_MEDIA_LIMITS.timeoutMs).toBe(5_000);
    DEFAULT_MEDIA_LIMITS.timeoutMs = 1_000;
    const dir = tmp();
    const out = join(dir, 'out');
    const started = Date.now();
    const status = await main([
      'convert',
      '-q',
      '-i',
      casesInput(dir),
      '-c',
      join(SEC06, 'config.xml'),
      '-o',
      out,
      '-f',
      'COCO',
    ]).finally(() => {
      DEFAULT_MEDIA_LIMITS.timeoutMs = 5_000;
    });
    const seconds = (Date.now() - started) / 1000;
    expect(status).toBe(0);
    // Two timeouts, then the host is refused at once (the case took 91.5 s before).
    expect(seconds).toBeLessThan(15);
    const r = report(out);
    const reasons = (id: number) =>
      [...r.skipped, ...r.warnings]
        .filter((e) => e.taskId === id)
        .map((e) => e.reason)
        .join('\n');
    expect(reasons(1)).toMatch(/slow\/1\.png.*no data for 1 s/);
    expect(reasons(2)).toMatch(/slow\/2\.png.*no data for 1 s/);
    // Then the host is skipped, named as each task writes it (not WHATWG URL's [::ffff:7f00:1]).
    expect(reasons(3)).toMatch(
      /slow\/3\.png.*media skipped: the host 127\.0\.0\.1:\d+ is skipped after 2 failures in this run/,
    );
    expect(reasons(4)).toMatch(
      /the host 2130706433:\d+ \(the same host as 127\.0\.0\.1:\d+\) is skipped after 2 failures/,
    );
    expect(reasons(5)).toMatch(
      /the host \[::ffff:127\.0\.0\.1\]:\d+ \(the same host as 127\.0\.0\.1:\d+\) is skipped after 2 failures/,
    );
    for (const id of [3, 4, 5]) expect(reasons(id)).not.toMatch(/not allowed/);
    expect(hits.filter((h) => h.startsWith('/slow'))).toEqual(['/slow/1.png', '/slow/2.png']);
    const coco = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(coco.annotations).toEqual([]);
  }, 30_000);

  it('--media-http public refuses every loopback URL without a request', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    hits.length = 0;
    const started = Date.now();
    const status = await main([
      'convert',
      '-q',
      '-i',
      casesInput(dir),
      '-c',
      join(SEC06, 'config.xml'),
      '-o',
      out,
      '-f',
      'COCO',
      '--media-http',
      'public',
    ]);
    expect(status).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hits).toEqual([]);
    const r = report(out);
    for (const id of [1, 2, 3, 4, 5]) {
      expect(
        [...r.skipped, ...r.warnings].some(
          (e) => e.taskId === id && /media not allowed.*loopback/.test(e.reason),
        ),
      ).toBe(true);
    }
  });
});
