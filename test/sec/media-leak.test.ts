/**
 * sec-01 / sec-02 through the real Lambda wiring (createRuntime → the project's media policy) on the
 * mocked S3: task media may not read the Lambda's files (/proc/self/environ), other buckets, other
 * projects' state, or loopback/private hosts; refusals are reported in the manifest per task.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { FakeS3 } from '../handlers/fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from '../handlers/helpers.ts';

const ASR = `<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>`;
const IMG = `<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex');
const MARKER = 'AKIA-fake-session-token-xyz-sec01';

const hits: string[] = [];
let server: Server;
let base = '';
let port = 0;

beforeAll(async () => {
  process.env.AWS_SESSION_TOKEN_PROBE = MARKER;
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `${base}/internal-secret` });
      return res.end();
    }
    res.writeHead(200);
    res.end(Buffer.concat([PNG, Buffer.from('INTERNAL-METADATA-SECRET')]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  delete process.env.AWS_SESSION_TOKEN_PROBE;
  server.close();
});

let s3: FakeS3;
afterEach(() => s3?.restore());

function taskObj(id: number, data: Record<string, unknown>, result: unknown[]) {
  return JSON.stringify({
    id,
    data,
    annotations: [
      {
        id: id * 10,
        completed_by: 1,
        result,
        created_at: '2025-01-01T00:00:00Z',
        updated_at: '2025-01-01T00:00:00Z',
      },
    ],
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  });
}

const other = {
  id: 'other',
  source: { bucket: 'ls-source', prefix: 'ls/other' },
  labelConfig: { inline: ASR },
  formats: ['JSON'],
  export: { bucket: 'ls-exports', prefix: 'exports' },
};

/** Ingests the tasks, renders latest/, returns the manifest and every exported object's text. */
async function render(
  config: ReturnType<typeof parseConfig>,
  tasks: Array<[number, Record<string, unknown>, unknown[]]>,
) {
  const rt = mockRuntime(s3, config);
  const project = config.projects[0];
  const records = tasks.map(([id, data, result]) => {
    s3.put('ls-source', `${project.source.prefix}/${id}.json`, taskObj(id, data, result));
    return s3Message('ls-source', `${project.source.prefix}/${id}.json`);
  });
  const r1 = await createIngestHandler(() => rt)(sqsEvent(...records));
  expect(r1.batchItemFailures).toEqual([]);
  const paths = projectPaths(project);
  const r2 = await createRenderHandler(() => rt)(sqsEvent(s3Message('ls-exports', paths.dirty)));
  expect(r2.batchItemFailures).toEqual([]);
  const manifest = JSON.parse(s3.text('ls-exports', paths.latestManifest)!) as Manifest;
  const exported = s3
    .keys('ls-exports', paths.latest)
    .map((k) => ({ key: k, text: s3.text('ls-exports', k)! }));
  return { manifest, exported };
}

describe('sec-01/sec-02: media in the Lambdas follow the project media policy', () => {
  it('ASR_MANIFEST: no Lambda file, other bucket or other project state is copied; refusals are reported', async () => {
    s3 = new FakeS3();
    const config = parseConfig({
      version: 1,
      projects: [
        {
          id: 'asr',
          source: { bucket: 'ls-source', prefix: 'ls/asr' },
          labelConfig: { inline: ASR },
          formats: ['ASR_MANIFEST'],
          export: { bucket: 'ls-exports', prefix: 'exports' },
          media: { uploadPrefix: 's3://ls-media/upload/', s3Prefixes: ['s3://ls-media/asr/'] },
        },
        other,
      ],
    });
    s3.put('some-other-bucket', 'private/payroll.csv', 'name,salary\nalice,1000000\n');
    s3.put('ls-exports', 'exports/other/_state/tasks/n0000000000.jsonl', `{"secret":"OTHER-PROJECT-STATE"}`);
    s3.put('ls-media', 'upload/1/ok.wav', 'UPLOADED-AUDIO');
    s3.put('ls-media', 'asr/ok2.wav', 'PREFIX-AUDIO');
    s3.put('ls-media', 'private/x.wav', 'NOT-IN-PREFIX');
    const refusedUrls = [
      '/proc/self/environ',
      'file:///proc/self/environ',
      '../../../../etc/passwd',
      '/data/local-files/?d=proc/self/environ',
      's3://some-other-bucket/private/payroll.csv',
      's3://ls-exports/exports/other/_state/tasks/n0000000000.jsonl',
      's3://ls-media/asr/../private/x.wav',
      's3://ls-media/private/x.wav',
      `${base}/redirect`,
    ];
    const tasks: Array<[number, Record<string, unknown>, unknown[]]> = refusedUrls.map((audio, i) => [
      i + 1,
      { audio, duration: 1 },
      [],
    ]);
    tasks.push([50, { audio: '/data/upload/1/ok.wav', duration: 1 }, []]);
    tasks.push([51, { audio: 's3://ls-media/asr/ok2.wav', duration: 1 }, []]);
    hits.length = 0;
    const { manifest, exported } = await render(config, tasks);

    const files = manifest.formats[0].files!.map((f) => f.path).sort();
    expect(files).toEqual(['audio/ok.wav', 'audio/ok2.wav', 'manifest.json']);
    for (const o of exported) {
      expect(o.text, o.key).not.toContain(MARKER);
      expect(o.text, o.key).not.toContain('alice,1000000');
      expect(o.text, o.key).not.toContain('OTHER-PROJECT-STATE');
      expect(o.text, o.key).not.toContain('NOT-IN-PREFIX');
    }
    expect(hits).toEqual([]); // 127.0.0.1 is refused under the default "public" policy
    const skipped = manifest.report.skipped;
    for (const [i, url] of refusedUrls.entries()) {
      const entry = skipped.find((e) => e.taskId === i + 1);
      expect(entry, url).toBeDefined();
      expect(entry!.reason).toContain(`media not allowed: ${url}`);
    }
    expect(skipped.find((e) => e.taskId === 1)!.reason).toMatch(/outside the allowed media roots/);
    expect(skipped.find((e) => e.taskId === 5)!.reason).toMatch(/outside the project's media prefixes/);
    expect(skipped.find((e) => e.taskId === 7)!.reason).toMatch(/"\.\." segments/);
    expect(skipped.find((e) => e.taskId === 9)!.reason).toMatch(/loopback/);
  });

  it('COCO_WITH_IMAGES / YOLO: loopback in any notation and redirects are refused before any request', async () => {
    s3 = new FakeS3();
    const config = parseConfig({
      version: 1,
      projects: [
        {
          id: 'img',
          source: { bucket: 'ls-source', prefix: 'ls/img' },
          labelConfig: { inline: IMG },
          formats: ['COCO_WITH_IMAGES', 'YOLO'],
          export: { bucket: 'ls-exports', prefix: 'exports' },
        },
        other,
      ],
    });
    const rect = [
      {
        id: 'r',
        from_name: 'label',
        to_name: 'image',
        type: 'rectanglelabels',
        value: { x: 1, y: 1, width: 5, height: 5, rotation: 0, rectanglelabels: ['Car'] },
      },
    ];
    const urls = [
      `${base}/redirect`,
      `${base}/latest/meta-data/iam/security-credentials/`,
      `http://2130706433:${port}/decimal.png`,
      `http://[::ffff:127.0.0.1]:${port}/v6.png`,
      `http://0177.0.0.1:${port}/octal.png`,
      'http://169.254.169.254/latest/meta-data/',
    ];
    hits.length = 0;
    const { manifest, exported } = await render(
      config,
      urls.map((image, i) => [i + 1, { image }, rect]),
    );
    expect(hits).toEqual([]);
    for (const o of exported) expect(o.text, o.key).not.toContain('INTERNAL-METADATA-SECRET');
    const coco = manifest.formats.find((f) => f.format === 'COCO_WITH_IMAGES')!;
    expect(coco.files!.map((f) => f.path)).toEqual(['result.json']);
    const all = [...manifest.report.skipped, ...manifest.report.warnings];
    for (const [i, url] of urls.entries()) {
      const entry = all.find((e) => e.taskId === i + 1 && e.reason.includes('media not allowed'));
      expect(entry, url).toBeDefined();
      expect(entry!.reason).toContain(url.slice(0, 30));
    }
  });

  it('the project config refuses media prefixes over any export area or watched source', () => {
    const project = (media: Record<string, unknown>) => ({
      id: 'a',
      source: { bucket: 'ls-source', prefix: 'ls/a' },
      labelConfig: { inline: ASR },
      formats: ['JSON'],
      export: { bucket: 'ls-exports', prefix: 'exports' },
      media,
    });
    const parse = (media: Record<string, unknown>) => () =>
      parseConfig({ version: 1, projects: [project(media), other] });
    expect(parse({ s3Prefixes: ['s3://ls-exports/exports/'] })).toThrow(
      /media prefix s3:\/\/ls-exports\/exports\/ overlaps the export area s3:\/\/ls-exports\/exports\/a\//,
    );
    expect(parse({ s3Prefixes: ['s3://ls-exports/exports/other/_state'] })).toThrow(/export area .*"other"/);
    expect(parse({ uploadPrefix: 's3://ls-exports' })).toThrow(/overlaps the export area/);
    expect(parse({ s3Prefixes: ['s3://ls-source/ls/'] })).toThrow(/overlaps the watched source prefix/);
    expect(
      parse({ s3Prefixes: ['s3://ls-exports/media/'], uploadPrefix: 's3://ls-media/upload' }),
    ).not.toThrow();
  });
});
