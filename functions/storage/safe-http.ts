/**
 * One http(s) GET under the media policy: the address is checked when the socket connects (a DNS
 * lookup hook validates every resolved address, and the connected peer is checked again, so DNS
 * rebinding and IP literals in any notation are covered), redirects are followed by hand and each
 * hop is checked like the first URL, and a short timeout bounds the connect, the response headers
 * and every pause between body chunks.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { parseIpAddress } from '../core/ip-address.ts';
import { canonicalHost, type HttpPolicy } from '../core/media-policy.ts';

/** A request refused by the policy (no bytes were sent to that address). */
export class HttpRefusedError extends Error {
  override name = 'HttpRefusedError';
}

/** A request that timed out, could not connect, or failed on the server (counts against the host). */
export class HttpHostError extends Error {
  override name = 'HttpHostError';
}

export interface SafeGetOptions {
  policy: HttpPolicy;
  /** Why an address may not be connected to (`public` policy); undefined = allowed. */
  addressCheck: (address: string) => string | undefined;
  /** Why a URL (first or redirected) may not be requested; undefined = allowed. */
  urlCheck: (url: URL) => string | undefined;
  timeoutMs: number;
  redirects: number;
  range?: { start: number; end: number };
  /** Aborts the request (the run's time budget). */
  signal?: AbortSignal;
}

export interface SafeResponse {
  response: IncomingMessage;
  /** The URL finally answered (after redirects). */
  url: URL;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for http.request that refuses names resolving to an address the check rejects. */
function guardedLookup(check: (address: string) => string | undefined) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', 0);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = check(a.address);
        if (why)
          return callback(
            new HttpRefusedError(`${hostname} resolves to ${a.address}, ${why}`) as NodeJS.ErrnoException,
            options.all ? [] : '',
            0,
          );
      }
      if (options.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

function once(url: URL, opts: SafeGetOptions): Promise<IncomingMessage> {
  const checking = opts.policy.mode === 'public';
  const literal = parseIpAddress(url.hostname.replace(/^\[|\]$/g, ''));
  if (checking && literal) {
    const why = opts.addressCheck(canonicalHost(url.hostname));
    if (why) return Promise.reject(new HttpRefusedError(`${url.hostname} is ${why}`));
  }
  const requestOptions: RequestOptions = {
    method: 'GET',
    headers: {
      'user-agent': 'ls-export',
      ...(opts.range ? { range: `bytes=${opts.range.start}-${opts.range.end - 1}` } : {}),
    },
    agent: false,
    ...(checking ? { lookup: guardedLookup(opts.addressCheck) as unknown as RequestOptions['lookup'] } : {}),
    signal: opts.signal,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, requestOptions);
    const timer = setTimeout(
      () => req.destroy(new HttpHostError(`no response within ${opts.timeoutMs / 1000} s`)),
      opts.timeoutMs,
    );
    req.on('socket', (socket: Socket) => {
      if (!checking) return;
      socket.once('connect', () => {
        const peer = socket.remoteAddress;
        const why = peer === undefined ? 'unknown' : opts.addressCheck(peer);
        if (why) req.destroy(new HttpRefusedError(`${url.hostname} connected to ${peer}, ${why}`));
      });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      const cause = (err as { cause?: unknown }).cause;
      if (err instanceof HttpRefusedError || err instanceof HttpHostError) reject(err);
      else if (cause instanceof HttpRefusedError) reject(cause);
      else if (err.name === 'AbortError') reject(err);
      else
        reject(new HttpHostError(err.message || (err as NodeJS.ErrnoException).code || 'connection failed'));
    });
    req.end();
  });
}

/**
 * GETs a URL (optionally a byte range): follows up to `redirects` redirects, checking each target;
 * throws HttpRefusedError (policy), HttpHostError (timeouts, connection errors, 5xx) or Error
 * (other HTTP statuses). The caller reads the body and must consume or destroy it.
 */
export async function safeGet(first: URL, opts: SafeGetOptions): Promise<SafeResponse> {
  let url = first;
  for (let hop = 0; ; hop++) {
    const why = opts.urlCheck(url);
    if (why) throw new HttpRefusedError(hop === 0 ? why : `redirected to ${url.href.slice(0, 200)}: ${why}`);
    const res = await once(url, opts);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= opts.redirects) throw new HttpRefusedError(`more than ${opts.redirects} redirects`);
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status === 200 || status === 206) return { response: res, url };
    res.resume();
    if (status >= 500) throw new HttpHostError(`HTTP ${status}`);
    throw new Error(`HTTP ${status}`);
  }
}
