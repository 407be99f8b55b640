/** Shared helpers of the pipeline, handler and integration tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { CONFIGS, generateTask } from '../../bench/generate.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import type { ObjectStore } from '../../functions/core/object-store.ts';
import {
  annotationObjects,
  type StorageObject,
  taskObject,
} from '../../functions/local/label-studio-storage.ts';
import { type PipelineConfig, parseConfig } from '../../functions/pipeline/config.ts';
import { type PipelineContext, silentLogger } from '../../functions/pipeline/context.ts';
import { projectMediaPolicy } from '../../functions/pipeline/media.ts';
import { LocalSequencer, type ObjectChange } from '../../functions/pipeline/s3-events.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { PolicyMedia } from '../../functions/storage/media.ts';

export const SRC = 'ls-source';
export const OUT = 'ls-exports';

export interface ConfigOverrides {
  source?: { bucket: string; prefix: string };
  export?: { bucket: string; prefix: string };
  formats?: string[];
  kind?: keyof typeof CONFIGS;
  settings?: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
  extraProjects?: unknown[];
  media?: { uploadPrefix?: string };
}

export function projectInput(o: ConfigOverrides = {}) {
  return {
    id: 'proj',
    lsProjectId: 7,
    source: o.source ?? { bucket: SRC, prefix: 'annotations' },
    labelConfig: { inline: CONFIGS[o.kind ?? 'text-ner'] },
    formats: o.formats ?? ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003'],
    export: o.export ?? { bucket: OUT, prefix: 'exports' },
    ...(o.snapshot ? { snapshot: o.snapshot } : {}),
    ...(o.media ? { media: o.media } : {}),
  };
}

export function makeConfig(o: ConfigOverrides = {}): PipelineConfig {
  return parseConfig({
    version: 1,
    projects: [projectInput(o), ...(o.extraProjects ?? [])],
    settings: o.settings ?? { shardTasks: 4, keyShards: 4 },
  });
}

export class TestClock {
  constructor(public t = Date.parse('2026-03-01T10:15:00.000Z')) {}
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

export interface FsContext extends PipelineContext {
  stores: Map<string, ObjectStore>;
  clock: TestClock;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ls-export-test-'));
}

/**
 * For a test file whose tests make many temp folders (the incremental suites): registers an
 * afterEach that deletes the folders the test recorded when it passed, and keeps and names them
 * when it failed, for a post-mortem (QA s9: never deleted, a default run of those two files left
 * some 280 folders, 170 MB). Returns the function that records a folder.
 */
export function removeTempDirsOfPassedTests(): (dir: string) => void {
  const dirs: string[] = [];
  afterEach(async ({ task }) => {
    const mine = dirs.splice(0);
    if (task.result?.state === 'pass')
      await Promise.all(mine.map((d) => rm(d, { recursive: true, force: true })));
    else if (mine.length > 0) console.log(`${task.name}: its folders are kept: ${mine.join(' ')}`);
  });
  return (dir) => {
    dirs.push(dir);
  };
}

/**
 * A pipeline context over local folders (one per bucket), with a fixed clock and instant sleeps;
 * media as in the Lambdas (runtime/env.ts): the project's policy enforced over these stores.
 */
export function fsContext(root: string, config: PipelineConfig, clock = new TestClock()): FsContext {
  const stores = new Map<string, ObjectStore>();
  const store = (bucket: string): ObjectStore => {
    let s = stores.get(bucket);
    if (!s) stores.set(bucket, (s = new FsObjectStore(join(root, bucket))));
    return s;
  };
  return {
    config,
    stores,
    clock,
    store,
    media: (project) => new PolicyMedia(projectMediaPolicy(project), { store }),
    now: clock.now,
    sleep: async () => {},
    log: silentLogger,
  };
}

/** Task `i` of a generated project, as the lossless core would parse it. */
export function lsTask(i: number, seed = 1, kind: keyof typeof CONFIGS = 'text-ner'): JsonObject {
  return parseJson(JSON.stringify(generateTask(kind, i, seed))) as JsonObject;
}

/** A task with at least one annotation (the generator leaves 5 % without). */
export function annotatedTask(i: number, seed = 1): JsonObject {
  for (let s = seed; ; s++) {
    const t = lsTask(i, s);
    if (Array.isArray(t.annotations) && t.annotations.length > 0) return t;
  }
}

/** A task with at least `n` annotations (searching seeds). */
export function taskWithAnnotations(i: number, n: number): JsonObject {
  for (let s = 1; ; s++) {
    const t = lsTask(i, s);
    if (Array.isArray(t.annotations) && t.annotations.length >= n) return t;
  }
}

export function objectsOf(
  task: JsonObject,
  layout: 'annotation' | 'task',
  prefix = 'annotations',
): StorageObject[] {
  return layout === 'annotation' ? annotationObjects(task, prefix) : [taskObject(task, prefix)];
}

export async function putAll(store: ObjectStore, objects: StorageObject[]): Promise<void> {
  for (const o of objects) await store.put(o.key, o.body);
}

const seq = new LocalSequencer(1n);
export function nextSeq(): string {
  return seq.next();
}

export function change(
  key: string,
  kind: 'created' | 'removed' = 'created',
  sequencer = nextSeq(),
  bucket = SRC,
): ObjectChange {
  return { bucket, key, kind, sequencer };
}

export async function readText(store: ObjectStore, key: string): Promise<string> {
  const { body } = await store.get(key);
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

export async function readJsonObject<T = Record<string, unknown>>(
  store: ObjectStore,
  key: string,
): Promise<T> {
  return JSON.parse(await readText(store, key)) as T;
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}
