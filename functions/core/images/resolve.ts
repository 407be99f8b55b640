/**
 * Where an exporter's image "is": the path COCO writes as `file_name` and the name YOLO/VOC derive
 * their label files from — reproducing the reference resolver (docs/label-studio-behaviour.md#image-naming) — and, for the
 * formats that include images, the copy into `images/`.
 *
 * Order, as in the reference exporters:
 *  1. a value that exists as a local path is used as is (and, a quirk, not copied);
 *  2. when images are included, the image is fetched through the export's MediaAccess and copied to
 *     `images/<name>` — uploads under their basename, anything else under `<md5_8(url)>__<name>`;
 *     if it cannot be fetched the raw value is used (cloud URIs: the caller may skip the item);
 *  3. otherwise the reference's label-only naming (`naming.ts`).
 */

import type { ExportContext } from '../formats/types.ts';
import type { TaskRef } from '../items.ts';
import { displayUrl, mediaReason } from '../media.ts';
import { isOutputFailure } from '../output-failure.ts';
import { outputName } from '../output-names.ts';
import {
  HEAD_BYTES,
  type ImageHeader,
  type ImageProbe,
  MAX_HEAD_BYTES,
  type Outcome,
  parseImageHeader,
} from './image-info.ts';
import {
  fetchedReferenceName,
  imageUrlKind,
  isCloudUri,
  isLocalPathCandidate,
  labelOnlyReferencePath,
  normaliseUploadUrl,
  pyBasename,
} from './naming.ts';
import { WriteQueue } from './write-queue.ts';

export const IMAGE_DIR = 'images';

/** `dir/name` with `/`; a `dir` of `.` (the output folder itself) gives `name`. */
export function underDir(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

export interface ResolvedImage {
  /** What the reference writes as the image path: the raw value, or `images/<name>` (`shownDir`). */
  path: string;
  /** The file name label files and VOC's `<filename>` derive from. */
  name: string;
  /**
   * - `local`: an existing local path, used as is;
   * - `copied`: fetched and copied into `images/` (or already copied earlier in the run);
   * - `cache`: the hashed name the reference gives without downloading;
   * - `source`: found at its source (upload folder, local-files root) and named by its basename;
   * - `raw`: unresolved, the raw value is used.
   */
  kind: 'local' | 'copied' | 'cache' | 'source' | 'raw';
  /** Whether the reference would have the image file at hand (and read its size from it). */
  opened: boolean;
  /** Images included, a cloud URI, not fetched: YOLO leaves such items out (no orphan labels). */
  cloudFailed?: boolean;
}

export interface ResolverOptions {
  /** The format includes images (*_WITH_IMAGES, VOC by default). */
  downloading: boolean;
  /** Label Studio's URL (naming only, docs/label-studio-behaviour.md#image-naming). */
  hostname?: string;
  /** `--fix copy-local-images`: copy images given as existing local paths too. */
  copyLocal?: boolean;
  /** The folder images are copied into and named under (default `images`; YOLO's split: `images/train`). */
  imageDir?: string;
  /**
   * The name `imageDir` has in the output's files when the copies go elsewhere (the `imageDir`
   * export option, from `--image-dir`): relative to the output folder, `.` for the folder itself.
   */
  shownDir?: string;
}

export class ImageResolver {
  /** path in images/ → the URL copied there, to notice two images claiming one name. */
  private readonly copiedFrom = new Map<string, string>();
  private warnedNoCopy = false;

  constructor(
    private readonly ctx: ExportContext,
    readonly probe: ImageProbe,
    private readonly opts: ResolverOptions,
    /** Where image copies run, a few at a time (shared with the writer's own files). */
    private readonly queue: WriteQueue = new WriteQueue(),
  ) {}

  private get dir(): string {
    return this.opts.imageDir ?? IMAGE_DIR;
  }

  /** The path the output's files give an image copied (or named) `name` in `dir`. */
  private shown(name: string): string {
    return underDir(this.opts.shownDir ?? this.dir, name);
  }

  get downloading(): boolean {
    return this.opts.downloading;
  }

  async resolve(raw: string, taskId: unknown, ref: TaskRef): Promise<ResolvedImage> {
    if (isLocalPathCandidate(raw) && this.probe.available && (await this.probe.open(raw)).ok) {
      const local: ResolvedImage = {
        path: raw,
        name: pyBasename(raw),
        kind: 'local',
        opened: raw.startsWith('/'),
      };
      if (this.opts.downloading && this.opts.copyLocal) {
        const name = outputName(this.ctx.sink, this.dir, pyBasename(raw));
        if (await this.copy(raw, `${this.dir}/${name}`, ref))
          return { path: this.shown(name), name, kind: 'copied', opened: true };
      }
      return local;
    }
    if (this.opts.downloading) return this.fetch(raw, ref);

    const kind = imageUrlKind(raw);
    let uploadFound = false;
    let localFilesFound = false;
    // Found-or-not changes the name only when a hostname would otherwise give a hashed one.
    if (this.opts.hostname && (kind === 'upload' || kind === 'local-files') && this.probe.available) {
      const found = (await this.probe.open(raw)).ok;
      uploadFound = kind === 'upload' && found;
      localFilesFound = kind === 'local-files' && found;
    }
    const ref2 = labelOnlyReferencePath(raw, {
      hostname: this.opts.hostname,
      taskId,
      uploadFound,
      localFilesFound,
    });
    if (ref2.kind === 'raw') return { path: raw, name: ref2.name, kind: 'raw', opened: false };
    return {
      path: this.shown(ref2.name),
      name: ref2.name,
      kind: ref2.kind,
      opened: ref2.kind === 'source',
    };
  }

  private async fetch(raw: string, ref: TaskRef): Promise<ResolvedImage> {
    const opened = await this.probe.open(raw);
    if (!opened.ok) {
      const kind = imageUrlKind(raw);
      const hint =
        kind === 'upload' ? ' (Label Studio upload paths need the upload folder, e.g. --upload-dir)' : '';
      this.ctx.report.warn({
        ...ref,
        reason: `image ${displayUrl(raw)} could not be fetched${hint}: ${opened.reason}; it is not included`,
      });
      return {
        path: raw,
        name: pyBasename(raw),
        kind: 'raw',
        opened: false,
        cloudFailed: isCloudUri(normaliseUploadUrl(raw)),
      };
    }
    // The copy's name, made safe for the output (core/output-names.ts); files naming it use it too.
    const name = outputName(this.ctx.sink, this.dir, fetchedReferenceName(raw, this.opts.hostname));
    const path = `${this.dir}/${name}`;
    if (!(await this.copy(raw, path, ref))) {
      return {
        path: raw,
        name: pyBasename(raw),
        kind: 'raw',
        opened: false,
        cloudFailed: isCloudUri(normaliseUploadUrl(raw)),
      };
    }
    return { path: this.shown(name), name, kind: 'copied', opened: true };
  }

  /**
   * Starts copying an image into the output (once per path); false when it cannot be copied at
   * all. The copy runs in the background through the write queue; its header is parsed from the
   * first bytes as they stream by, so the image is fetched once, and is available to `probe.header`
   * before the copy ends. A copy that fails midway is reported.
   */
  private async copy(url: string, path: string, ref: TaskRef): Promise<boolean> {
    const owner = this.copiedFrom.get(path);
    if (owner !== undefined) {
      if (owner !== url) {
        this.ctx.report.warn({
          ...ref,
          reason: `images ${displayUrl(owner)} and ${displayUrl(url)} are both named ${path}; the first one is kept (Label Studio overwrites it)`,
        });
      }
      return true;
    }
    const sink = this.ctx.sink;
    const copyFrom = sink.copyFrom?.bind(sink);
    if (!copyFrom) {
      if (!this.warnedNoCopy) {
        this.warnedNoCopy = true;
        this.ctx.report.warn({
          ...ref,
          reason: 'this output cannot hold image copies; images are not included',
        });
      }
      return false;
    }
    const file = await this.probe.open(url);
    if (!file.ok) return false;
    this.copiedFrom.set(path, url);
    // http(s): the name depends on whether the download works (the reference names a failed
    // download after the URL), so wait for the first bytes (or the failure) before naming.
    const waitForStart = /^https?:\/\//i.test(url);
    let started!: (ok: boolean) => void;
    const start = new Promise<boolean>((resolve) => (started = resolve));
    let received = false;
    let settle!: (h: Outcome<ImageHeader>) => void;
    this.probe.remember(url, new Promise<Outcome<ImageHeader>>((resolve) => (settle = resolve)));
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let settled = false;
    const tryHeader = (final: boolean) => {
      if (settled) return;
      if (!final && headBytes < HEAD_BYTES) return;
      const header = headerOf(Buffer.concat(head));
      // With a full head and still no size, wait for more bytes (up to MAX_HEAD_BYTES).
      if (!header.ok && !final && headBytes < MAX_HEAD_BYTES) return;
      settled = true;
      head.length = 0;
      settle(header);
    };
    async function* tee(source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        received = true;
        started(true);
        if (!settled) {
          head.push(chunk);
          headBytes += chunk.length;
          tryHeader(false);
        }
        yield chunk;
      }
      tryHeader(true);
    }
    const report = this.ctx.report;
    await this.queue.write(path, async () => {
      try {
        await copyFrom(path, tee(file.value.read()));
        started(true);
      } catch (err) {
        tryHeader(true);
        if (isOutputFailure(err)) {
          // The output could not take the copy (not the image's fault): the export fails.
          started(false);
          throw err;
        }
        if (waitForStart && !received) {
          report.warn({
            ...ref,
            reason: `image ${displayUrl(url)} could not be fetched: ${mediaReason(err)}; it is not included and named as Label Studio names a failed download`,
          });
        } else {
          report.warn({
            ...ref,
            reason: `image ${displayUrl(url)} could not be copied to ${path}: ${mediaReason(err)}; files that name it point at a missing image`,
          });
        }
        started(false);
      }
    });
    if (waitForStart && !(await start)) {
      this.copiedFrom.delete(path);
      return false;
    }
    return true;
  }

  /** Waits for the copies still running. */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}

function headerOf(bytes: Uint8Array): Outcome<ImageHeader> {
  let reason = 'not a readable image';
  for (const n of [HEAD_BYTES, MAX_HEAD_BYTES]) {
    try {
      return { ok: true, value: parseImageHeader(bytes.subarray(0, n)) };
    } catch (err) {
      reason = (err as Error).message;
      if (bytes.length <= n) break;
    }
  }
  return { ok: false, reason };
}
