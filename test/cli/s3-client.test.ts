import { describe, expect, it } from 'vitest';
import { failFastCredentials, s3Client } from '../../functions/cli/s3-client.ts';

class CredentialsProviderError extends Error {
  override name = 'CredentialsProviderError';
}

describe('failFastCredentials (one walk of the credential chain per run when it finds nothing)', () => {
  it('after the chain found no credentials, fails at once with the same error', async () => {
    let calls = 0;
    const provider = failFastCredentials(async () => {
      calls++;
      throw new CredentialsProviderError('Could not load credentials from any providers');
    });
    const first = await provider().catch((e: Error) => e);
    const second = await provider().catch((e: Error) => e);
    expect(first).toBeInstanceOf(CredentialsProviderError);
    expect(second).toBe(first);
    expect(calls).toBe(1);
  });

  it('asks again after other errors, and returns credentials when the chain has them', async () => {
    let calls = 0;
    const provider = failFastCredentials(async () => {
      if (++calls === 1) throw new Error('socket hang up');
      return { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    });
    await expect(provider()).rejects.toThrow('socket hang up');
    await expect(provider()).resolves.toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret' });
    expect(calls).toBe(2);
  });
});

describe('s3Client', () => {
  it('gives a loopback endpoint without configured credentials dummy ones', async () => {
    const client = s3Client({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' }, {});
    await expect(client.config.credentials()).resolves.toMatchObject({
      accessKeyId: 'local',
      secretAccessKey: 'local',
    });
  });

  it('uses the environment credentials through the fail-fast chain elsewhere', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'envsecret' });
    try {
      const client = s3Client({ region: 'eu-west-1' });
      await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDENV' });
    } finally {
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
