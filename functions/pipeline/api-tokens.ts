/**
 * API keys for Label Studio's `Authorization: Token <key>` header (docs/pipeline.md, "Token
 * authentication"): the valid keys come from a secret store (AWS Secrets Manager in the Lambda),
 * several at once during a rotation (the `AWSCURRENT` and `AWSPREVIOUS` versions), cached briefly
 * so a rotation takes effect without a redeploy; a presented key is compared with every valid key
 * in constant time. No key or header value is ever logged or put in an error message. The secret
 * store is core's SecretSource port (core/secret-source.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type SecretSource, TOKEN_STAGES, type TokenStage } from '../core/secret-source.ts';

/** One accepted key and the staging label it came from. */
export interface ApiKey {
  stage: TokenStage;
  digest: Buffer;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Shortest key accepted from the secret (a shorter one is ignored, as if absent). */
export const MIN_KEY_LENGTH = 20;

/**
 * The valid keys, read from the source at most once per `ttlMs` (default 60 s). A secret string is
 * the key itself (surrounding whitespace ignored). A failed read is not cached: the next call
 * tries again (and throws if the source still fails, so the caller denies).
 */
export class ApiKeyCache {
  private cached?: { at: number; keys: ApiKey[] };
  private loading?: Promise<ApiKey[]>;

  constructor(
    private readonly source: SecretSource,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async keys(): Promise<ApiKey[]> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.keys;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<ApiKey[]> {
    const keys: ApiKey[] = [];
    for (const stage of TOKEN_STAGES) {
      const value = (await this.source(stage))?.trim();
      if (value && value.length >= MIN_KEY_LENGTH) keys.push({ stage, digest: digest(value) });
    }
    this.cached = { at: this.now(), keys };
    return keys;
  }
}

/**
 * The key of an `Authorization` header `Token <key>` (the keyword in any case, as Django REST
 * framework reads it); undefined for a missing header, another scheme or a malformed value.
 */
export function tokenFromHeader(header: string | undefined): string | undefined {
  const m = /^token +(\S+) *$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * The staging label of the valid key equal to `token`, or undefined. Compares SHA-256 digests with
 * crypto.timingSafeEqual against every key (no early exit), so the time taken tells nothing of
 * which bytes or which key matched.
 */
export function matchKey(token: string, keys: readonly ApiKey[]): TokenStage | undefined {
  const presented = digest(token);
  let match: TokenStage | undefined;
  for (const key of keys) {
    if (timingSafeEqual(presented, key.digest) && match === undefined) match = key.stage;
  }
  return match;
}
