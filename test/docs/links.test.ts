import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, links } from './markdown.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The repository's Markdown documents: README.md, DESIGN.md and docs/*.md. */
const DOCUMENTS = [
  'README.md',
  'DESIGN.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => `docs/${n}`),
].filter((f) => existsSync(join(ROOT, f)));

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let a = anchorCache.get(file);
  if (!a) anchorCache.set(file, (a = anchors(readFileSync(join(ROOT, file), 'utf8'))));
  return a;
}

/**
 * Why a link of `file` does not resolve, or undefined when it does. External links (a scheme or
 * `//`) are not checked; a relative target must exist inside the repository; an anchor on a
 * Markdown target must be one of its headings; a `#L12`/`#L12-L20` anchor on a source file is a
 * line range and must lie within the file.
 */
function problem(file: string, href: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) return undefined;
  const hash = href.indexOf('#');
  const path = decodeURIComponent(hash < 0 ? href : href.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
  const target = path === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), path));
  if (target.startsWith('..')) return `${target} is outside the repository`;
  if (!existsSync(join(ROOT, target))) return `${target} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (target.endsWith('.md')) {
    return anchorsOf(target).has(anchor) ? undefined : `${target} has no heading #${anchor}`;
  }
  const lines = /^L(\d+)(?:-L(\d+))?$/.exec(anchor);
  if (!lines || statSync(join(ROOT, target)).isDirectory()) return `#${anchor} on ${target} is not a heading`;
  const count = readFileSync(join(ROOT, target), 'utf8').split('\n').length;
  const last = Number(lines[2] ?? lines[1]);
  return last <= count ? undefined : `${target} has ${count} lines, the link asks for line ${last}`;
}

describe('Markdown links', () => {
  it('scans the documents and their links (the scan itself works)', () => {
    expect(DOCUMENTS).toContain('README.md');
    expect(DOCUMENTS).toContain('docs/pipeline.md');
    const readme = links(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.href);
    expect(readme).toContain('docs/pipeline.md');
  });

  it('finds inline links, images and reference definitions, not code', () => {
    const md = [
      'See [a](x.md#b) and ![img](pic.png "title").',
      '`[not](code.md)` here',
      '```',
      '[nor](fenced.md)',
      '```',
      '[ref]: <y/z.md>',
    ].join('\n');
    expect(links(md)).toEqual([
      { line: 1, href: 'x.md#b' },
      { line: 1, href: 'pic.png' },
      { line: 6, href: 'y/z.md' },
    ]);
  });

  it('slugs headings as GitHub does', () => {
    const md = [
      '# A `b` c',
      '## 5. Call the API (SigV4 or a token)',
      '### Where exports land ##',
      '## A b c',
      '## Logs, metrics, traces',
      '<a name="custom"></a>',
      '```',
      '# not a heading',
      '```',
    ].join('\n');
    expect([...anchors(md)].sort()).toEqual(
      [
        'a-b-c',
        '5-call-the-api-sigv4-or-a-token',
        'where-exports-land',
        'a-b-c-1',
        'logs-metrics-traces',
        'custom',
      ].sort(),
    );
  });

  it('reports a missing file, a missing heading and a line past the end', () => {
    expect(problem('README.md', 'gone/nope.md')).toBe('gone/nope.md does not exist');
    expect(problem('README.md', '#no-such-heading')).toBe('README.md has no heading #no-such-heading');
    expect(problem('docs/pipeline.md', '../README.md#deploy-to-aws')).toBeUndefined();
    expect(problem('README.md', '../outside.md')).toBe('../outside.md is outside the repository');
    expect(problem('README.md', 'cdk.json#L99999')).toMatch(/^cdk\.json has \d+ lines/);
    expect(problem('README.md', 'https://example.com/#x')).toBeUndefined();
  });

  it('every relative link of README.md, DESIGN.md and docs/*.md resolves (file and anchor)', () => {
    const broken = DOCUMENTS.flatMap((file) =>
      links(readFileSync(join(ROOT, file), 'utf8')).flatMap((l) => {
        const why = problem(file, l.href);
        return why ? [`${file}:${l.line} (${l.href}): ${why}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });
});
