/**
 * manifest.json: what an export holds, written after every file of it (the commit point). A reader
 * reads the manifest first and then fetches the keys it lists; sha256 lets it verify each file.
 */
import type { ExportOptions } from '../core/formats/options.ts';
import type { ReportEntry, ReportJson } from '../core/report.ts';
import type { SnapshotOptions } from './config.ts';
import type { FormatResult } from './export-run.ts';

export interface Manifest {
  format: 1;
  kind: 'latest' | 'snapshot';
  project: string;
  /** `latest`: the render id; `snapshot`: the snapshot name. */
  id: string;
  /** Key prefix holding the files (`<FORMAT>/…` below it). */
  prefix: string;
  /** When the export was made (a snapshot: its nominal time, part of its name). */
  createdAt: string;
  /** The project state this export reflects. */
  state: { version: number; updatedAt: string };
  counts: { tasks: number; annotations: number };
  formats: FormatResult[];
  options: { export: ExportOptions; snapshot?: SnapshotOptions };
  /** `latest` only (snapshot manifests are reproducible byte for byte). */
  timings?: { startedAt: string; finishedAt: string; ms: number; shardsRead: number; stateBytesRead: number };
  /** What was skipped: unreadable source objects (from ingest) and inputs the converter skipped. */
  report: ReportJson & { sourceObjects: ReportEntry[] };
  /** `latest` only: the render this one replaced (kept one cycle for readers still downloading it). */
  previous?: string;
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
