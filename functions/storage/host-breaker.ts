/**
 * The per-host circuit breaker of http(s) media (storage/media.ts): after `limit` failures of one
 * host (timeouts, connection errors, 5xx) in a run, its further URLs are skipped at once. A host is
 * one host in any notation (`2130706433:80` is `127.0.0.1:80`) and port.
 */
import { mediaSkipped, writtenHost } from '../core/media.ts';
import { canonicalHost } from '../core/media-policy.ts';

/** The breaker's key: canonical host (any IP notation) and port. */
const hostKey = (url: URL) =>
  `${canonicalHost(url.hostname)}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;

export class HostBreaker {
  private readonly failures = new Map<string, number>();
  /** Each failed host as the first failing URL wrote it (hostKey → `127.0.0.1:8080`). */
  private readonly names = new Map<string, string>();

  /** `limit`: failures of one host after which it is skipped (MediaLimits.hostFailures). */
  constructor(private readonly limit: number) {}

  /**
   * Why `url` (its host written as `written`) is skipped, or undefined while its host may still be
   * tried. Names the host as the task wrote it, and the notation it failed under when that differs.
   */
  skipped(url: URL, written: string): string | undefined {
    const key = hostKey(url);
    const failures = this.failures.get(key) ?? 0;
    if (failures < this.limit) return undefined;
    const first = this.names.get(key);
    const same = first && first !== written ? ` (the same host as ${first})` : '';
    return `the host ${written}${same} is skipped after ${failures} failures in this run`;
  }

  /** Throws mediaSkipped for media `raw` (parsed as `url`) when its host is skipped. */
  check(raw: string, url: URL): void {
    const why = this.skipped(url, writtenHost(raw) ?? url.host);
    if (why) throw mediaSkipped(raw, why);
  }

  /** Counts a failure of `url`'s host (media `raw`). */
  fail(url: URL, raw: string): void {
    const key = hostKey(url);
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    if (!this.names.has(key)) this.names.set(key, writtenHost(raw) ?? url.host);
  }
}
