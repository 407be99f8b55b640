/**
 * The pipeline's media: a project's media policy built from its configuration (`media` in the
 * project config) — uploads under `media.uploadPrefix`, `s3://` only under it and
 * `media.s3Prefixes`, http(s) by `media.http`, never a local file. Pure: the composition roots
 * enforce it with PolicyMedia (storage/media.ts), one instance (one set of budgets) per render or
 * snapshot, and hand it over as PipelineContext.media.
 */
import { type HttpPolicy, type MediaPolicy, s3Location } from '../core/media-policy.ts';
import type { MediaConfig, ProjectConfig } from './config.ts';

const MiB = 1024 * 1024;

/** The `media.http` setting as a policy. */
export function httpPolicyOf(http: MediaConfig['http']): HttpPolicy {
  if (http === 'off' || http === 'public') return { mode: http };
  return { mode: 'allow', hosts: http.allowHosts };
}

/** A project's media policy, from its configuration only (the Lambdas never read local files). */
export function projectMediaPolicy(project: ProjectConfig): MediaPolicy {
  const m = project.media;
  const l = m.limits;
  return {
    upload: m.uploadPrefix ? { s3: s3Location(m.uploadPrefix) } : undefined,
    localRoots: [],
    noLocalRootsReason:
      'the pipeline never reads local files; media comes from media.uploadPrefix, media.s3Prefixes or http(s)',
    s3: m.s3Prefixes.map(s3Location),
    http: httpPolicyOf(m.http),
    limits: {
      timeoutMs: l.timeoutSeconds * 1000,
      runTimeMs: l.runSeconds * 1000,
      runBytes: l.runMiB * MiB,
      fileBytes: l.fileMiB * MiB,
      concurrency: l.concurrency,
      hostFailures: l.hostFailures,
      redirects: 3,
    },
  };
}
