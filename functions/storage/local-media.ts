/**
 * The CLI's media access: PolicyMedia (media.ts) with the CLI's policy — local files only under the
 * upload folder and `--media-root` folders, any `s3://` key the user's credentials can read (the
 * AWS SDK loaded only when a task names one), http(s) by `--media-http` (docs/media-policy.md).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DEFAULT_MEDIA_LIMITS,
  type HttpPolicy,
  type MediaLimits,
  type MediaPolicy,
} from '../core/media-policy.ts';
import type { ObjectStore } from '../core/object-store.ts';
import { PolicyMedia } from './media.ts';

export interface LocalMediaOptions {
  /** A local copy of Label Studio's upload folder (`/data/upload/…` paths resolve here). */
  uploadDir?: string;
  /** More local folders task paths may name (`--media-root`). */
  mediaRoots?: string[];
  /** An S3 client for `s3://` media, created on first use (any key the credentials can read). */
  s3?: () => S3Client | Promise<S3Client>;
  /** http(s) policy (default `any`: the user's own machine, see docs/media-policy.md). */
  http?: HttpPolicy;
  limits?: Partial<MediaLimits>;
}

/** The CLI's media policy: local files only under the upload folder and the media roots. */
export function cliMediaPolicy(options: LocalMediaOptions): MediaPolicy {
  const roots = [...(options.uploadDir ? [options.uploadDir] : []), ...(options.mediaRoots ?? [])];
  return {
    upload: options.uploadDir ? { dir: options.uploadDir } : undefined,
    localRoots: roots,
    noLocalRootsReason: 'none are configured; the CLI takes --media-root DIR',
    s3: 'any',
    http: options.http ?? { mode: 'any' },
    limits: { ...DEFAULT_MEDIA_LIMITS, ...options.limits },
  };
}

/** PolicyMedia with the CLI's policy (see cliMediaPolicy). */
export class LocalMedia extends PolicyMedia {
  constructor(options: LocalMediaOptions = {}) {
    let client: Promise<S3Client> | undefined;
    const stores = new Map<string, Promise<ObjectStore>>();
    super(cliMediaPolicy(options), {
      // The AWS SDK (storage/s3.ts) is loaded only when a task names s3:// media.
      store: options.s3
        ? (bucket) => {
            let s = stores.get(bucket);
            if (!s) {
              client ??= Promise.resolve(options.s3!());
              const c = client;
              s = import('./s3.ts').then(async ({ S3ObjectStore }) => new S3ObjectStore(await c, bucket));
              stores.set(bucket, s);
            }
            return s;
          }
        : undefined,
    });
  }
}
