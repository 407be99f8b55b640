/**
 * Local stand-in for S3 event notifications and SQS, for the demo, `sync` and the tests: local S3
 * servers (fauxqs) emit no S3 events, so object stores are wrapped to emit records in the exact
 * AWS shape (URL-encoded keys, sequencers, `ObjectCreated:Put` / `ObjectRemoved:Delete`) into
 * in-memory queues with a delivery delay, from which batches are handed to the handlers.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type AssemblyPart,
  type GetResult,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  readAll,
  uploadedBytes,
} from '../core/object-store.ts';
import { type NotificationRoute, type NotificationTarget, routeMatches } from '../pipeline/notifications.ts';
import { buildS3EventRecord, buildSqsRecord, LocalSequencer } from '../pipeline/s3-events.ts';

/** A subscribed route with its queue's delivery delay. */
interface Subscription {
  route: NotificationRoute;
  /** SQS delivery delay, seconds (the render queue's debounce). */
  delaySeconds: number;
}

interface Queued {
  record: SQSRecord;
  visibleAt: number;
}

export class LocalBus {
  private readonly subscriptions: Subscription[] = [];
  private readonly queues = new Map<string, Queued[]>();
  private readonly sequencer = new LocalSequencer();
  private nextId = 1;
  /** Virtual time in ms (delivery delays are measured against it). */
  time = 0;

  /**
   * Subscribes queues to S3 notifications as the stack does: one in-memory queue per route target
   * (`ingest`, `render`, `snapshot`), with that queue's delivery delay in seconds (the stack's render
   * debounce is 60 s). Pass `notificationRoutes(config)`, or a subset of it.
   */
  subscribe(
    routes: readonly NotificationRoute[],
    options: { delaySeconds?: Partial<Record<NotificationTarget, number>> } = {},
  ): void {
    for (const route of routes) {
      this.subscriptions.push({ route, delaySeconds: options.delaySeconds?.[route.target] ?? 0 });
      if (!this.queues.has(route.target)) this.queues.set(route.target, []);
    }
  }

  /** Emits the notification S3 would send for a change, once per subscribed route that matches. */
  emit(
    bucket: string,
    key: string,
    kind: 'created' | 'removed',
    info: { size?: number; etag?: string } = {},
  ): void {
    const sequencer = this.sequencer.next();
    for (const { route, delaySeconds } of this.subscriptions) {
      if (!routeMatches(route, bucket, key, kind)) continue;
      const record = buildS3EventRecord({
        bucket,
        key,
        eventName: kind === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
        sequencer,
        size: info.size,
        eTag: info.etag,
        eventTime: new Date().toISOString(),
      });
      this.enqueue(route.target, JSON.stringify({ Records: [record] }), delaySeconds);
    }
  }

  enqueue(queue: string, body: string, delaySeconds = 0): void {
    const q = this.queues.get(queue) ?? [];
    this.queues.set(queue, q);
    q.push({
      record: buildSqsRecord(body, `m-${this.nextId++}`, queue) as unknown as SQSRecord,
      visibleAt: this.time + delaySeconds * 1000,
    });
  }

  /** Messages waiting in a queue (visible or delayed). */
  pending(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  /** Takes up to `max` visible messages (in order) off a queue. */
  take(queue: string, max = Number.POSITIVE_INFINITY): SQSRecord[] {
    const q = this.queues.get(queue) ?? [];
    const out: SQSRecord[] = [];
    const keep: Queued[] = [];
    for (const m of q) {
      if (out.length < max && m.visibleAt <= this.time) out.push(m.record);
      else keep.push(m);
    }
    this.queues.set(queue, keep);
    return out;
  }

  /**
   * Hands visible messages to a handler in batches; records it reports failed go back to the
   * queue (visible again after `retryAfterSeconds`). Returns the number of handler invocations.
   */
  async deliver(
    queue: string,
    handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined | unknown>,
    options: { batchSize?: number; retryAfterSeconds?: number } = {},
  ): Promise<{ invocations: number; failed: number }> {
    let invocations = 0;
    let failed = 0;
    for (;;) {
      const batch = this.take(queue, options.batchSize ?? 10);
      if (batch.length === 0) return { invocations, failed };
      invocations++;
      const res = (await handler({ Records: batch })) as SQSBatchResponse | undefined;
      const failures = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const r of batch) {
        if (!failures.has(r.messageId)) continue;
        failed++;
        this.queues
          .get(queue)!
          .push({ record: r, visibleAt: this.time + (options.retryAfterSeconds ?? 30) * 1000 });
      }
    }
  }

  /** Wraps a store so that its writes and deletes emit notifications like S3's. */
  wrap(store: ObjectStore, bucket: string): ObjectStore {
    return new NotifyingStore(store, bucket, this);
  }
}

class NotifyingStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly bucket: string,
    private readonly bus: LocalBus,
  ) {}
  get description(): string {
    return this.inner.description;
  }
  list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }
  get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    return this.inner.get(key, range, versionId);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<{ etag?: string }> {
    const r = await this.inner.put(key, body, options);
    this.bus.emit(this.bucket, key, 'created', {
      size: typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      etag: r.etag,
    });
    return r;
  }
  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array | string>,
    options?: PutOptions,
  ): Promise<{ etag?: string }> {
    const r = await this.inner.putStream(key, body, options);
    this.bus.emit(this.bucket, key, 'created', { etag: r.etag });
    return r;
  }
  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.bus.emit(this.bucket, key, 'removed');
  }
  async assemble(key: string, parts: AssemblyPart[], options?: { contentType?: string }): Promise<PutResult> {
    let r: PutResult;
    if (this.inner.assemble) r = await this.inner.assemble(key, parts, options);
    else {
      const bufs: Uint8Array[] = [];
      for (const p of parts)
        bufs.push(
          'copy' in p
            ? await readAll((await this.inner.get(p.copy.key, p.copy)).body)
            : await uploadedBytes(p),
        );
      r = await this.inner.put(key, Buffer.concat(bufs), options);
    }
    this.bus.emit(this.bucket, key, 'created', { etag: r.etag });
    return r;
  }
  async copy(fromKey: string, toKey: string): Promise<void> {
    if (!this.inner.copy) throw new Error('copy is not supported by this store');
    await this.inner.copy(fromKey, toKey);
    this.bus.emit(this.bucket, toKey, 'created');
  }
}
