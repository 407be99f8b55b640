/** One JSON export file or JSON Lines file, read from an ObjectStore (a local folder or S3). */
import type { ObjectStore } from '../object-store.ts';
import type { Report } from '../report.ts';
import { readJsonExport, readJsonLines } from './json-export.ts';
import type { SourceTask, TaskReadOptions, TaskSource } from './source.ts';

export class SingleFileSource implements TaskSource {
  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
  ) {}

  get description(): string {
    return `${this.store.description}/${this.key}`;
  }

  get isJsonLines(): boolean {
    return /\.(jsonl|ndjson)$/i.test(this.key);
  }

  /** The raw bytes, for the JSON format's byte-for-byte copy. */
  async raw(): Promise<AsyncIterable<Uint8Array>> {
    return (await this.store.get(this.key)).body;
  }

  /** The tasks; `options.unreadKeys` are skipped by the splitter of a JSON export (not JSON Lines). */
  async *tasks(report: Report, options: TaskReadOptions = {}): AsyncGenerator<SourceTask> {
    const { body } = await this.store.get(this.key);
    const name = this.key.split('/').pop() ?? this.key;
    if (this.isJsonLines) yield* readJsonLines(body, name, report);
    else yield* readJsonExport(body, name, report, {}, { skipKeys: options.unreadKeys });
  }
}
