import { describe, expect, it } from 'vitest';
import {
  companionPath,
  cutUtf8,
  isOutputNameError,
  nameHash,
  OutputNameError,
  outputName,
  outputPath,
  safeSegment,
} from '../../functions/core/output-names.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('safeSegment', () => {
  it('keeps ordinary names byte for byte, the reference names included', () => {
    for (const name of [
      '7f310598__photo%20one.JPG',
      'image1.jpg',
      'Straßenschild ölfass.png',
      'a'.repeat(251) + '.txt', // YOLO's cut label stem: exactly 255 bytes
      '..x', // only the segments . and .. are special
      'task-1-annotation-2-by-a@b.c-tag-Car-0.png',
    ])
      expect(safeSegment(name)).toBe(name);
  });

  it('shortens a long ASCII name to 255 bytes, keeping the extension and adding a hash of the whole name', () => {
    const name = `${'A'.repeat(300)}.png`;
    const out = safeSegment(name);
    expect(bytes(out)).toBe(255);
    expect(out.endsWith(`~${nameHash(name)}.png`)).toBe(true);
    expect(out.startsWith('A'.repeat(200))).toBe(true);
  });

  it('cuts 4-byte characters at character boundaries', () => {
    const name = `${'😀'.repeat(100)}.jpg`; // 404 bytes
    const out = safeSegment(name);
    expect(bytes(out)).toBeLessThanOrEqual(255);
    expect(out).not.toContain('\ufffd');
    expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out); // valid UTF-8 round trip
    const stem = out.slice(0, out.indexOf('~'));
    expect(stem).toBe('😀'.repeat(stem.length / 2));
    expect(out.endsWith('.jpg')).toBe(true);
    // 255 - "~" - 10 hex - ".jpg" = 240 bytes of room: 60 emoji.
    expect([...stem]).toHaveLength(60);
  });

  it('maps NUL and other control characters, DEL and lone surrogates to _', () => {
    const out = safeSegment('nul\u0000raw\u0007x\u007f\ud800.png');
    expect(out).toMatch(/^nul_raw_x__~[0-9a-f]{10}\.png$/);
  });

  it('maps the bidirectional formatting controls to _ (a name shows as its bytes)', () => {
    const controls = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e'];
    for (const c of [...controls, '\u2066', '\u2067', '\u2068', '\u2069']) {
      const name = `cod${c}gnp.exe`;
      expect(safeSegment(name)).toBe(`cod_gnp~${nameHash(name)}.exe`);
    }
    // Letters of right-to-left scripts and other format characters are not controls: kept.
    for (const name of ['שלום.png', 'صورة.jpg', 'a\u200db.png', 'a\u2060b.png'])
      expect(safeSegment(name)).toBe(name);
  });

  it('maps / and \\ so a name stays one segment', () => {
    const out = safeSegment('94350807__a\\..\\..\\tmp\\zipslip.png');
    expect(out).toMatch(/^94350807__a_\.\._\.\._tmp_zipslip~[0-9a-f]{10}\.png$/);
    expect(safeSegment('a/b.txt')).toMatch(/^a_b~[0-9a-f]{10}\.txt$/);
    expect(out.split(/[/\\]/)).toHaveLength(1);
  });

  it('never yields the segments . or .. (nor an empty one)', () => {
    for (const name of ['.', '..', '']) {
      const out = safeSegment(name);
      expect(['.', '..', '']).not.toContain(out);
      expect(out).toMatch(/^_*~[0-9a-f]{10}$/);
    }
  });

  it('keeps different long names different, and one name the same every time', () => {
    const a = `${'x'.repeat(300)}a.png`;
    const b = `${'x'.repeat(300)}b.png`;
    expect(safeSegment(a)).not.toBe(safeSegment(b));
    expect(safeSegment(a)).toBe(safeSegment(a));
    // A mapped name cannot collide with the ordinary name it resembles.
    expect(safeSegment('a\\b.png')).not.toBe('a_b.png');
    expect(safeSegment('a\\b.png')).not.toBe(safeSegment('a/b.png'));
  });

  it('does not keep an extension longer than 16 bytes apart', () => {
    const name = `a.${'e'.repeat(300)}`;
    const out = safeSegment(name);
    expect(bytes(out)).toBe(255);
    expect(out).toMatch(/^a\.e+~[0-9a-f]{10}$/);
  });

  it('honours a smaller budget, down to the hash alone', () => {
    expect(bytes(safeSegment(`${'b'.repeat(100)}.png`, 40))).toBe(40);
    expect(safeSegment('ok.png', 40)).toBe('ok.png');
    expect(safeSegment(`${'b'.repeat(100)}.png`, 8)).toBe(nameHash(`${'b'.repeat(100)}.png`).slice(0, 8));
  });
});

describe('cutUtf8', () => {
  it('returns the longest prefix within the byte count', () => {
    expect(cutUtf8('aé😀b', 1)).toBe('a');
    expect(cutUtf8('aé😀b', 3)).toBe('aé');
    expect(cutUtf8('aé😀b', 6)).toBe('aé');
    expect(cutUtf8('aé😀b', 7)).toBe('aé😀');
  });
});

describe('outputPath', () => {
  it('joins the writer folder and the safe name', () => {
    expect(outputPath(undefined, 'labels', 'img.txt')).toBe('labels/img.txt');
    expect(outputPath(undefined, '', 'mask.png')).toBe('mask.png');
    expect(outputName(undefined, 'images', 'x\\y.png')).toMatch(/^x_y~[0-9a-f]{10}\.png$/);
  });

  it("keeps the whole path within the sink's budget (an S3 key minus its prefix)", () => {
    const prefix = `${'p'.repeat(900)}/`;
    const limits = { maxPathBytes: 1024 - bytes(prefix) };
    const path = outputPath(limits, 'Annotations', `${'x'.repeat(1100)}.xml`);
    expect(bytes(prefix + path)).toBeLessThanOrEqual(1024);
    expect(path.startsWith('Annotations/x')).toBe(true);
    expect(path.endsWith('.xml')).toBe(true);
    // Without a tight budget the per-segment limit applies.
    expect(bytes(outputPath({ maxPathBytes: 1000 }, 'labels', 'y'.repeat(400)))).toBe('labels/'.length + 255);
  });
});

describe('companionPath', () => {
  it("keeps a safe name byte for byte (Label Studio's, even when the image's own name is mapped)", () => {
    expect(companionPath(undefined, 'labels', 'img.png', 'img.txt', '.txt')).toBe('labels/img.txt');
    // YOLO's 251-character cut stem: the label is kept though the 304-byte image name is not.
    const long = `${'a'.repeat(300)}.png`;
    const label = `${'a'.repeat(251)}.txt`;
    expect(companionPath(undefined, 'labels', long, label, '.txt')).toBe(`labels/${label}`);
  });

  it("maps an unsafe name with the image's hash and stem, so it pairs with the image copy", () => {
    const image = '94350807__a\\..\\tmp\\zipslip.png';
    const copy = outputName(undefined, 'images', image);
    const label = companionPath(undefined, 'labels', image, '94350807__a\\..\\tmp\\zipslip.txt', '.txt');
    expect(label).toBe(`labels/${copy.slice(0, -'.png'.length)}.txt`);
    expect(label.endsWith(`~${nameHash(image)}.txt`)).toBe(true);
    // Long names too: the same cut when the extensions have the same length.
    const long = `${'é'.repeat(200)}.jpg`;
    const xml = companionPath(undefined, 'Annotations', long, `${'é'.repeat(200)}.xml`, '.xml');
    expect(xml).toBe(`Annotations/${outputName(undefined, 'images', long).slice(0, -4)}.xml`);
  });

  it("leaves room for a companion extension longer than the image's", () => {
    const image = `${'c'.repeat(300)}.j`;
    const out = companionPath(undefined, 'Annotations', image, `${'c'.repeat(300)}.xml`, '.xml');
    const name = out.slice('Annotations/'.length);
    expect(bytes(name)).toBe(255);
    expect(name.endsWith(`~${nameHash(image)}.xml`)).toBe(true);
  });
});

describe('isOutputNameError', () => {
  it('tells name failures from store failures', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(isOutputNameError(e('ENAMETOOLONG'))).toBe(true);
    expect(isOutputNameError(Object.assign(new Error('x'), { name: 'KeyTooLongError' }))).toBe(true);
    expect(isOutputNameError(new OutputNameError('../x', 'escapes'))).toBe(true);
    expect(
      isOutputNameError(
        Object.assign(new Error('must be a string without null bytes'), { code: 'ERR_INVALID_ARG_VALUE' }),
      ),
    ).toBe(true);
    expect(isOutputNameError(e('ENOSPC'))).toBe(false);
    expect(isOutputNameError(Object.assign(new Error('x'), { name: 'InternalError' }))).toBe(false);
    expect(isOutputNameError('ENAMETOOLONG')).toBe(false);
  });
});
