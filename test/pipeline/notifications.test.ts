/** The S3 notification topology (functions/pipeline/notifications.ts) and the local bus that plays it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../functions/local/notification-bus.ts';
import { projectsForLabelConfigKey } from '../../functions/pipeline/label-config.ts';
import { notificationRoutes, routeMatches } from '../../functions/pipeline/notifications.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { makeConfig, projectInput } from './helpers.ts';

/** Two projects share a source bucket with nested watched prefixes; a third watches another bucket. */
const config = makeConfig({
  source: { bucket: 'ls-target', prefix: 'ls' },
  export: { bucket: 'out', prefix: 'exports/' },
  extraProjects: [
    {
      ...projectInput({
        source: { bucket: 'ls-target', prefix: 'ls/nested/' },
        export: { bucket: 'out', prefix: 'exports/' },
      }),
      id: 'inner',
    },
    {
      ...projectInput({ source: { bucket: 'other', prefix: '' }, export: { bucket: 'out', prefix: '' } }),
      id: 'whole',
    },
  ],
});

describe('notificationRoutes', () => {
  it('lists ingest per bucket and outermost prefix, then render and snapshot per project', () => {
    expect(notificationRoutes(config)).toEqual([
      { bucket: 'ls-target', prefix: 'ls/', events: ['created', 'removed'], target: 'ingest' },
      { bucket: 'other', prefix: '', events: ['created', 'removed'], target: 'ingest' },
      {
        bucket: 'out',
        prefix: 'exports/proj/_state/',
        suffix: '_state/dirty',
        events: ['created'],
        target: 'render',
      },
      {
        bucket: 'out',
        prefix: 'exports/proj/_exports/requests/',
        suffix: '.json',
        events: ['created'],
        target: 'snapshot',
      },
      {
        bucket: 'out',
        prefix: 'exports/inner/_state/',
        suffix: '_state/dirty',
        events: ['created'],
        target: 'render',
      },
      {
        bucket: 'out',
        prefix: 'exports/inner/_exports/requests/',
        suffix: '.json',
        events: ['created'],
        target: 'snapshot',
      },
      {
        bucket: 'out',
        prefix: 'whole/_state/',
        suffix: '_state/dirty',
        events: ['created'],
        target: 'render',
      },
      {
        bucket: 'out',
        prefix: 'whole/_exports/requests/',
        suffix: '.json',
        events: ['created'],
        target: 'snapshot',
      },
    ]);
  });

  it('matches keys by bucket, prefix, suffix and event family', () => {
    const routes = notificationRoutes(config);
    const targets = (bucket: string, key: string, event: 'created' | 'removed') =>
      routes.filter((r) => routeMatches(r, bucket, key, event)).map((r) => r.target);
    expect(targets('ls-target', 'ls/nested/1.json', 'removed')).toEqual(['ingest']);
    expect(targets('ls-target', 'lsx/1.json', 'created')).toEqual([]);
    expect(targets('other', 'anything/at/all', 'created')).toEqual(['ingest']);
    expect(targets('out', 'exports/proj/_state/dirty', 'created')).toEqual(['render']);
    expect(targets('out', 'exports/proj/_state/dirty', 'removed')).toEqual([]);
    expect(targets('out', 'exports/proj/_state/head.json', 'created')).toEqual([]);
    expect(targets('out', 'exports/proj/_exports/requests/r1.json', 'created')).toEqual(['snapshot']);
    expect(targets('out', 'exports/proj/_exports/requests/r1.tmp', 'created')).toEqual([]);
    expect(targets('out', 'exports/proj/_exports/1.json', 'created')).toEqual([]);
  });
});

describe('label config objects', () => {
  const withConfig = (id: string, source: { bucket: string; prefix: string }, labelConfig: string) => ({
    ...projectInput({ source, export: { bucket: 'out', prefix: 'exports/' } }),
    id,
    labelConfig: { s3: labelConfig },
  });
  /** In the export bucket (two projects share it), under a watched prefix, and in a bucket of its own. */
  const configs = makeConfig({
    source: { bucket: 'ls-target', prefix: 'ls' },
    export: { bucket: 'out', prefix: 'exports/' },
    extraProjects: [
      withConfig('a', { bucket: 'ls-target', prefix: 'ls/a' }, 's3://out/label-configs/shared.xml'),
      withConfig('b', { bucket: 'ls-target', prefix: 'ls/b' }, 's3://out/label-configs/shared.xml'),
      withConfig('c', { bucket: 'ls-target', prefix: 'ls/c' }, 's3://ls-target/ls/c-config.xml'),
      withConfig('d', { bucket: 'ls-target', prefix: 'ls/d' }, 's3://config-bucket/d.xml'),
    ],
  });

  it('are ingest routes by exact key, one per object, none under a watched prefix', () => {
    const ingest = notificationRoutes(configs).filter((r) => r.target === 'ingest');
    expect(ingest).toEqual([
      { bucket: 'ls-target', prefix: 'ls/', events: ['created', 'removed'], target: 'ingest' },
      { bucket: 'out', prefix: 'label-configs/shared.xml', events: ['created', 'removed'], target: 'ingest' },
      { bucket: 'config-bucket', prefix: 'd.xml', events: ['created', 'removed'], target: 'ingest' },
    ]);
    const routes = notificationRoutes(configs);
    const targets = (bucket: string, key: string) =>
      routes.filter((r) => routeMatches(r, bucket, key, 'created')).map((r) => r.target);
    expect(targets('out', 'label-configs/shared.xml')).toEqual(['ingest']);
    expect(targets('out', 'label-configs/other.xml')).toEqual([]);
    expect(targets('config-bucket', 'd.xml')).toEqual(['ingest']);
  });

  it('the projects using an object are found by exact bucket and key', () => {
    const ids = (bucket: string, key: string) =>
      projectsForLabelConfigKey(configs, bucket, key).map((p) => p.id);
    expect(ids('out', 'label-configs/shared.xml')).toEqual(['a', 'b']);
    expect(ids('out', 'label-configs/shared.xml.bak')).toEqual([]);
    expect(ids('ls-target', 'ls/c-config.xml')).toEqual(['c']);
    expect(ids('out', 'd.xml')).toEqual([]);
  });
});

describe('LocalBus subscribed to the routes', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('queues what the stack would deliver, with the render delay', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-bus-'));
    const bus = new LocalBus();
    bus.subscribe(notificationRoutes(config), { delaySeconds: { render: 60 } });
    const source = bus.wrap(new FsObjectStore(join(dir, 'src')), 'ls-target');
    const out = bus.wrap(new FsObjectStore(join(dir, 'out')), 'out');
    await source.put('ls/1', '{}');
    await source.delete('ls/1');
    await source.put('elsewhere/2', '{}');
    await out.put('exports/proj/_state/dirty', '');
    await out.put('exports/proj/_state/head.json', '{}');
    await out.put('exports/inner/_exports/requests/a.json', '{}');
    const events = (queue: string) =>
      bus.take(queue).map((m) => {
        const r = JSON.parse(m.body).Records[0];
        return `${r.eventName} ${r.s3.object.key}`;
      });
    expect(events('ingest')).toEqual(['ObjectCreated:Put ls/1', 'ObjectRemoved:Delete ls/1']);
    expect(events('snapshot')).toEqual(['ObjectCreated:Put exports/inner/_exports/requests/a.json']);
    expect(events('render')).toEqual([]);
    bus.time += 60_000;
    expect(events('render')).toEqual(['ObjectCreated:Put exports/proj/_state/dirty']);
  });
});
