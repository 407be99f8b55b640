/**
 * Lossless JSON parsing (see value.ts for what "lossless" keeps).
 *
 * Most Label Studio objects contain nothing a plain JSON.parse would lose, so a cheap regex test
 * routes them to V8's native parser; the rest go through a small exact parser. False positives of
 * the test (a `2.0` inside a string) only cost speed.
 */
import { exceedsDepth, JsonDepthError, MAX_JSON_DEPTH } from './limits.ts';
import { type JsonObject, type JsonValue, NumLit, setKey } from './value.ts';

export { JsonDepthError };

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

// A value that is an integral float literal (`2.0`, `1e5`) or has a 16+ digit integer part, or an
// array-index-like key. Anchored on the JSON punctuation around values and keys so that ids like
// "a1e5" inside strings rarely trigger it; a false positive only costs the slower exact parser.
const NEEDS_EXACT =
  /[:,[]\s*-?\d+(?:\.0+|\.\d+[eE][+-]?\d+|[eE][+-]?\d+)\s*[,}\]]|[:,[]\s*-?\d{16,}[\s,}\].eE]|[{,]\s*"(?:0|[1-9]\d{0,9})"\s*:/;

export interface ParseOptions {
  /** Deepest nesting accepted (default MAX_JSON_DEPTH, limits.ts); deeper throws JsonDepthError. */
  maxDepth?: number;
  /** The caller already checked the depth (the streaming splitter does while scanning). */
  depthChecked?: boolean;
}

/**
 * Parses JSON text losslessly. `exact` tells whether the text needs the exact parser (true),
 * surely does not (false, from the streaming splitter's scan), or is unknown (undefined: test it).
 * Throws JsonSyntaxError for malformed text and JsonDepthError for text nested deeper than
 * `options.maxDepth`, on both the native and the exact path.
 */
export function parseJson(text: string, exact?: boolean, options: ParseOptions = {}): JsonValue {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (exact === false || (exact === undefined && !NEEDS_EXACT.test(text))) {
    // V8's JSON.parse accepts any depth; what reads the value afterwards recurses, so check first.
    if (!options.depthChecked && exceedsDepth(text, maxDepth)) throw new JsonDepthError(maxDepth);
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // Fall through to the exact parser for a precise error position.
    }
  }
  return new ExactParser(text, maxDepth).parseDocument();
}

/** The report reason for a parse failure: the limit's own words, or `invalid JSON: …`. */
export function jsonErrorReason(err: unknown): string {
  if (err instanceof JsonDepthError) return err.message;
  return `invalid JSON: ${err instanceof Error ? err.message : String(err)}`;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const LITERALS: Array<[string, JsonValue]> = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', Number.NaN],
];

class ExactParser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  /** Enters an object or array (recursion stays bounded by maxDepth). */
  private enter(): void {
    if (++this.depth > this.maxDepth) throw new JsonDepthError(this.maxDepth);
  }

  parseDocument(): JsonValue {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(what: string): never {
    const near = this.s.slice(Math.max(0, this.i - 20), this.i + 20).replace(/\s+/g, ' ');
    throw new JsonSyntaxError(
      this.i >= this.s.length
        ? `unexpected end of JSON (truncated?) at position ${this.i}`
        : `${what} at position ${this.i} near "${near}"`,
      this.i,
    );
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length && WS.has(s.charCodeAt(this.i))) this.i++;
  }

  private value(): JsonValue {
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, value] of LITERALS) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    return this.fail('unexpected character');
  }

  private object(): JsonObject {
    const obj: JsonObject = {};
    this.enter();
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      this.depth--;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      this.ws();
      setKey(obj, key, this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x7d) {
        this.i++;
        this.depth--;
        return obj;
      }
      if (c !== 0x2c) this.fail("expected ',' or '}'");
      this.i++;
    }
  }

  private array(): JsonValue[] {
    const arr: JsonValue[] = [];
    this.enter();
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      this.depth--;
      return arr;
    }
    for (;;) {
      this.ws();
      arr.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x5d) {
        this.i++;
        this.depth--;
        return arr;
      }
      if (c !== 0x2c) this.fail("expected ',' or ']'");
      this.i++;
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      if (j >= s.length) {
        this.i = j;
        this.fail('unterminated string');
      }
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) {
        this.i = j;
        this.fail('control character in string');
      }
      j++;
    }
    this.i = j + 1;
    const raw = s.slice(start + 1, j);
    if (!escaped) return raw;
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      this.i = start;
      return this.fail('invalid escape in string');
    }
  }

  private number(): JsonValue {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const found = m.exec(this.s);
    if (!found) return this.fail('invalid number');
    this.i = m.lastIndex;
    const raw = found[0];
    const value = Number(raw);
    // A literal past a double's range (`1e999`) is kept as written, like an unsafe integer: as a
    // float it would print as ujson's `Inf`, which no JSON parser reads back.
    if (!Number.isFinite(value)) return new NumLit(value, false, raw);
    if (found[1] !== undefined || found[2] !== undefined) {
      return Number.isInteger(value) ? new NumLit(value, true, raw) : value;
    }
    return Number.isSafeInteger(value) ? value : new NumLit(value, false, raw);
  }
}
