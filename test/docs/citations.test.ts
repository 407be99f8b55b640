import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SELF = relative(ROOT, import.meta.filename);

/** Code folders whose comments cite the docs, plus the repository's Markdown. */
const CODE_ROOTS = ['functions', 'infra', 'bench', 'test'];
const MD_FILES = ['README.md', 'DESIGN.md'];
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'demo-output', 'bench-output']);
const TEXT_EXT = /\.(ts|mts|mjs|js|md)$/;

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (TEXT_EXT.test(name)) out.push(relative(ROOT, p));
  }
  return out;
}

/**
 * GitHub's heading anchor: the heading's text (inline code and link syntax removed) lower-cased,
 * every character that is not a letter, mark, digit, `_`, `-` or space dropped, spaces turned
 * into `-`; a repeated slug gets `-1`, `-2`, … Headings inside fenced code blocks are not headings.
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const f = /^\s*(```|~~~)/.exec(line);
    if (f) {
      if (fence === undefined) fence = f[1];
      else if (f[1] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(path: string): Set<string> {
  let a = anchorCache.get(path);
  if (!a) {
    a = headingAnchors(readFileSync(join(ROOT, path), 'utf8'));
    anchorCache.set(path, a);
  }
  return a;
}

interface Citation {
  file: string;
  line: number;
  /** Repository-relative path of the cited document. */
  target: string;
  anchor?: string;
}

const codeFiles = CODE_ROOTS.flatMap((d) => walk(join(ROOT, d))).filter((f) => f !== SELF);
const docFiles = [...walk(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')), ...MD_FILES];
const scanned = [...codeFiles, ...docFiles];

/** Every `docs/<name>.md[#anchor]` mention, and in Markdown every relative `](x.md#anchor)` link. */
function citations(): Citation[] {
  const out: Citation[] = [];
  for (const file of scanned) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const m of text.matchAll(/(?<![\w./-])(?:\.\.?\/)*docs\/([\w.-]+\.md)(?:#([\w-]+))?/g)) {
        out.push({ file, line: i + 1, target: `docs/${m[1]}`, anchor: m[2] });
      }
      if (!file.endsWith('.md')) return;
      for (const m of text.matchAll(/\]\(([^)\s#]*)(?:#([^)\s]+))?\)/g)) {
        const [, path, anchor] = m;
        if (/^[a-z]+:/i.test(path) || (path && !path.endsWith('.md'))) continue;
        const target = path ? relative(ROOT, resolve(ROOT, dirname(file), path)) : file;
        if (!anchor && !path) continue;
        out.push({ file, line: i + 1, target, anchor });
      }
    });
  }
  return out;
}

const where = (c: Citation) => `${c.file}:${c.line} → ${c.target}${c.anchor ? `#${c.anchor}` : ''}`;

describe('documentation citations', () => {
  const all = citations();

  it('finds the citations it checks (the scan itself works)', () => {
    expect(codeFiles).toContain('functions/core/formats/coco.ts');
    expect(
      all.some((c) => c.file.startsWith('functions/') && c.target === 'docs/label-studio-behaviour.md'),
    ).toBe(true);
  });

  it('slugs headings as GitHub does', () => {
    const md = '# A `b` c\n## JSON_MIN\n### Sorting, rounding and timestamps\n## A b c\n```\n# not\n```\n';
    expect([...headingAnchors(md)]).toEqual([
      'a-b-c',
      'json_min',
      'sorting-rounding-and-timestamps',
      'a-b-c-1',
    ]);
  });

  it('cites only documents that exist in the repository', () => {
    const missing = all.filter((c) => !existsSync(join(ROOT, c.target))).map(where);
    expect(missing).toEqual([]);
  });

  it('cites only heading anchors that exist', () => {
    const broken = all
      .filter((c) => c.anchor !== undefined && existsSync(join(ROOT, c.target)))
      .filter((c) => !anchorsOf(c.target).has(c.anchor as string))
      .map(where);
    expect(broken).toEqual([]);
  });

  it('has no citation of a document outside the repository', () => {
    const outside: string[] = [];
    for (const file of scanned) {
      const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
      lines.forEach((text, i) => {
        if (
          /\bspec §|§\s?\d|shared\/docs|converter-spec\.md|ls-storage-export-api\.md|serverless\.md/i.test(
            text,
          )
        ) {
          outside.push(`${file}:${i + 1}: ${text.trim()}`);
        }
      });
    }
    expect(outside).toEqual([]);
  });
});
