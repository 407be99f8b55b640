/**
 * The pieces of the render by segments on their own: codecs (CSV rows re-laid, COCO ids shifted,
 * COCO split, BRUSH_TO_COCO split and category ids mapped), the segment of a shard, S3's part rules, the folder store's assemble and ETag
 * listing, and the multipart part planning (copied runs ≥ the minimum, short runs topped up).
 */
import { describe, expect, it } from 'vitest';
import {
  type AssemblyPart,
  MIN_PART_BYTES,
  partBytes,
  readAll,
  uploadedBytes,
} from '../../functions/core/object-store.ts';
import { segmentOf } from '../../functions/pipeline/segments.ts';
import { assembleFile } from '../../functions/pipeline/segments-assemble.ts';
import {
  brushCategoriesText,
  brushCocoFrame,
  CodecShapeError,
  categoryName,
  countEntries,
  mapCategoryIds,
  parseCsvRows,
  relayCsv,
  sha256,
  shiftIds,
  splitBrushCoco,
  splitCoco,
  withCategoryId,
} from '../../functions/pipeline/segments-codecs.ts';
import { BodySpool, readSpooled } from '../../functions/pipeline/segments-spool.ts';
import { checkParts } from '../../functions/storage/assembly.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { tempDir } from './helpers.ts';

/** A BRUSH_TO_COCO file in the writer's layout (Python json, indent 2, entries re-indented by 2). */
function brushFile(images: string[], annotations: string[], categories: string[]): string {
  const list = (xs: string[]) => (xs.length === 0 ? '[]' : `[\n    ${xs.join(',\n    ')}\n  ]`);
  return `{\n  "images": ${list(images)},\n  "annotations": ${list(annotations)},\n  "categories": ${list(categories)},\n  "info": {\n    "year": 2026,\n    "description": "x"\n  }\n}`;
}
const brushImage = (id: number) =>
  `{\n      "id": ${id},\n      "file_name": "a${id}.jpg",\n      "path": "/d/a${id}.jpg",\n      "width": 6,\n      "height": 5\n    }`;
const brushAnnotation = (id: number, image: number, category: number) =>
  `{\n      "id": ${id},\n      "image_id": ${image},\n      "category_id": ${category},\n      "segmentation": [\n        [\n          1,\n          2\n        ]\n      ],\n      "area": 4,\n      "iscrowd": 0,\n      "annotator": "a@b"\n    }`;
const brushCategory = (id: number, name: string) =>
  `{\n      "id": ${id},\n      "name": ${name},\n      "supercategory": "",\n      "color": "#abcdef",\n      "metadata": {}\n    }`;

describe('codecs', () => {
  it('splits a BRUSH_TO_COCO file into streams, categories and tail, and puts it back together', () => {
    const cats = [brushCategory(1, '"Dog"'), brushCategory(2, '"Cat, \\"big\\""')];
    const file = brushFile(
      [brushImage(0), brushImage(2)],
      [brushAnnotation(0, 0, 1), brushAnnotation(1, 2, 2)],
      cats,
    );
    const p = splitBrushCoco(file);
    expect(countEntries(p.images)).toBe(2);
    expect(countEntries(p.annotations)).toBe(2);
    expect(p.categories).toEqual(cats);
    expect(p.categories.map(categoryName)).toEqual(['"Dog"', '"Cat, \\"big\\""']);
    expect(p.tail).toBe(',\n  "info": {\n    "year": 2026,\n    "description": "x"\n  }\n}');
    const [open, middle, close] = brushCocoFrame(brushCategoriesText(p.categories), p.tail, true, true);
    expect(open + p.images + middle + p.annotations + close).toBe(file);
    // The empty run's file, and its frame.
    const empty = brushFile([], [], []);
    const e = splitBrushCoco(empty);
    expect([e.images, e.annotations, e.categories]).toEqual(['', '', []]);
    expect(brushCocoFrame(brushCategoriesText([]), e.tail, false, false).join('')).toBe(empty);
    // Annotations whose image has no entry (size unknown): no image stream, an annotation stream.
    const noImages = brushFile([], [brushAnnotation(0, 0, 1)], cats.slice(0, 1));
    const n = splitBrushCoco(noImages);
    expect(n.images).toBe('');
    const f = brushCocoFrame(brushCategoriesText(n.categories), n.tail, false, true);
    expect(f[0] + f[1] + n.annotations + f[2]).toBe(noImages);
    expect(() => splitBrushCoco(file.replace('"id": 2,\n      "name"', '"id": 3,\n      "name"'))).toThrow(
      CodecShapeError,
    );
  });

  it('maps BRUSH_TO_COCO category ids at the entry indent only; non-string names are refused', () => {
    const ann = `${brushAnnotation(0, 0, 1)},\n    ${brushAnnotation(1, 0, 2)}`;
    const mapped = mapCategoryIds(
      ann,
      new Map([
        [1, 2],
        [2, 1],
      ]),
    );
    expect([...mapped.matchAll(/"category_id": (\d+)/g)].map((m) => m[1])).toEqual(['2', '1']);
    expect(mapped.replace(/"category_id": \d+/g, '')).toBe(ann.replace(/"category_id": \d+/g, ''));
    expect(() => mapCategoryIds(ann, new Map([[1, 3]]))).toThrow(/category_id 2/);
    expect(withCategoryId(brushCategory(1, '"Dog"'), 7)).toBe(brushCategory(7, '"Dog"'));
    expect(() => categoryName(brushCategory(1, '1.0'))).toThrow(CodecShapeError);
  });

  it('re-lays CSV rows onto another column list, quoted cells with separators and CRLF kept', () => {
    const rows = '"a,b",1\r\n"x ""q""\r\ny",True\r\n';
    expect(parseCsvRows(rows, ',', 2)).toEqual([
      ['"a,b"', '1'],
      ['"x ""q""\r\ny"', 'True'],
    ]);
    expect(relayCsv(rows, ',', ['k', 'n'], ['id', 'k', 'n'])).toBe(
      '"","a,b",1\r\n"","x ""q""\r\ny",True\r\n',
    );
    expect(() => parseCsvRows('"a",1\r\n', ',', 3)).toThrow(/3 cells/);
  });

  it('shifts COCO ids at the entry indent only', () => {
    const ann =
      '{\n      "id": 0,\n      "image_id": 1,\n      "annotator": {\n        "id": 7\n      }\n    },\n    {\n      "id": 1,\n      "image_id": 1,';
    const shifted = shiftIds(ann, 10, 100);
    expect(shifted).toContain('"id": 10,\n      "image_id": 101');
    expect(shifted).toContain('"id": 11,\n      "image_id": 101');
    expect(shifted).toContain('        "id": 7');
    expect(countEntries(ann)).toBe(2);
  });

  it('splits a COCO file into its streams and frame', () => {
    const file =
      '{\n  "images": [\n    {\n      "width": 1,\n      "height": 2,\n      "id": 0,\n      "file_name": "a"\n    }\n  ],\n' +
      '  "categories": [],\n  "annotations": [\n    {\n      "id": 0,\n      "image_id": 0\n    }\n  ],\n  "info": {}\n}';
    const p = splitCoco(file);
    expect(p.images.startsWith('{\n      "width"')).toBe(true);
    expect(p.middle).toBe('  "categories": [],\n  "annotations": ');
    expect(p.annotations).toBe('{\n      "id": 0,\n      "image_id": 0\n    }');
    expect(p.tail).toBe(',\n  "info": {}\n}');
  });

  it('groups shards into segments by range', () => {
    expect(segmentOf('n0000000019', 10)).toBe('n0000000001');
    expect(segmentOf('n0000000020', 10)).toBe('n0000000002');
    expect(segmentOf('x', 10)).toBe('x');
  });
});

describe('assembly', () => {
  it("checks S3's part rules before any request", () => {
    const small: AssemblyPart = { body: new Uint8Array(10) };
    expect(() => checkParts([small, small])).toThrow(/part 1 has 10 bytes/);
    expect(() => checkParts([{ copy: { key: 'k', start: 5, end: 5 } }])).toThrow(/empty range/);
    expect(() => checkParts([{ body: new Uint8Array(MIN_PART_BYTES) }, small])).not.toThrow();
  });

  it('folder store: assemble from copied ranges and bodies; list with ETags on request', async () => {
    const store = new FsObjectStore(await tempDir());
    const src = Buffer.alloc(MIN_PART_BYTES + 10, 'a');
    src.write('HEAD', 0);
    await store.put('src', src);
    await store.assemble('out', [
      { copy: { key: 'src', start: 0, end: MIN_PART_BYTES } },
      { body: Buffer.from('tail') },
    ]);
    const out = await readAll((await store.get('out')).body);
    expect(out.length).toBe(MIN_PART_BYTES + 4);
    expect(out.subarray(0, 4).toString()).toBe('HEAD');
    expect(out.subarray(-4).toString()).toBe('tail');
    const listed = [];
    for await (const o of store.list('src', { etags: true })) listed.push(o);
    expect(listed[0].etag).toBe((await store.head('src'))!.etag);
  });

  it('body spool: a body past maxBytes stays in memory; removing a body frees its room', async () => {
    const spool = await BodySpool.create(await tempDir(), { maxBytes: 50 });
    const a = await spool.write('A'.repeat(30));
    const b = await spool.write('B'.repeat(30));
    expect(a.held).toBeUndefined();
    expect(b.held?.length).toBe(30);
    expect({ used: spool.usedBytes, held: spool.heldBytes }).toEqual({ used: 30, held: 30 });
    expect((await readSpooled(a)).toString()).toBe('A'.repeat(30));
    expect((await readSpooled(b)).toString()).toBe('B'.repeat(30));
    await spool.remove(a);
    await spool.remove(a);
    await spool.remove(b);
    expect({ used: spool.usedBytes, held: spool.heldBytes }).toEqual({ used: 0, held: 0 });
    await expect(readSpooled(a)).rejects.toThrow(/ENOENT/);
    const c = await spool.write('C'.repeat(40));
    expect(c.held).toBeUndefined();
    await spool.dispose();
    await expect(readSpooled(c)).rejects.toThrow(/ENOENT/);
  });

  it('many changed segments: unchanged runs still copied, each uploaded part made when it is sent', async () => {
    const store = new FsObjectStore(await tempDir());
    const prev = Buffer.from('0123456789'.repeat(10)); // 100 bytes
    await store.put('f', prev);
    const spool = await BodySpool.create(await tempDir());
    // Fresh bodies far beyond what was once held as parts (the step used to stream such a file
    // whole, reading back every previous byte): 3 bodies of 30 bytes around copied runs of 40.
    const bodies = [
      await spool.write('A'.repeat(30)),
      await spool.write('B'.repeat(30)),
      await spool.write('C'.repeat(30)),
    ];
    let reading = 0;
    let maxReading = 0;
    const sent: string[] = [];
    const spy = Object.assign(Object.create(store), {
      assemble: async (key: string, parts: AssemblyPart[]) => {
        const bufs: Uint8Array[] = [];
        for (const p of parts) {
          if ('copy' in p) {
            sent.push(`copy ${p.copy.start}-${p.copy.end}`);
            bufs.push(prev.subarray(p.copy.start, p.copy.end));
            continue;
          }
          // Not made before the store asks for it: nothing read for parts not yet sent.
          reading++;
          maxReading = Math.max(maxReading, reading);
          const b = await uploadedBytes(p);
          reading--;
          sent.push(`upload ${b.length}`);
          bufs.push(b);
        }
        return store.put(key, Buffer.concat(bufs));
      },
    });
    const io = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0, peakHeldBytes: 0 };
    const r = await assembleFile({
      store: spy,
      key: 'f',
      path: 'f',
      pieces: [
        { spooled: bodies[0], sha256: 'a' },
        { prev: { start: 0, end: 40 }, sha256: 'p' },
        { spooled: bodies[1], lead: ',\n', sha256: 'b' },
        { prev: { start: 40, end: 80 }, sha256: 'q' },
        { spooled: bodies[2], lead: ',\n', sha256: 'c' },
      ],
      previous: { path: 'f', key: 'f', bytes: 100, sha256: sha256(prev) },
      minMultipartBytes: 0,
      minPartBytes: 20,
      io,
    });
    const want = `${'A'.repeat(30)}${prev.subarray(0, 40)},\n${'B'.repeat(30)}${prev.subarray(40, 80)},\n${'C'.repeat(30)}`;
    expect((await readAll((await store.get('f')).body)).toString()).toBe(want);
    expect(sent).toEqual(['upload 30', 'copy 0-40', 'upload 32', 'copy 40-80', 'upload 32']);
    expect(r.entry).toMatchObject({ bytes: want.length, sha256Of: 'chunks' });
    expect(io).toMatchObject({ reads: 0, readBytes: 0, copiedBytes: 80, uploadedBytes: 94 });
    expect(maxReading).toBe(1);
    // One part (and the spooled body it came from) at a time, not the 94 fresh bytes.
    expect(io.peakHeldBytes).toBeLessThanOrEqual(64);
    await spool.dispose();
  });

  it('uploaded parts are ≤ 10 MiB (a local S3 server takes 11 MiB bodies) and ≥ 5 MiB but the last', async () => {
    const MiB = 1024 * 1024;
    const store = new FsObjectStore(await tempDir());
    const prev = Buffer.alloc(6 * MiB, 'p');
    await store.put('f', prev);
    const sizes: string[] = [];
    const spy = Object.assign(Object.create(store), {
      assemble: async (key: string, parts: AssemblyPart[]) => {
        for (const p of parts)
          sizes.push('copy' in p ? `copy ${p.copy.end - p.copy.start}` : `upload ${partBytes(p)}`);
        return store.assemble(key, parts);
      },
    });
    const fresh = (n: number, c: string) => ({ bytes: Buffer.alloc(n, c), sha256: c });
    // 23 MiB of fresh bytes (the old rule cut 8 + 8 + 7), the copied run, then 10.5 MiB.
    const io = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 };
    await assembleFile({
      store: spy,
      key: 'f',
      path: 'f',
      pieces: [
        fresh(23 * MiB, 'a'),
        { prev: { start: 0, end: 6 * MiB }, sha256: 'p' },
        fresh(10.5 * MiB, 'b'),
      ],
      previous: { path: 'f', key: 'f', bytes: prev.length, sha256: sha256(prev) },
      io,
    });
    const third = Math.floor((23 * MiB) / 3);
    expect(sizes).toEqual([
      `upload ${third}`,
      `upload ${Math.floor((2 * 23 * MiB) / 3) - third}`,
      `upload ${23 * MiB - Math.floor((2 * 23 * MiB) / 3)}`,
      `copy ${6 * MiB}`,
      `upload ${5.25 * MiB}`,
      `upload ${5.25 * MiB}`,
    ]);
    const got = await readAll((await store.get('f')).body);
    expect(got.length).toBe(39.5 * MiB);
    expect([got[0], got[23 * MiB], got[29 * MiB]].map((x) => String.fromCharCode(x))).toEqual([
      'a',
      'p',
      'b',
    ]);
  });

  it('a run of previous bytes over 5 GiB is copied in equal parts of ≤ 5 GiB (S3 UploadPartCopy; review s11 F4)', async () => {
    const GiB = 1024 ** 3;
    const parts: AssemblyPart[] = [];
    // No bytes move: the store only records the parts it is asked to make.
    const store = {
      assemble: async (_key: string, p: AssemblyPart[]) => {
        parts.push(...p);
        return {};
      },
    } as unknown as FsObjectStore;
    const io = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 };
    await assembleFile({
      store,
      key: 'f',
      path: 'f',
      pieces: [
        { prev: { start: 7, end: 7 + 11 * GiB }, sha256: 'p' },
        { bytes: Buffer.from('tail'), sha256: 't' },
      ],
      previous: { path: 'f', key: 'f', bytes: 11 * GiB + 7, sha256: 'x' },
      io,
    });
    const cut = (k: number) => 7 + Math.floor((k * 11 * GiB) / 3);
    expect(parts.map((p) => ('copy' in p ? [p.copy.start, p.copy.end] : partBytes(p)))).toEqual([
      [cut(0), cut(1)],
      [cut(1), cut(2)],
      [cut(2), cut(3)],
      4,
    ]);
    expect(io.copiedBytes).toBe(11 * GiB);
  });

  it('copies runs of previous bytes ≥ the part minimum and tops a short fresh part up from the next run', async () => {
    const store = new FsObjectStore(await tempDir());
    const prev = Buffer.from('0123456789'.repeat(10)); // 100 bytes
    await store.put('f', prev);
    const calls: AssemblyPart[][] = [];
    const spy = Object.assign(Object.create(store), {
      assemble: async (key: string, parts: AssemblyPart[]) => {
        calls.push(parts);
        // The folder store enforces S3's 5 MiB; the planning under test uses 20 bytes.
        const bufs = [];
        for (const p of parts)
          bufs.push('copy' in p ? prev.subarray(p.copy.start, p.copy.end) : await uploadedBytes(p));
        return store.put(key, Buffer.concat(bufs));
      },
    });
    const fresh = Buffer.from('NEW');
    const io = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 };
    const r = await assembleFile({
      store: spy,
      key: 'f',
      path: 'f',
      pieces: [
        { prev: { start: 0, end: 40 }, sha256: 'a' },
        { bytes: fresh, sha256: sha256(fresh) },
        { prev: { start: 40, end: 100 }, sha256: 'b' },
      ],
      previous: { path: 'f', key: 'f', bytes: 100, sha256: sha256(prev) },
      minMultipartBytes: 0,
      minPartBytes: 20,
      io,
    });
    const parts = calls[0];
    expect(
      parts.map((p) => ('copy' in p ? `copy ${p.copy.start}-${p.copy.end}` : `body ${partBytes(p)}`)),
    ).toEqual([
      'copy 0-40',
      'body 20', // NEW + 17 bytes read from the next run
      'copy 57-100',
    ]);
    expect(io).toMatchObject({ reads: 1, readBytes: 17, copiedBytes: 83, uploadedBytes: 20 });
    expect(r.entry.sha256Of).toBe('chunks');
    const got = (await readAll((await store.get('f')).body)).toString();
    expect(got).toBe(`${prev.subarray(0, 40)}NEW${prev.subarray(40)}`);
  });
});
