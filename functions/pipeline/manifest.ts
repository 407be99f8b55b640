/**
 * manifest.json: what an export holds, written after every file of it (the commit point). A reader
 * reads the manifest first and then fetches the keys it lists; sha256 lets it verify each file.
 * `latest/` (layout `fixed`): files live under fixed keys `latest/<FORMAT>/…` that each render
 * overwrites only where the bytes changed; each entry names the S3 version holding its bytes
 * (versioned buckets), so reading the manifest's versions gives one consistent export even while
 * the next render overwrites the keys.
 */
import type { ExportOptions } from '../core/formats/options.ts';
import type { ReportEntry, ReportJson } from '../core/report.ts';
import type { SnapshotOptions } from './config.ts';
import type { FormatResult } from './export-run.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { ZipStats } from './latest-zip.ts';

/** A format of a manifest: its files and, for `latest/` with `latest.zip`, the zip of them. */
export type ManifestFormat = FormatResult & {
  /** `latest/<FORMAT>.zip` (formats with several files, when the project asks for zips). */
  zip?: WrittenFile;
};

/** What a `latest/` render wrote: files stored, files left as they were, files deleted. */
export interface ManifestChanges {
  written: number;
  unchanged: number;
  deleted: number;
  bytesWritten: number;
}

export interface Manifest {
  format: 1;
  kind: 'latest' | 'snapshot';
  project: string;
  /** `latest`: the render id; `snapshot`: the snapshot name. */
  id: string;
  /** `latest` only: `fixed` = the files under `latest/<FORMAT>/…` (absent: an older layout). */
  layout?: 'fixed';
  /** Key prefix holding the files (`<FORMAT>/…` below it). */
  prefix: string;
  /** When the export was made (a snapshot: its nominal time, part of its name). */
  createdAt: string;
  /** The project state this export reflects. */
  state: { version: number; updatedAt: string };
  counts: { tasks: number; annotations: number };
  formats: ManifestFormat[];
  options: {
    export: ExportOptions;
    snapshot?: SnapshotOptions;
    /**
     * `latest` only: the project's `latest` settings and the SHA-256 (hex) of its media policy
     * (`media`, render.ts renderSettingsOf): both change the bytes, so render.ts isCurrent compares
     * them. Manifests written before they were recorded lack `serialization` / `mediaSha256` and
     * are not current.
     */
    latest?: { zip: boolean; serialization?: string; mediaSha256?: string };
  };
  /**
   * `latest` only: the label config the files were rendered with (sha256, hex, of its XML text;
   * label-config.ts). Absent in manifests written before it was recorded: such a manifest is not
   * current (render.ts isCurrent), so the next render re-renders and records it.
   */
  labelConfig?: { sha256: string };
  /** `latest` only (snapshot manifests are reproducible byte for byte). */
  timings?: {
    startedAt: string;
    finishedAt: string;
    ms: number;
    shardsRead: number;
    stateBytesRead: number;
    /**
     * Render by segments: segments in the state and re-rendered; aggregate assembly (bytes of
     * previous versions read back, uploaded, copied server-side, parts); formats rendered over
     * every task instead, with why.
     */
    segments?: {
      total: number;
      rendered: number;
      readBytes: number;
      reads: number;
      uploadedBytes: number;
      copiedBytes: number;
      parts: number;
      /** Most aggregate bytes held in memory at once while assembling. */
      peakHeldBytes?: number;
      /** Most bytes the render's spool (/tmp on Lambda) held at once. */
      spoolPeakBytes?: number;
      fallback?: Record<string, string>;
    };
    /**
     * `latest/<FORMAT>.zip` by format: kept unchanged, written incrementally (entries reused from
     * the previous zip by byte range) or in full, and the entries and bytes that took.
     */
    zips?: Record<string, ZipStats>;
  };
  /** What was skipped: unreadable source objects (from ingest) and inputs the converter skipped. */
  report: ReportJson & { sourceObjects: ReportEntry[] };
  /** `latest` only: the render this one replaced. */
  previous?: string;
  /** `latest` only: what this render wrote, left unchanged and deleted. */
  changes?: ManifestChanges;
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
