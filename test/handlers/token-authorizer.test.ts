/**
 * The token authorizer (HTTP API simple responses) over a mocked secret source: Label Studio's
 * `Token <key>` header, both keys during a rotation, the 60 s cache, a failing source denying,
 * and no key or header value in any log line.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { TokenStage } from '../../functions/core/secret-source.ts';
import { createTokenAuthorizer } from '../../functions/handlers/token-authorizer.ts';
import { ApiKeyCache, matchKey, tokenFromHeader } from '../../functions/pipeline/api-tokens.ts';

const CURRENT = 'k-current-0123456789abcdef0123';
const PREVIOUS = 'k-previous-0123456789abcdef012';

function setup(secret: Partial<Record<TokenStage, string>>) {
  const calls: TokenStage[] = [];
  const logs: string[] = [];
  let t = 0;
  const state = { secret, fail: false };
  const authorize = createTokenAuthorizer({
    source: async (stage) => {
      calls.push(stage);
      if (state.fail) throw new Error('AccessDeniedException: not allowed');
      return state.secret[stage];
    },
    now: () => t,
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
  });
  const event = (authorization?: string) =>
    ({
      version: '2.0',
      type: 'REQUEST',
      headers: authorization === undefined ? {} : { authorization },
      requestContext: { requestId: 'r1' },
    }) as unknown as APIGatewayRequestAuthorizerEventV2;
  return { calls, logs, state, authorize, event, advance: (ms: number) => (t += ms) };
}

describe('token authorizer', () => {
  it('accepts the current and the previous key, refuses others and other schemes', async () => {
    const s = setup({ AWSCURRENT: CURRENT, AWSPREVIOUS: PREVIOUS });
    expect(await s.authorize(s.event(`Token ${CURRENT}`))).toEqual({
      isAuthorized: true,
      context: { tokenStage: 'AWSCURRENT' },
    });
    expect(await s.authorize(s.event(`token ${PREVIOUS}`))).toEqual({
      isAuthorized: true,
      context: { tokenStage: 'AWSPREVIOUS' },
    });
    for (const h of [
      `Bearer ${CURRENT}`,
      `Token ${CURRENT}x`,
      `Token ${CURRENT.slice(0, -1)}`,
      'Token',
      '',
      undefined,
    ])
      expect((await s.authorize(s.event(h))).isAuthorized).toBe(false);
    expect(s.logs.join('\n')).not.toMatch(/k-current|k-previous/);
  });

  it('reads the secret once per 60 s, so a rotation takes effect without a redeploy', async () => {
    const s = setup({ AWSCURRENT: CURRENT });
    await s.authorize(s.event(`Token ${CURRENT}`));
    await s.authorize(s.event(`Token ${CURRENT}`));
    expect(s.calls).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    const rotated = 'k-rotated-0123456789abcdef0123';
    s.state.secret = { AWSCURRENT: rotated, AWSPREVIOUS: CURRENT };
    expect((await s.authorize(s.event(`Token ${rotated}`))).isAuthorized).toBe(false); // cached
    s.advance(60_000);
    expect((await s.authorize(s.event(`Token ${rotated}`))).isAuthorized).toBe(true);
    expect((await s.authorize(s.event(`Token ${CURRENT}`))).context.tokenStage).toBe('AWSPREVIOUS');
    expect(s.calls).toHaveLength(4);
  });

  it('denies when the secret cannot be read (not cached: the next request retries) or holds no usable key', async () => {
    const s = setup({ AWSCURRENT: CURRENT });
    s.state.fail = true;
    expect((await s.authorize(s.event(`Token ${CURRENT}`))).isAuthorized).toBe(false);
    expect(s.logs.some((l) => l.startsWith('error') && l.includes('AccessDeniedException'))).toBe(true);
    s.state.fail = false;
    expect((await s.authorize(s.event(`Token ${CURRENT}`))).isAuthorized).toBe(true);
    const short = setup({ AWSCURRENT: 'short' });
    expect((await short.authorize(short.event('Token short'))).isAuthorized).toBe(false);
    expect(short.logs.some((l) => l.includes('no usable key'))).toBe(true);
  });
});

describe('api-tokens', () => {
  it('parses the Token header as Django REST framework does', () => {
    expect(tokenFromHeader('Token abc')).toBe('abc');
    expect(tokenFromHeader('TOKEN   abc ')).toBe('abc');
    expect(tokenFromHeader('Token a b')).toBeUndefined();
    expect(tokenFromHeader('Basic abc')).toBeUndefined();
  });

  it('matches against every key and reports the first stage', async () => {
    const keys = await new ApiKeyCache(async (stage) => (stage === 'AWSCURRENT' ? CURRENT : CURRENT)).keys();
    expect(keys.map((k) => k.stage)).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(matchKey(CURRENT, keys)).toBe('AWSCURRENT');
    expect(matchKey(PREVIOUS, keys)).toBeUndefined();
    expect(matchKey(CURRENT, [])).toBeUndefined();
  });
});
