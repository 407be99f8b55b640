/**
 * Comparing two projects' `latest/` byte for byte (the incremental-vs-from-scratch property tests:
 * incremental-campaign.test.ts, incremental-unseen.test.ts): every object but the manifest, zips by
 * their entries (a zip whose files did not change is kept with an older render's entry times), each
 * manifest entry against the object it names, and the two manifests' file lists.
 */
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { type ObjectStore, readAll } from '../../functions/core/object-store.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import type { ProjectPaths } from '../../functions/pipeline/paths.ts';
import { readJsonObject } from './helpers.ts';

/** One project's published `latest/`: the export store and the project's paths. */
export interface LatestSide {
  store: ObjectStore;
  paths: ProjectPaths;
}

export interface Finding {
  what: string;
  detail: string;
}

/**
 * Every object under latest/ but the manifest (by key below latest/), the manifest's files by
 * `FORMAT/path` (`bytes sha256`, or `(sha256 of chunks)`), and the entries whose object differs.
 */
export async function latestOf({ store, paths }: LatestSide) {
  const files = new Map<string, Buffer>();
  for await (const o of store.list(paths.latest))
    if (o.key !== paths.latestManifest)
      files.set(o.key.slice(paths.latest.length), await readAll((await store.get(o.key)).body));
  const m = await readJsonObject<Manifest>(store, paths.latestManifest);
  const listed = new Map<string, string>();
  const untrue: string[] = [];
  for (const f of m.formats)
    for (const x of f.files ?? []) {
      const entry = x as typeof x & { sha256Of?: string };
      listed.set(
        `${f.format}/${x.path}`,
        `${x.bytes} ${entry.sha256Of === 'chunks' ? '(sha256 of chunks)' : x.sha256}`,
      );
      // The manifest names what the object holds: its size and (not of chunks) its SHA-256.
      const body = files.get(x.key.slice(paths.latest.length));
      const actual = body ? `${body.length} ${createHash('sha256').update(body).digest('hex')}` : 'missing';
      if (actual !== `${x.bytes} ${x.sha256}` && !(entry.sha256Of === 'chunks' && body?.length === x.bytes))
        untrue.push(`${f.format}/${x.path}: manifest ${x.bytes} ${x.sha256}, object ${actual}`);
    }
  return { files, listed, untrue, manifest: m };
}

/** A zip's entries (from its central directory): name and inflated bytes, in order. */
export function zipEntries(zip: Buffer): Array<{ name: string; data: Buffer }> {
  const end = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  if (end < 0) throw new Error('not a zip: no end of central directory');
  const entries: Array<{ name: string; data: Buffer }> = [];
  let at = zip.readUInt32LE(end + 16);
  for (let n = zip.readUInt16LE(end + 10); n > 0; n--) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const size = zip.readUInt32LE(at + 20);
    const from = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(from, from + size);
    entries.push({
      name: zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
      data: zip.readUInt16LE(at + 10) === 8 ? inflateRawSync(raw) : Buffer.from(raw),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** First differing byte of two buffers, with some context, for the report. */
export function firstDiff(a: Buffer | undefined, b: Buffer | undefined): string {
  if (!a || !b) return `${a ? 'only in incremental' : 'only in reference'}`;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const ctx = (x: Buffer) => JSON.stringify(x.subarray(Math.max(0, i - 40), i + 40).toString('utf8'));
  return `sizes ${a.length}/${b.length}, first difference at byte ${i}: got ${ctx(a)} want ${ctx(b)}`;
}

/**
 * Equal sizes where one entry's sha256 is of chunks: a file assembled from ranges (incremental)
 * names the SHA-256 of its chunks' digests, the same file put whole (a first render) its own — by
 * design (segments-assemble.ts, DESIGN.md "Assemble"); the bytes are compared.
 */
const bothSized = (a?: string, b?: string) =>
  !!a &&
  !!b &&
  (a.includes('(sha256 of chunks)') || b.includes('(sha256 of chunks)')) &&
  a.split(' ')[0] === b.split(' ')[0];

/**
 * Compares `got`'s latest/ with `want`'s; returns the differences (empty when equal). `manifest`:
 * compare the two manifests' file lists too (default true).
 */
export async function compareLatest(
  label: string,
  got: LatestSide,
  want: LatestSide,
  manifest = true,
): Promise<{ findings: Finding[]; wantFiles: number }> {
  const g = await latestOf(got);
  const w = await latestOf(want);
  const out: Finding[] = [];
  const keys = new Set([...g.files.keys(), ...w.files.keys()]);
  for (const k of [...keys].sort()) {
    const a = g.files.get(k);
    const b = w.files.get(k);
    if (a && b && k.endsWith('.zip') && !a.equals(b)) {
      // A zip's entries carry the time of the render that wrote it, and a zip whose files did not
      // change is kept (render.ts): compared by entry names and bytes.
      const [za, zb] = [zipEntries(a), zipEntries(b)];
      const same =
        za.length === zb.length && za.every((e, i) => e.name === zb[i].name && e.data.equals(zb[i].data));
      if (!same)
        out.push({
          what: `${label} latest/${k} entries`,
          detail: `${za.map((e) => e.name)} / ${zb.map((e) => e.name)}`,
        });
    } else if (!a || !b || !a.equals(b)) out.push({ what: `${label} latest/${k}`, detail: firstDiff(a, b) });
  }
  for (const u of g.untrue) out.push({ what: `${label} manifest entry`, detail: u });
  if (manifest) {
    const lk = new Set([...g.listed.keys(), ...w.listed.keys()]);
    for (const k of [...lk].sort())
      if (g.listed.get(k) !== w.listed.get(k) && !bothSized(g.listed.get(k), w.listed.get(k)))
        out.push({
          what: `${label} manifest ${k}`,
          detail: `got ${g.listed.get(k)} want ${w.listed.get(k)}`,
        });
  }
  return { findings: out, wantFiles: w.files.size };
}
