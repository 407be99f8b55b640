/**
 * CONLL2003 tokenization and tag assignment (docs/label-studio-behaviour.md#conll2003).
 *
 * `spanTokenize` ports NLTK's `TreebankWordTokenizer.span_tokenize` with the PUNCTUATION list the
 * converter installs globally (`/` added to the padded symbols). The reference runs Python `re`, so
 * every construct whose JS meaning differs is spelled out explicitly:
 *  - `\s`  → PY_SPACE: Python's whitespace (`str.isspace()`). JS `\s` also matches U+FEFF and misses
 *            U+001C–U+001F and U+0085.
 *  - `\d`  → `\p{Nd}`: JS `\d` is ASCII-only.
 *  - `\b`  → lookarounds on PY_WORD: JS `\b` is ASCII-only even with the `u` flag. Python's `\w` is
 *            `str.isalnum()` or `_` — letters and numbers only; combining marks and other connector
 *            punctuation are NOT word characters (checked against CPython 3.11 for every code point).
 *  - `$`   → `(?=\n?$)`: without MULTILINE, Python's `$` also matches just before a final newline.
 *  - `(?i)` → the `iu` flags, except that Python also lets `i` match `İ` (U+0130) and `ı` (U+0131),
 *            which Unicode case folding does not; the contraction patterns spell that out.
 * All regexes use the `u` flag so that classes consume astral characters whole, as Python does.
 */

import { type JsonValue, num, truthy } from '../json/value.ts';

export interface Token {
  text: string;
  /** Code-point offset into the original text (a Python string index). */
  start: number;
  /** Exclusive end, in code points. */
  end: number;
}

/**
 * A token could not be aligned with the text; the reference raises `ValueError: substring not found`
 * (or an IndexError while restoring quotes) and aborts the export. Callers report and skip the task.
 */
export class TokenAlignmentError extends Error {
  constructor(
    message: string,
    readonly token: string,
  ) {
    super(message);
    this.name = 'TokenAlignmentError';
  }
}

const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const PY_WORD = String.raw`\p{L}\p{N}_`;
/** Python `\b` on the side of a pattern that starts / ends with a word character. */
const WB_BEFORE = `(?<![${PY_WORD}])`;
const WB_AFTER = `(?![${PY_WORD}])`;
const PY_END = String.raw`(?=\n?$)`;

type Rule = readonly [RegExp, string];
const rule = (pattern: string, replacement: string, flags = 'gu'): Rule => [
  new RegExp(pattern, flags),
  replacement,
];

const STARTING_QUOTES: readonly Rule[] = [
  rule('^"', '``', 'u'),
  rule('``', ' $& '),
  rule(`([ ([{<])("|'')`, '$1 `` '),
];

const PUNCTUATION: readonly Rule[] = [
  // The following char is consumed, so in `,,` only the first comma is padded here.
  rule(String.raw`([:,])([^\p{Nd}])`, ' $1 $2'),
  rule(`([:,])${PY_END}`, ' $1 '),
  rule(String.raw`\.\.\.`, ' ... '),
  rule('[;@#$/%&]', ' $& '),
  // The final period (with any closing brackets/quotes after it); trailing whitespace collapses.
  rule(String.raw`([^.])(\.)([\])}>"']*)[${PY_SPACE}]*${PY_END}`, '$1 $2$3 '),
  rule('[?!]', ' $& '),
  rule(`([^'])' `, "$1 ' "),
];

const PARENS_BRACKETS = rule(String.raw`[\]\[(){}<>]`, ' $& ');
const DOUBLE_DASHES = rule('--', ' -- ');

const ENDING_QUOTES: readonly Rule[] = [
  rule("''", " '' "),
  rule('"', " '' "),
  rule(`([^' ])('[sS]|'[mM]|'[dD]|') `, '$1 $2 '),
  rule(`([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, '$1 $2 '),
];

// `[iİı]` stands for a case-insensitive Python `i` (see the header).
const CONTRACTIONS: readonly Rule[] = [
  ...['(can)(not)', "(d)('ye)", '(g[iİı]m)(me)', '(gon)(na)', '(got)(ta)', '(lem)(me)', "(more)('n)"].map(
    (p) => rule(WB_BEFORE + p + WB_AFTER, ' $1 $2 ', 'giu'),
  ),
  rule(`${WB_BEFORE}(wan)(na)(?=[${PY_SPACE}])`, ' $1 $2 ', 'giu'),
  rule(` ('t)([iİı]s)${WB_AFTER}`, ' $1 $2 ', 'giu'),
  rule(` ('t)(was)${WB_AFTER}`, ' $1 $2 ', 'giu'),
];

/** Every contraction pattern contains one of these (case-insensitively). */
const CONTRACTION_HINT = /can|d'ye|g[iİı]m|gon|got|lem|more'n|wan|'t/iu;
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'u');
const QUOTE_IN_SOURCE = /``|''|"/g;
const HAS_SURROGATE = /[\uD800-\uDFFF]/; // no `u` flag: must see the UTF-16 units themselves

function applyAll(text: string, rules: readonly Rule[]): string {
  let out = text;
  for (const [re, replacement] of rules) out = out.replace(re, replacement);
  return out;
}

/** NLTK `TreebankWordTokenizer.tokenize` with the converter's PUNCTUATION (token strings only). */
export function treebankTokenize(text: string): string[] {
  // The `includes`/HINT guards only skip rule groups that cannot match (speed; same output).
  let t =
    text.includes('"') || text.includes('`') || text.includes("''") ? applyAll(text, STARTING_QUOTES) : text;
  t = applyAll(t, PUNCTUATION);
  t = t.replace(PARENS_BRACKETS[0], PARENS_BRACKETS[1]);
  t = t.replace(DOUBLE_DASHES[0], DOUBLE_DASHES[1]);
  t = ` ${t} `;
  if (t.includes("'") || t.includes('"')) t = applyAll(t, ENDING_QUOTES);
  if (CONTRACTION_HINT.test(t)) t = applyAll(t, CONTRACTIONS);
  // Python str.split(): runs of whitespace, no empty strings at either end.
  return t.split(PY_SPACE_RUN).filter((s) => s !== '');
}

/**
 * Tokens with code-point offsets, as `span_tokenize` yields them.
 *
 * With the pinned NLTK (3.10–3.11, after the fix for a leading `''`) alignment should not fail: every
 * token is a piece of the text with spaces inserted around it, and quote tokens correspond one-to-one,
 * in order, to the source's double quotes, `''` pairs and double backticks. Fuzzing against the Python
 * reference found no failing input; the checks stay as a guard so a surprise becomes a skipped task
 * rather than wrong offsets.
 * @throws TokenAlignmentError where the reference fails to align a token with the text.
 */
export function spanTokenize(text: string): Token[] {
  const tokens = treebankTokenize(text);

  // The tokenizer rewrote `"` (and `''`) as `` or ''; put the source's quotes back, in order.
  if (text.includes('"') || text.includes("''")) {
    const quotes = text.match(QUOTE_IN_SOURCE) ?? [];
    let next = 0;
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      if (tok !== '"' && tok !== '``' && tok !== "''") continue;
      // The reference pops from an exhausted list here (IndexError) and aborts the export as well.
      if (next >= quotes.length) throw new TokenAlignmentError(`no source quote left for token ${tok}`, tok);
      tokens[i] = quotes[next++];
    }
  }

  // align_tokens: first occurrence at or after the previous token's end.
  const out: Token[] = new Array(tokens.length);
  const toCodePoints = HAS_SURROGATE.test(text) ? codePointCounter(text) : null;
  let point = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const start = text.indexOf(tok, point);
    if (start < 0) {
      throw new TokenAlignmentError(
        `token ${JSON.stringify(tok)} not found in the text at or after offset ${point}`,
        tok,
      );
    }
    point = start + tok.length;
    out[i] = toCodePoints
      ? { text: tok, start: toCodePoints(start), end: toCodePoints(point) }
      : { text: tok, start, end: point };
  }
  return out;
}

/**
 * Maps UTF-16 offsets to code-point offsets; calls must come with non-decreasing offsets, so the whole
 * text is walked once. A surrogate pair counts as one, a lone surrogate as one (as in Python).
 */
function codePointCounter(text: string): (utf16: number) => number {
  let unit = 0;
  let cp = 0;
  return (utf16) => {
    while (unit < utf16) {
      const pair =
        (text.charCodeAt(unit) & 0xfc00) === 0xd800 && (text.charCodeAt(unit + 1) & 0xfc00) === 0xdc00;
      unit += pair ? 2 : 1;
      cp++;
    }
    return cp;
  };
}

export interface ConllSpan {
  start?: unknown;
  end?: unknown;
  labels?: unknown;
}

/**
 * BIO tags for `tokens` (docs/label-studio-behaviour.md#bio-tags, `create_tokens_and_tags`). Offsets are code points.
 * Mirrors the reference quirks: a span touching part of a token tags the whole token, overlapping
 * spans are skipped until the current one is passed, and one span without start/end blanks all tags.
 * @throws TypeError where the reference would raise one (non-numeric offsets, non-string label).
 */
export function conllTags(
  tokens: readonly Token[],
  spans: readonly ConllSpan[] | null | undefined,
): string[] {
  return conllTagging(tokens, spans).tags;
}

/** BIO tags, and for each span (input order) whether it tagged at least one token. */
export interface ConllTagging {
  tags: string[];
  /** `tagged[i]`: spans[i] put its label on a token (false: overlapped, outside every token, no label). */
  tagged: boolean[];
}

/**
 * `conllTags` with per-span outcome, so callers can report the spans the output does not carry.
 * Same rules and errors as `conllTags`.
 */
export function conllTagging(
  tokens: readonly Token[],
  spans: readonly ConllSpan[] | null | undefined,
): ConllTagging {
  const tags: string[] = new Array(tokens.length).fill('O');
  const tagged: boolean[] = new Array(spans?.length ?? 0).fill(false);
  if (!spans || spans.length === 0 || tokens.length === 0) return { tags, tagged };
  if (spans.some((s) => s.start === undefined || s.start === null || s.end === undefined || s.end === null)) {
    return { tags, tagged };
  }

  const queue = spans
    .map((s, index) => ({ start: offset(s.start), end: offset(s.end), labels: s.labels, index }))
    .sort((a, b) => a.start - b.start); // Array.prototype.sort is stable, like Python's sorted()
  let next = 0;
  let span = queue[next++];
  let curStart = span.start;
  let curEnd = span.end - 1; // inclusive
  let prefix = 'B-';

  for (let i = 0; i < tokens.length; i++) {
    const tokStart = tokens[i].start;
    const tokEnd = tokens[i].end - 1; // inclusive: start + len(token) - 1
    if (tokStart > curEnd) {
      while (next < queue.length) {
        span = queue[next++];
        curStart = span.start;
        curEnd = span.end - 1;
        prefix = 'B-';
        if (tokStart <= curEnd) break;
      }
    }
    if (tokEnd < curStart || !truthy(span.labels as JsonValue)) continue;
    if (curStart <= tokEnd && curEnd >= tokStart) {
      tags[i] = prefix + firstLabel(span.labels);
      tagged[span.index] = true;
      prefix = 'I-';
    }
  }
  return { tags, tagged };
}

/** A span offset as Python would compute with it (`bool` is an `int` there). */
function offset(v: unknown): number {
  if (typeof v === 'boolean') return Number(v);
  const n = num(v);
  if (n === undefined) throw new TypeError(`span offset must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** `span["labels"][0]`, which the reference concatenates to the prefix (a string: its first char). */
function firstLabel(labels: unknown): string {
  let first: unknown;
  if (Array.isArray(labels)) first = labels[0];
  else if (typeof labels === 'string') first = String.fromCodePoint(labels.codePointAt(0)!);
  if (typeof first !== 'string')
    throw new TypeError(`span label must be a string, got ${JSON.stringify(first)}`);
  return first;
}
