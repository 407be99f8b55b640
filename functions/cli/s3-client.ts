/**
 * The CLI's S3 client. Kept apart from sources.ts so the AWS SDK is loaded only by the commands
 * and inputs that use S3 (s3:// inputs and media, `sync`): a local `convert` starts without it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../storage/s3.ts';

export interface S3Settings {
  endpoint?: string;
  region?: string;
}

const isLoopback = (url: string) =>
  /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/**
 * The CLI's S3 client. A local test server accepts any credentials, so a loopback endpoint without
 * configured credentials gets dummy ones; everything else uses the SDK's usual credential chain.
 */
export function s3Client(settings: S3Settings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const localCredentials =
    settings.endpoint && isLoopback(settings.endpoint) && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {};
  return new S3Client({ ...s3ClientConfig(settings), ...localCredentials });
}
