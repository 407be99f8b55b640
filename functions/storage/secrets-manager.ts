/**
 * The token authorizer's `SecretSource` port (core/secret-source.ts) over AWS Secrets Manager: the
 * secret's string at a staging label (`AWSCURRENT`, `AWSPREVIOUS`), read with `GetSecretValue`.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../core/secret-source.ts';

/**
 * `GetSecretValue({SecretId: secretId, VersionStage: stage}).SecretString` for each stage asked.
 * Resolves undefined when Secrets Manager answers ResourceNotFoundException (no version has that
 * label, as `AWSPREVIOUS` before the first rotation, or no such secret) and when the version holds
 * only `SecretBinary`; any other error (access denied, throttling, KMS) is thrown unchanged, so
 * the authorizer denies and logs it. `secretId` is the secret's name or ARN.
 */
export function secretsManagerSource(
  secretId: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): SecretSource {
  return async (stage) => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
      return out.SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      if ((err as { name?: string } | null)?.name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };
}
