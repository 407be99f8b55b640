/**
 * A TaskSource over a project's state shards: tasks in task-id order, one shard in memory at a time
 * (plus a few prefetched), each assembled from its entries (records.ts). Re-iterable: the shard list
 * and each shard's ETag are pinned by the first pass, and a later pass that finds a shard changed
 * fails with StateChangedError instead of mixing two states.
 *
 * Per-task faults are reported and skipped, never thrown: a line without a task id, a record that
 * does not parse or assemble, a transform (snapshot filter) that throws on one task.
 */
import type { JsonObject } from '../core/json/value.ts';
import type { ObjectStore } from '../core/object-store.ts';
import type { SourceTask, TaskSource } from '../core/readers/source.ts';
import { type Report, reasonOf } from '../core/report.ts';
import { StateChangedError } from './errors.ts';
import { readText, type TextWithEtag } from './object-text.ts';
import type { ProjectPaths } from './paths.ts';
import { assembleTask, parseRecordLine, Shard } from './records.ts';

export interface StateSourceOptions {
  /** Shards read ahead of the one being converted. */
  prefetch?: number;
  /** Filters/rewrites each task (snapshots); undefined drops it. */
  transform?: (task: JsonObject) => JsonObject | undefined;
  /** Read only these shard keys (a segment's), in this order, instead of listing every shard. */
  shardKeys?: readonly string[];
}

export class StateTaskSource implements TaskSource {
  private shardKeys?: string[];
  private readonly etags = new Map<string, string>();
  /** Tasks and annotations of the last complete pass. */
  counts = { tasks: 0, annotations: 0 };
  /** Shards and bytes read over all passes. */
  io = { shards: 0, bytes: 0 };

  constructor(
    private readonly store: ObjectStore,
    private readonly paths: ProjectPaths,
    private readonly options: StateSourceOptions = {},
  ) {}

  get description(): string {
    return `${this.store.description}/${this.paths.taskShards}`;
  }

  private async shardList(): Promise<string[]> {
    if (!this.shardKeys && this.options.shardKeys) this.shardKeys = [...this.options.shardKeys];
    if (!this.shardKeys) {
      const keys: string[] = [];
      for await (const o of this.store.list(this.paths.taskShards))
        if (o.key.endsWith('.jsonl')) keys.push(o.key);
      this.shardKeys = keys.sort();
    }
    return this.shardKeys;
  }

  private async read(key: string): Promise<TextWithEtag | undefined> {
    const r = await readText(this.store, key);
    this.io.shards++;
    this.io.bytes += r?.bytes ?? 0;
    if (!r) {
      if (this.etags.has(key)) throw new StateChangedError(key);
      return undefined;
    }
    const pinned = this.etags.get(key);
    if (pinned !== undefined && pinned !== r.etag) throw new StateChangedError(key);
    this.etags.set(key, r.etag);
    return r;
  }

  async *tasks(report: Report): AsyncGenerator<SourceTask> {
    const keys = await this.shardList();
    const ahead = Math.max(1, this.options.prefetch ?? 3);
    const pending: Array<Promise<TextWithEtag | undefined>> = [];
    let next = 0;
    const fill = () => {
      while (pending.length < ahead && next < keys.length) {
        const p = this.read(keys[next++]);
        p.catch(() => {}); // surfaced when awaited
        pending.push(p);
      }
    };
    const counts = { tasks: 0, annotations: 0 };
    let i = 0;
    fill();
    while (pending.length > 0) {
      const key = keys[i++];
      const r = await pending.shift()!;
      fill();
      if (!r) continue;
      const shard = Shard.parse(r.text, (lineNo, reason) =>
        report.skip({ source: `${key} line ${lineNo}`, reason: `unreadable state record: ${reason}` }),
      );
      for (const taskId of shard.taskIds()) {
        let task: JsonObject | undefined;
        let source = key;
        try {
          const record = parseRecordLine(shard.lines.get(taskId)!);
          const firstLive = record.entries.find((e) => !e.deleted);
          if (firstLive) source = firstLive.key;
          task = assembleTask(record);
        } catch (err) {
          report.skip({
            source: `${key} (task ${taskId})`,
            taskId,
            reason: `unreadable state record: ${reasonOf(err)}`,
          });
          continue;
        }
        if (!task) continue;
        if (this.options.transform) {
          try {
            task = this.options.transform(task);
          } catch (err) {
            report.skip({ source, taskId, reason: `the task could not be filtered: ${reasonOf(err)}` });
            continue;
          }
        }
        if (!task) continue;
        counts.tasks++;
        if (Array.isArray(task.annotations)) counts.annotations += task.annotations.length;
        yield { task, ref: { source, taskId: /^\d{1,15}$/.test(taskId) ? Number(taskId) : taskId } };
      }
    }
    this.counts = counts;
  }
}
