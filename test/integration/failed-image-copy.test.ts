/**
 * A failed http(s) image copy leaves no file: a 404 (the failure before any byte) and a body cut
 * midway (after the PNG header went by) leave nothing under images/ in a folder or in an S3 bucket
 * (fauxqs), and the sink no longer lists the path. The good image of the same run is copied.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { parseExportOptions } from '../../functions/core/formats/options.ts';
import { DEFAULT_MEDIA_LIMITS } from '../../functions/core/media-policy.ts';
import { Report } from '../../functions/core/report.ts';
import { StoreSink } from '../../functions/core/store-sink.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { PolicyMedia } from '../../functions/storage/media.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { tasksSource } from '../helpers/export.ts';
import { bucketNames, createBuckets, s3Client } from './helpers.ts';

const CONFIG = `<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>`;

const PNG_BYTES = PNG.sync.write(new PNG({ width: 40, height: 30 }));

let server: Server;
/** The copy's path the resolver gives `<name>.png` from the server: `images/<md5_8(url)>__<name>.png`. */
const copyPath = (name: string) => {
  const url = `${base}/${name}.png`;
  return `images/${createHash('md5').update(url).digest('hex').slice(0, 8)}__${name}.png`;
};
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok.png') {
      res.writeHead(200, { 'content-length': PNG_BYTES.length });
      return res.end(PNG_BYTES);
    }
    if (req.url === '/cut.png') {
      // Headers and the first bytes (a full PNG header), then the connection drops.
      res.writeHead(200, { 'content-length': PNG_BYTES.length + 100_000 });
      res.write(PNG_BYTES);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function exportInto(sink: StoreSink, report: Report) {
  const tasks = ['ok', 'missing', 'cut'].map((name, i) => ({
    id: i + 1,
    data: { image: `${base}/${name}.png` },
    annotations: [{ id: 10 + i, result: [] }],
  }));
  await runExport({
    source: tasksSource(tasks),
    schema: parseLabelConfig(CONFIG),
    targets: [{ format: 'COCO_WITH_IMAGES', sink }],
    options: parseExportOptions({}),
    media: new PolicyMedia({
      localRoots: [],
      s3: [],
      http: { mode: 'allow', hosts: [new URL(base).host] },
      limits: DEFAULT_MEDIA_LIMITS,
    }),
    report,
  });
}

/** The images/ paths the sink says it wrote, and the reasons the report gives for the two failures. */
function check(sink: StoreSink, report: Report, left: string[]) {
  const copied = left.filter((p) => p.startsWith('images/'));
  expect(copied).toEqual([copyPath('ok')]);
  expect(sink.files.map((f) => f.path).filter((p) => p.startsWith('images/'))).toEqual(copied);
  for (const name of ['missing', 'cut']) {
    expect(left.some((p) => p.includes(name))).toBe(false);
    expect(report.warnings.some((w) => w.reason.includes(`${name}.png`))).toBe(true);
    // The sink does not claim the file either (a later image may take the name).
    expect(sink.exists(copyPath(name)), name).toBe(false);
  }
  expect(report.warnings.some((w) => w.reason.includes(`could not be copied to ${copyPath('cut')}`))).toBe(
    true,
  );
}

describe('a failed http(s) image copy leaves no file', () => {
  it('folder sink: no file (empty or partial) for the 404 and the cut body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-failed-copy-'));
    const report = new Report();
    const sink = new StoreSink(new FsObjectStore(dir), '', { report });
    await exportInto(sink, report);
    const left = existsSync(join(dir, 'images'))
      ? readdirSync(join(dir, 'images')).map((f) => `images/${f}`)
      : [];
    check(sink, report, [...left, ...readdirSync(dir)]);
  });

  it('S3 sink: no object for the 404 and the cut body', async () => {
    const client = s3Client();
    const { out } = bucketNames();
    await createBuckets(client, [out]);
    const report = new Report();
    const sink = new StoreSink(new S3ObjectStore(client, out), 'export', { report });
    await exportInto(sink, report);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: out }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.replace(/^export\//, ''));
    check(sink, report, keys);
  });
});
