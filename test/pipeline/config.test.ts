import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../functions/pipeline/config.ts';
import {
  findProject,
  projectForDirtyMarker,
  projectForExportRequest,
  projectPaths,
  projectsForSourceKey,
} from '../../functions/pipeline/paths.ts';
import { makeConfig, projectInput } from './helpers.ts';

describe('pipeline configuration', () => {
  it('fills defaults: settings, LS snapshot options with omitted filters, nightly on', () => {
    const c = makeConfig({ settings: {} });
    expect(c.settings).toMatchObject({ shardTasks: 100, keyShards: 64, partSizeMiB: 8, casAttempts: 10 });
    const p = c.projects[0];
    expect(p.snapshot.nightly).toBe(true);
    expect(p.snapshot.options).toEqual({ anonymize: false });
    expect(p.options).toEqual({});
  });

  it('rejects an export prefix under a watched prefix, naming both', () => {
    const input = {
      version: 1,
      projects: [
        projectInput({
          source: { bucket: 'bkt', prefix: 'ls' },
          export: { bucket: 'bkt', prefix: 'ls/out' },
        }),
      ],
    };
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(
      /s3:\/\/bkt\/ls\/out lies under the watched prefix s3:\/\/bkt\/ls/,
    );
    // The same bucket is fine when the prefixes are apart.
    expect(() =>
      parseConfig({
        version: 1,
        projects: [
          projectInput({ source: { bucket: 'bkt', prefix: 'ls' }, export: { bucket: 'bkt', prefix: 'out' } }),
        ],
      }),
    ).not.toThrow();
  });

  it('rejects duplicate ids, bad formats, bad settings and non-JSON text', () => {
    expect(() => parseConfig({ version: 1, projects: [projectInput(), projectInput()] })).toThrow(
      /duplicate project id "proj"/,
    );
    expect(() => parseConfig({ version: 1, projects: [projectInput({ formats: ['JSONISH'] })] })).toThrow(
      /projects\.0\.formats\.0/,
    );
    expect(() =>
      parseConfig({ version: 1, projects: [projectInput()], settings: { partSizeMiB: 1 } }),
    ).toThrow(/settings\.partSizeMiB/);
    expect(() => parseConfig('{"version": 1,')).toThrow(/not valid JSON/);
  });
});

describe('key → project mapping', () => {
  const c = makeConfig({
    source: { bucket: 'src', prefix: 'ls/' },
    export: { bucket: 'out', prefix: 'exports/' },
  });
  const p = c.projects[0];

  it('maps source keys by watched prefix (Label Studio double slashes included)', () => {
    expect(projectsForSourceKey(c, 'src', 'ls//12').map((x) => x.id)).toEqual(['proj']);
    expect(projectsForSourceKey(c, 'src', 'ls/12.json').map((x) => x.id)).toEqual(['proj']);
    expect(projectsForSourceKey(c, 'src', 'lsx/12')).toEqual([]);
    expect(projectsForSourceKey(c, 'other', 'ls/12')).toEqual([]);
  });

  it('lays a project out under <export prefix>/<id>/ and finds markers and requests', () => {
    const paths = projectPaths(p);
    expect(paths.base).toBe('exports/proj/');
    expect(paths.dirty).toBe('exports/proj/_state/dirty');
    expect(paths.latestManifest).toBe('exports/proj/latest/manifest.json');
    expect(projectForDirtyMarker(c, 'out', 'exports/proj/_state/dirty')?.id).toBe('proj');
    expect(projectForDirtyMarker(c, 'out', 'exports/proj/_state/head.json')).toBeUndefined();
    expect(projectForExportRequest(c, 'out', 'exports/proj/_exports/requests/12.json')).toEqual({
      project: p,
      name: '12',
    });
    expect(projectForExportRequest(c, 'out', 'exports/proj/_exports/12.json')).toBeUndefined();
    expect(findProject(c, '7')?.id).toBe('proj');
    expect(findProject(c, 'proj')?.id).toBe('proj');
    expect(findProject(c, '8')).toBeUndefined();
  });
});
