/**
 * The CLI's S3 client. Kept apart from sources.ts so the AWS SDK is loaded only by the commands
 * and inputs that use S3 (s3:// inputs and media, `sync`): a local `convert` starts without it.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../storage/s3.ts';

export interface S3Settings {
  endpoint?: string;
  region?: string;
}

const isLoopback = (url: string) =>
  /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

type CredentialProvider = Exclude<S3ClientConfig['credentials'], undefined>;
type ProviderFn = Extract<CredentialProvider, (...args: never[]) => unknown>;

/**
 * The SDK's default credential chain, except that once it finds no credentials at all
 * (CredentialsProviderError) later calls fail at once with the same error: without this, every
 * s3:// media object of a run without credentials walks the chain again (files, process, token,
 * instance metadata), ≈4 ms of CPU and up to seconds of waiting per object.
 */
export function failFastCredentials(chain: ProviderFn): ProviderFn {
  let failure: Error | undefined;
  return (async (...args: Parameters<ProviderFn>) => {
    if (failure) throw failure;
    try {
      return await chain(...args);
    } catch (err) {
      if ((err as Error).name === 'CredentialsProviderError') failure = err as Error;
      throw err;
    }
  }) as ProviderFn;
}

/**
 * The CLI's S3 client. A local test server accepts any credentials, so a loopback endpoint without
 * configured credentials gets dummy ones; everything else uses the SDK's usual credential chain
 * (failing fast once it found nothing, see failFastCredentials).
 */
export function s3Client(settings: S3Settings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const config = s3ClientConfig(settings);
  if (settings.endpoint && isLoopback(settings.endpoint) && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE)
    return new S3Client({ ...config, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // The SDK's default chain, as a client without `credentials` would build it.
  const chain = new S3Client(config).config.credentials as ProviderFn;
  return new S3Client({ ...config, credentials: failFastCredentials(chain) });
}
