/** Errors the CLI turns into one sentence on stderr and a non-zero exit status. */

/** Bad command-line usage: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A missing input, an unreadable config, an unsupported format: exit status 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad input the user supplied (a label config that is not a valid label config): exit status 2, one sentence, no usage hint. */
export class InputError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * One sentence for a label config that cannot be used: `where` names it (a file, an s3:// key, "of
 * project P (…)"), `message` is the LabelConfigError's ("the label config is not well-formed XML: …").
 */
export function labelConfigInputError(where: string, message: string): InputError {
  const lead = 'the label config ';
  return new InputError(
    message.startsWith(lead)
      ? `${lead}${where} ${message.slice(lead.length)}`
      : `the label config ${where} is not a valid label config: ${message}`,
  );
}

/** The fields of an AWS SDK or Node network error this module reads. */
interface ErrorFacts {
  name?: string;
  code?: string;
  message?: string;
  BucketName?: string;
  hostname?: string;
  address?: string;
  port?: number;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  /** Node's file system errors: the call, the path and (rename, copy) the destination. */
  syscall?: string;
  path?: string;
  dest?: string;
}

/** What a local file system error code means for the user. */
const FILE_SYSTEM_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (a read-only or immutable file or folder?)',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EEXIST: 'a file of that name is in the way',
  ENOTDIR: 'a file is in the way of a folder',
  EISDIR: 'a folder is in the way of a file',
  EMFILE: 'too many open files (raise `ulimit -n`)',
};

/** One sentence for a local file system error (Node's code, call and path), or undefined. */
function fileSystemError(e: ErrorFacts): string | undefined {
  const reason = e.code && FILE_SYSTEM_REASONS[e.code];
  if (!reason || !e.path) return undefined;
  const target = e.dest ? `${e.path} -> ${e.dest}` : e.path;
  return `the file system refused ${e.syscall ?? 'access to'} ${target}: ${reason} (${e.code}); the output may be incomplete`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);
const BAD_CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'UnrecognizedClientException',
]);

/** The error, or the first of its causes, with a network error code. */
function networkError(err: unknown): ErrorFacts | undefined {
  for (let e = err as ErrorFacts | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorFacts, depth++) {
    if (typeof e === 'object' && e.code && NETWORK_CODES.has(e.code)) return e;
  }
  return undefined;
}

/**
 * One sentence for the failures people meet with S3 inputs — no AWS credentials, credentials
 * refused, access denied, a missing bucket or key, a wrong endpoint or region — and with local
 * files (permission, read-only, no space, a file or folder in the way), or undefined for any other
 * error. `endpoint`: the --endpoint in use, named when it cannot be reached.
 */
export function describeError(err: unknown, endpoint?: string): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorFacts;
  const local = fileSystemError(e);
  if (local) return local;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'CredentialsProviderError')
    return 'no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  if (e.name && BAD_CREDENTIALS.has(e.name))
    return `AWS refused the credentials (${e.name}): check AWS_PROFILE or the access keys, or log in again`;
  if (e.name === 'AccessDenied' || e.name === 'Forbidden' || status === 403)
    return `access denied by S3 (${e.name ?? 403}): the credentials in use may not read that bucket or key (s3:ListBucket, s3:GetObject)`;
  if (e.name === 'NoSuchBucket')
    return `S3 bucket ${e.BucketName ? `"${e.BucketName}" ` : ''}does not exist (check the s3:// address and --endpoint)`;
  if (e.name === 'NoSuchKey') return 'S3 object not found (check the s3:// address)';
  if (e.name === 'PermanentRedirect' || e.name === 'AuthorizationHeaderMalformed' || status === 301)
    return `the bucket is in another AWS region (${e.name ?? status}): pass --region or set AWS_REGION`;
  const net = networkError(err);
  if (net) {
    const where = endpoint ?? net.hostname ?? (net.address ? `${net.address}:${net.port ?? ''}` : 'S3');
    return `cannot reach ${where} (${net.code}): check --endpoint / AWS_ENDPOINT_URL_S3 and the network`;
  }
  if (e.name === 'TimeoutError')
    return `S3 did not answer in time${endpoint ? ` at ${endpoint}` : ''}: check --endpoint and the network`;
  if (status !== undefined)
    return `S3 request failed (${e.name ?? 'HTTP'} ${status}${e.message && e.message !== e.name ? `: ${e.message}` : ''})${endpoint ? `; is ${endpoint} an S3 endpoint?` : ''}`;
  return undefined;
}
