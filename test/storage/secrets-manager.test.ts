/**
 * The Secrets Manager secret source of the token authorizer, over aws-sdk-client-mock (no local
 * Secrets Manager server is available): the GetSecretValue calls per staging label, a missing label
 * read as "no key", other errors thrown; then the deployed `handler` end to end over the mock.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/handlers/token-authorizer.ts';
import { secretsManagerSource } from '../../functions/storage/secrets-manager.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:LsExportApiToken-AbCdEf';
const CURRENT = 'current-key-0123456789abcdefghijklmnopqrstuv';
const PREVIOUS = 'previous-key-0123456789abcdefghijklmnopqrstu';

const notFound = (stage: string) =>
  new ResourceNotFoundException({
    message: `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
    $metadata: {},
  });

const sm = mockClient(SecretsManagerClient);
beforeEach(() => sm.reset());
afterEach(() => sm.reset());

describe('secretsManagerSource', () => {
  it('reads the SecretString of the asked staging label from the given secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' }).resolves({
      SecretString: CURRENT,
    });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' }).resolves({
      SecretString: PREVIOUS,
    });
    const source = secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}));
    expect(await source('AWSCURRENT')).toBe(CURRENT);
    expect(await source('AWSPREVIOUS')).toBe(PREVIOUS);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(sm).toHaveReceivedNthCommandWith(GetSecretValueCommand, 1, {
      SecretId: SECRET_ARN,
      VersionStage: 'AWSCURRENT',
    });
    expect(sm).toHaveReceivedNthCommandWith(GetSecretValueCommand, 2, {
      SecretId: SECRET_ARN,
      VersionStage: 'AWSPREVIOUS',
    });
  });

  it('a staging label no version carries (ResourceNotFoundException) is undefined, not an error', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound('AWSPREVIOUS'));
    const source = secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}));
    await expect(source('AWSPREVIOUS')).resolves.toBeUndefined();
  });

  it('a version with SecretBinary only has no key', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const source = secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}));
    await expect(source('AWSCURRENT')).resolves.toBeUndefined();
  });

  it('any other error (access denied) is thrown unchanged', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform GetSecretValue'), {
      name: 'AccessDeniedException',
    });
    sm.on(GetSecretValueCommand).rejects(denied);
    const source = secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}));
    await expect(source('AWSCURRENT')).rejects.toThrow(/not authorized to perform GetSecretValue/);
  });
});

describe('token authorizer handler over Secrets Manager', () => {
  const event = (authorization?: string): APIGatewayRequestAuthorizerEventV2 =>
    ({
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:eu-central-1:111122223333:abc/$default/GET/api/version',
      identitySource: authorization ? [authorization] : [],
      headers: authorization ? { authorization } : {},
      requestContext: { requestId: 'r-1' },
    }) as unknown as APIGatewayRequestAuthorizerEventV2;

  it('reads LS_EXPORT_API_TOKEN_SECRET_ID: the current key is authorized, an unknown one is not; AWSPREVIOUS missing is fine', async () => {
    process.env.LS_EXPORT_API_TOKEN_SECRET_ID = SECRET_ARN;
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' }).resolves({
      SecretString: CURRENT,
    });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' }).rejects(
      notFound('AWSPREVIOUS'),
    );
    try {
      expect(await handler(event(`Token ${CURRENT}`))).toEqual({
        isAuthorized: true,
        context: { tokenStage: 'AWSCURRENT' },
      });
      expect((await handler(event(`Token ${PREVIOUS}`))).isAuthorized).toBe(false);
      expect((await handler(event())).isAuthorized).toBe(false);
      // Both labels asked once; the second and third requests are served from the 60 s cache.
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    } finally {
      delete process.env.LS_EXPORT_API_TOKEN_SECRET_ID;
    }
  });
});
