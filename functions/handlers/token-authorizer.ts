/**
 * Lambda authorizer of the export API (API Gateway HTTP API, payload 2.0, simple responses) for
 * Label Studio's `Authorization: Token <key>` — the alternative to IAM (SigV4) for the SDK and curl.
 * The valid keys are the secret `LS_EXPORT_API_TOKEN_SECRET_ID` (its `AWSCURRENT` and `AWSPREVIOUS`
 * versions, so both work during a rotation), cached `LS_EXPORT_API_TOKEN_CACHE_SECONDS` (default
 * 60). Answers `{isAuthorized, context: {tokenStage}}`; a failure to read the secret denies (and is
 * logged). The header's value is never logged. Logic: pipeline/api-tokens.ts.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { z } from 'zod';
import type { SecretSource } from '../core/secret-source.ts';
import { ApiKeyCache, matchKey, tokenFromHeader } from '../pipeline/api-tokens.ts';
import { jsonLogger, type PipelineContext } from '../pipeline/context.ts';
import { secretsManagerSource } from '../storage/secrets-manager.ts';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<{ tokenStage: string }>;

export interface TokenAuthorizerOptions {
  source: SecretSource;
  /** How long the keys read are trusted, seconds. Default 60. */
  cacheSeconds?: number;
  log?: PipelineContext['log'];
  now?: () => number;
}

const DENY: AuthorizerResult = { isAuthorized: false, context: { tokenStage: '' } };

/** The authorizer function over a secret source (tests pass a mock source). */
export function createTokenAuthorizer(options: TokenAuthorizerOptions) {
  const cache = new ApiKeyCache(options.source, (options.cacheSeconds ?? 60) * 1000, options.now);
  const log = options.log ?? jsonLogger('info');
  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const requestId = event.requestContext?.requestId;
    const token = tokenFromHeader(event.headers?.authorization ?? event.headers?.Authorization);
    if (!token) {
      log('info', 'token authorizer: no "Token <key>" Authorization header', { requestId });
      return DENY;
    }
    let keys: Awaited<ReturnType<ApiKeyCache['keys']>>;
    try {
      keys = await cache.keys();
    } catch (err) {
      log('error', 'token authorizer: cannot read the API key secret', {
        requestId,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      return DENY;
    }
    if (keys.length === 0) log('error', 'token authorizer: the API key secret holds no usable key', {});
    const stage = matchKey(token, keys);
    if (!stage) {
      log('info', 'token authorizer: unknown key', { requestId });
      return DENY;
    }
    if (stage !== 'AWSCURRENT')
      log('info', 'token authorizer: a previous key was used', { requestId, stage });
    return { isAuthorized: true, context: { tokenStage: stage } };
  };
}

export const authorizerEnvSchema = z.object({
  /** Name or ARN of the Secrets Manager secret holding the API key. */
  LS_EXPORT_API_TOKEN_SECRET_ID: z.string().min(1),
  LS_EXPORT_API_TOKEN_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
});

let cached: ReturnType<typeof createTokenAuthorizer> | undefined;

/** The Lambda entry point: configuration from the environment, parsed on first use. */
export async function handler(event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> {
  if (!cached) {
    const env = authorizerEnvSchema.parse(process.env);
    cached = createTokenAuthorizer({
      source: secretsManagerSource(env.LS_EXPORT_API_TOKEN_SECRET_ID),
      cacheSeconds: env.LS_EXPORT_API_TOKEN_CACHE_SECONDS,
    });
  }
  return cached(event);
}
