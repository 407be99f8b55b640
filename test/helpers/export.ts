/** Test helpers: run a format over in-memory tasks or a fixture file and capture the files written. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FormatName } from '../../functions/core/config/formats.ts';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { type ExportOptionsInput, parseExportOptions } from '../../functions/core/formats/options.ts';
import type { FileWriter, OutputSink } from '../../functions/core/formats/types.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import type { MediaAccess } from '../../functions/core/media.ts';
import { readJsonExport } from '../../functions/core/readers/json-export.ts';
import type { TaskSource } from '../../functions/core/readers/source.ts';
import { Report } from '../../functions/core/report.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'label-studio');

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export class MemorySink implements OutputSink {
  readonly files = new Map<string, Buffer>();
  /** Each `writeFile` call's path, in order (a path written twice is listed twice). */
  readonly writes: string[] = [];
  open(path: string): FileWriter {
    const parts: Buffer[] = [];
    this.files.set(path, Buffer.alloc(0));
    return {
      write: (chunk) => {
        parts.push(Buffer.from(chunk));
      },
      close: async () => {
        this.files.set(path, Buffer.concat(parts));
      },
    };
  }
  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.writes.push(path);
    this.files.set(path, Buffer.from(content));
  }
  exists(path: string): boolean {
    return this.files.has(path);
  }
  async copyFrom(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const c of source) parts.push(c);
    this.files.set(path, Buffer.concat(parts));
  }
  text(path: string): string {
    const f = this.files.get(path);
    if (!f) throw new Error(`no file ${path}; have ${[...this.files.keys()].join(', ')}`);
    return f.toString('utf8');
  }
}

/** A source over a JSON text (an export array), parsed losslessly like a real file. */
export function textSource(json: string, name = 'input.json'): TaskSource {
  return {
    description: name,
    tasks: (report) =>
      readJsonExport(
        (async function* () {
          yield json;
        })(),
        name,
        report,
      ),
  };
}

export function tasksSource(tasks: unknown[]): TaskSource {
  return textSource(JSON.stringify(tasks));
}

export interface ExportRun {
  sink: MemorySink;
  report: Report;
  tasks: number;
}

export async function exportWith(
  source: TaskSource | unknown[] | string,
  config: string,
  format: FormatName,
  options: ExportOptionsInput = {},
  media?: MediaAccess,
  sink: MemorySink = new MemorySink(),
): Promise<ExportRun> {
  const src =
    typeof source === 'string' ? textSource(source) : Array.isArray(source) ? tasksSource(source) : source;
  const report = new Report();
  const { tasks } = await runExport({
    source: src,
    schema: parseLabelConfig(config),
    targets: [{ format, sink }],
    options: parseExportOptions(options),
    media,
    report,
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  return { sink, report, tasks };
}

export const parse = (text: string) => parseJson(text) as JsonObject;
