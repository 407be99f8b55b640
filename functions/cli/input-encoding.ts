/**
 * Recognises a JSON export saved as UTF-16 or UTF-32 from its first bytes, so the CLI can name the
 * encoding (and the iconv command that converts it) instead of reporting the file as "not a JSON
 * array or object: it starts with "\ufffd"". Label Studio's exports are UTF-8.
 */

/** A file's wide encoding: its name as shown, iconv's name for it, and how it was recognised. */
export interface WideEncoding {
  /** `UTF-16 LE`, `UTF-32 BE`, … */
  name: string;
  /** The name for `iconv -f`: `UTF-16`/`UTF-32` after a byte order mark (iconv reads and drops it), else with the byte order. */
  iconv: string;
  /** `name (how it was recognised)`, for messages. */
  description: string;
}

const OPENERS = new Set([0x5b, 0x7b]); // `[`, `{`
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

function encoding(bits: 16 | 32, order: 'LE' | 'BE', bom: boolean): WideEncoding {
  const name = `UTF-${bits} ${order}`;
  const how = bom
    ? 'it starts with a byte order mark'
    : bits === 16
      ? 'its characters alternate with NUL bytes'
      : 'each of its characters comes with three NUL bytes';
  return { name, iconv: bom ? `UTF-${bits}` : `UTF-${bits}${order}`, description: `${name} (${how})` };
}

/**
 * Without a byte order mark: the byte order whose code units, read from `b`, are JSON whitespace
 * up to a `[` or `{` (its first character), each unit's other bytes NUL; `unit` is 2 (UTF-16) or
 * 4 (UTF-32). Undefined when neither order reads so (UTF-8, or too few bytes read).
 */
function nulPattern(b: Uint8Array, unit: 2 | 4): 'LE' | 'BE' | undefined {
  for (const order of ['LE', 'BE'] as const) {
    const at = order === 'LE' ? 0 : unit - 1;
    for (let i = 0; i + unit <= b.length; i += unit) {
      const unitBytes = b.subarray(i, i + unit);
      if (unitBytes.some((byte, j) => j !== at && byte !== 0)) break;
      const c = unitBytes[at];
      if (OPENERS.has(c)) return order;
      if (!JSON_WHITESPACE.has(c)) break;
    }
  }
  return undefined;
}

/**
 * The UTF-16 or UTF-32 encoding a file's first bytes show — its byte order mark (FF FE, FE FF,
 * FF FE 00 00, 00 00 FE FF), or JSON whitespace and a `[`/`{` with NUL bytes in the pattern of the
 * encoding (`[` 00 00 00 for UTF-32 LE, 00 `[` for UTF-16 BE, …); undefined for anything else
 * (UTF-8, with or without its BOM, is read as usual). Give it the first 64 bytes or so: leading
 * whitespace longer than that is not looked past.
 */
export function wideEncoding(b: Uint8Array): WideEncoding | undefined {
  if (b[0] === 0xff && b[1] === 0xfe)
    return b.length >= 4 && b[2] === 0 && b[3] === 0 ? encoding(32, 'LE', true) : encoding(16, 'LE', true);
  if (b[0] === 0xfe && b[1] === 0xff) return encoding(16, 'BE', true);
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return encoding(32, 'BE', true);
  // UTF-32 first: its `[` 00 00 00 also starts like UTF-16 LE's `[` 00.
  const utf32 = nulPattern(b, 4);
  if (utf32) return encoding(32, utf32, false);
  const utf16 = nulPattern(b, 2);
  if (utf16) return encoding(16, utf16, false);
  return undefined;
}
