/**
 * Markdown helpers for the documentation tests: GitHub's heading anchors and the links of a
 * document (outside fenced code blocks and inline code).
 */

/** Lines of a Markdown document with fenced code blocks blanked (line numbers are kept). */
export function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === undefined) fence = f[1];
      else if (f[1].startsWith(fence)) fence = undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/** GitHub's slug of a heading's text: lower-cased, punctuation dropped, spaces turned into `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/**
 * Every anchor GitHub gives a document: one per ATX heading (a repeated slug gets `-1`, `-2`, …)
 * plus explicit `<a name="…">` / `id="…"` anchors.
 */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    for (const m of line.matchAll(/<a\s[^>]*?(?:name|id)="([^"]+)"/g)) out.add(m[1]);
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

export interface MarkdownLink {
  /** 1-based line number. */
  line: number;
  /** The link target as written (`../x.md#a`, `#a`, `https://…`). */
  href: string;
}

/**
 * Inline links and images (`[t](href)`, `![a](href "title")`) and reference definitions
 * (`[id]: href`), skipping fenced code and inline code spans.
 */
export function links(markdown: string): MarkdownLink[] {
  const out: MarkdownLink[] = [];
  proseLines(markdown).forEach((raw, i) => {
    const text = raw.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length));
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line: i + 1, href: m[1] });
    }
    const def = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(text);
    if (def) out.push({ line: i + 1, href: def[1] });
  });
  return out;
}
