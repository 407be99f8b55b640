import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { projectMediaPolicy } from '../../functions/pipeline/media.ts';
import { PolicyMedia } from '../../functions/storage/media.ts';

const project = (media?: unknown) => ({
  id: 'p',
  source: { bucket: 'ls-source', prefix: 'ls/p' },
  labelConfig: { inline: '<View/>' },
  formats: ['JSON'],
  export: { bucket: 'ls-exports', prefix: 'exports' },
  ...(media === undefined ? {} : { media }),
});
const policyOf = (media?: unknown) =>
  projectMediaPolicy(parseConfig({ version: 1, projects: [project(media)] }).projects[0]);

describe('the project media policy', () => {
  it('a local file is refused naming the pipeline media settings, not a CLI flag', async () => {
    await expect(new PolicyMedia(policyOf()).open('/etc/hostname')).rejects.toThrow(
      /outside the allowed media roots \(the pipeline never reads local files; media comes from media\.uploadPrefix/,
    );
  });

  it('defaults: no local files, no s3:// beyond the upload prefix, public http, bounded budgets', () => {
    const p = policyOf();
    expect(p.localRoots).toEqual([]);
    // Refusals name the pipeline's media settings, not the CLI's --media-root (B12).
    expect(p.noLocalRootsReason).toMatch(/^the pipeline never reads local files; .*media\.uploadPrefix/);
    expect(p.noLocalRootsReason).not.toContain('--media-root');
    expect(p.s3).toEqual([]);
    expect(p.upload).toBeUndefined();
    expect(p.http).toEqual({ mode: 'public' });
    expect(p.limits).toMatchObject({ timeoutMs: 5000, runTimeMs: 120_000, concurrency: 8, hostFailures: 2 });
  });

  it('reads uploadPrefix, s3Prefixes, http and limits', () => {
    const p = policyOf({
      uploadPrefix: 's3://ls-media/upload',
      s3Prefixes: ['s3://acme-images/raw/', 's3://acme-images'],
      http: { allowHosts: ['images.example.com'] },
      limits: { timeoutSeconds: 2, runSeconds: 30, runMiB: 100 },
    });
    expect(p.upload).toEqual({ s3: { bucket: 'ls-media', prefix: 'upload' } });
    expect(p.s3).toEqual([
      { bucket: 'acme-images', prefix: 'raw/' },
      { bucket: 'acme-images', prefix: '' },
    ]);
    expect(p.http).toEqual({ mode: 'allow', hosts: ['images.example.com'] });
    expect(p.limits).toMatchObject({ timeoutMs: 2000, runTimeMs: 30_000, runBytes: 100 * 1024 * 1024 });
    expect(policyOf({ http: 'off' }).http).toEqual({ mode: 'off' });
  });

  it('rejects malformed media settings with their key', () => {
    expect(() => policyOf({ s3Prefixes: ['https://x/y'] })).toThrow(
      /media\.s3Prefixes\.0: must be s3:\/\/bucket\/prefix/,
    );
    expect(() => policyOf({ http: 'any' })).toThrow(/media\.http/);
    expect(() => policyOf({ http: { allowHosts: [] } })).toThrow(/media\.http/);
    expect(() => policyOf({ s3prefixes: [] })).toThrow(/media/);
  });
});

describe('config validation with several broken fields', () => {
  it('lists the field problems instead of failing inside the overlap check', () => {
    const broken = { ...project({ s3Prefixes: ['s3://ls-exports/exports/'] }), export: { bucket: 'X' } };
    expect(() => parseConfig({ version: 1, projects: [broken, project()] })).toThrow(
      /projects\.0\.export\.bucket/,
    );
  });
});
