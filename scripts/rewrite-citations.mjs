#!/usr/bin/env node
/**
 * Rewrites citations of documents that are not in the repository ("converter spec §7.5",
 * "docs/ls-storage-export-api.md §3.2", "docs/serverless.md §2.1", "docs/baseline.md") into
 * anchors of the repository's own docs (docs/label-studio-behaviour.md,
 * docs/label-studio-storage-and-api.md, docs/PERFORMANCE.md).
 *
 *   node scripts/rewrite-citations.mjs [--dry-run] [--tsv docs/citations.tsv]
 *
 * 1. Each row of the TSV (file, line, citation, new_citation) is applied to its file by matching the
 *    citation TEXT, not the line number (the line is informational), so the rows survive edits that
 *    move lines. Every occurrence in that file is replaced; a line break plus a comment continuation
 *    (` * `, `// `) matches where the text has a space. Longer texts are applied first.
 * 2. A generic pass then rewrites, by section number, citations added since the TSV was made, in
 *    functions/, infra/, bench/, test/, docs/*.md, README.md and DESIGN.md.
 * 3. Every change is printed (file:line, old → new). Exit status 1 when a citation remains that
 *    could not be mapped (it is listed), 0 otherwise.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const BEHAVIOUR = 'docs/label-studio-behaviour.md';
const STORAGE = 'docs/label-studio-storage-and-api.md';

/** Converter spec section → anchor of docs/label-studio-behaviour.md. */
const CONVERTER = {
  0: 'sources',
  1: 'format-catalogue',
  1.1: 'format-catalogue',
  1.2: 'format-catalogue',
  2: 'label-config-parsing',
  2.1: 'data-keys',
  2.2: 'supported-formats',
  3: 'items',
  3.1: 'input-files',
  3.2: 'annotation-selection',
  3.3: 'matching-results-to-controls',
  3.4: 'annotator',
  3.5: 'prettified-values',
  4.1: 'json-writers-and-ujson-escaping',
  4.2: 'number-formatting',
  4.3: 'sorting-rounding-and-timestamps',
  5: 'image-naming',
  6: 'output-folders',
  7.1: 'json',
  7.2: 'json_min',
  7.3: 'csv',
  7.4: 'conll2003',
  '7.4.1': 'treebank-tokenizer',
  '7.4.2': 'bio-tags',
  7.5: 'coco',
  '7.5.1': 'coco-categories',
  '7.5.2': 'coco-per-item',
  '7.5.3': 'coco-rotated-rectangles',
  '7.5.4': 'coco-keypoints',
  '7.5.5': 'coco-file',
  7.6: 'voc',
  7.7: 'yolo',
  '7.7.1': 'yolo-categories',
  '7.7.2': 'yolo-label-files',
  '7.7.3': 'yolo-lines',
  '7.7.4': 'yolo-obb',
  '7.7.5': 'yolo-lines',
  '7.7.6': 'yolo-keypoints',
  7.8: 'brush-masks',
  '7.8.1': 'brush-rle',
  7.9: 'brush_to_coco',
  '7.9.1': 'external-contours',
  '7.10': 'asr_manifest',
  7.11: 'not-implemented',
  7.12: 'not-implemented',
  8: 'not-implemented',
  10: 'known-quirks-and-fixes',
  11: 'reference-tests',
};

/** ls-storage-export-api.md section → anchor of docs/label-studio-storage-and-api.md. */
const STORAGE_API = {
  0: 'target-storage',
  1: 'target-storage',
  1.1: 'target-storage',
  1.2: 'object-keys',
  1.3: 'default-layout',
  1.4: 'object-bodies',
  1.5: 'lifecycle',
  1.6: 'storage-settings',
  1.7: 'what-a-consumer-must-handle',
  2: 'storage-settings',
  3: 'export-api',
  3.1: 'synchronous-export',
  3.2: 'snapshot-options',
  3.3: 'list-get-delete',
  3.4: 'download',
  3.5: 'convert',
  4: 'exported-data',
  4.3: 'completed_by',
  5: 'endpoints',
};

/** serverless.md section → anchor of docs/label-studio-storage-and-api.md. */
const SERVERLESS = {
  2.1: 's3-event-notifications',
  2.2: 'eventbridge-scheduler',
  2.3: 'step-functions-distributed-map',
  2.4: 's3-conditional-writes',
  2.5: 'lambda-limits',
  3: 'cdk-build-facts',
  3.1: 'cdk-build-facts',
  3.2: 'cdk-build-facts',
  3.4: 'cdk-build-facts',
  4: 'local-s3-server',
  7: 's3-limits',
};

const SCAN_DIRS = ['functions', 'infra', 'bench', 'test'];
const SCAN_FILES = ['README.md', 'DESIGN.md'];
const SKIP = new Set([BEHAVIOUR, STORAGE, 'test/docs/citations.test.ts']);
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'demo-output', 'bench-output']);
const TEXT_EXT = /\.(ts|mts|mjs|js|md)$/;

/** A section number: 7, 7.5, 7.5.1, or a range 10.16–19. */
const SEC = String.raw`\d+(?:\.\d+)*(?:–\d+)?`;
/** Whitespace in a citation, possibly broken over a comment line. */
const GAP = String.raw`\s+(?:(?:\*|\/\/)\s*)?`;

const { values: args } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    tsv: { type: 'string', default: 'docs/citations.tsv' },
  },
});

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (TEXT_EXT.test(name)) out.push(relative(ROOT, p));
  }
  return out;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The regex of one TSV citation: whitespace flexible, not followed by more section digits. */
function citationRe(text) {
  const body = text.trim().split(/\s+/).map(escapeRe).join(GAP);
  let before = '';
  if (/^spec /i.test(text)) before = '(?<!converter )';
  else if (text.startsWith('§')) before = '(?<![Ss]pec )(?<!, )';
  return new RegExp(`${before}${body}(?!\\.?\\d)`, 'g');
}

const lineOf = (text, index) => text.slice(0, index).split('\n').length;

/** A citation that was wrapped over two comment lines keeps the line break, before the new text. */
function keepLineBreak(matched, replacement) {
  const gap = /\n[ \t]*(?:\*|\/\/)?[ \t]*/.exec(matched);
  return gap ? `${gap[0]}${replacement}` : replacement;
}

/** A link (Markdown) or a path#anchor (code) to `doc#anchor`, as seen from `file`. */
function cite(file, doc, anchor) {
  if (!file.endsWith('.md')) return `${doc}#${anchor}`;
  const rel = relative(dirname(join(ROOT, file)), join(ROOT, doc));
  const name = doc.split('/').pop();
  return `[${name}](${rel}#${anchor})`;
}

function converterCitation(sec) {
  const quirk = /^10\.(\d+)(?:–(\d+))?$/.exec(sec);
  if (quirk) {
    const range = quirk[2] ? `quirks ${quirk[1]}–${quirk[2]}` : `quirk ${quirk[1]}`;
    return `${BEHAVIOUR}#known-quirks-and-fixes, ${range}`;
  }
  return CONVERTER[sec] ? `${BEHAVIOUR}#${CONVERTER[sec]}` : undefined;
}

const changes = [];
const unmapped = [];
const notFound = [];
const contents = new Map();
const read = (file) => {
  if (!contents.has(file)) contents.set(file, readFileSync(join(ROOT, file), 'utf8'));
  return contents.get(file);
};

// 1. The TSV rows, longest citation text first within each file.
const rows = readFileSync(join(ROOT, args.tsv), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [file, line, citation, replacement] = l.split('\t');
    return { file, line: Number(line), citation, replacement };
  });
const byFile = new Map();
for (const r of rows) {
  const list = byFile.get(r.file) ?? [];
  if (!list.some((x) => x.citation === r.citation && x.replacement === r.replacement)) list.push(r);
  byFile.set(r.file, list);
}
for (const [file, list] of byFile) {
  if (!existsSync(join(ROOT, file))) {
    for (const r of list) notFound.push(`${file}:${r.line} (file missing) ${r.citation}`);
    continue;
  }
  let text = read(file);
  list.sort((a, b) => b.citation.length - a.citation.length);
  for (const r of list) {
    let hits = 0;
    text = text.replace(citationRe(r.citation), (m, offset, whole) => {
      hits++;
      changes.push(`${file}:${lineOf(whole, offset)}: ${m.replace(/\s+/g, ' ')} → ${r.replacement}`);
      return keepLineBreak(m, r.replacement);
    });
    if (hits === 0) notFound.push(`${file}:${r.line} ${r.citation}`);
  }
  contents.set(file, text);
}

// 2. The generic pass over everything else (and whatever the rows left).
const files = [...SCAN_DIRS.flatMap((d) => walk(join(ROOT, d))), ...SCAN_FILES, ...walk(join(ROOT, 'docs'))]
  .filter((f) => !SKIP.has(f) && existsSync(join(ROOT, f)))
  .filter((f, i, all) => all.indexOf(f) === i);

const GENERIC = [
  {
    re: new RegExp(String.raw`docs\/ls-storage-export-api\.md${GAP}§(${SEC})(?!\.?\d)`, 'g'),
    map: (file, m) => STORAGE_API[m[1]] && cite(file, STORAGE, STORAGE_API[m[1]]),
  },
  {
    re: new RegExp(String.raw`docs\/serverless\.md${GAP}§(${SEC})(?!\.?\d)`, 'g'),
    map: (file, m) => SERVERLESS[m[1]] && cite(file, STORAGE, SERVERLESS[m[1]]),
  },
  { re: /(?<![\w/])docs\/baseline\.md/g, map: () => 'docs/PERFORMANCE.md' },
  {
    re: new RegExp(
      String.raw`(?:(?:converter${GAP})?[Ss]pec${GAP})?§(${SEC})((?: steps? [\d–]+)?)((?:,${GAP}§${SEC}(?!\.?\d))*)(?!\.?\d)`,
      'g',
    ),
    map: (_file, m) => {
      const secs = [m[1], ...[...m[3].matchAll(new RegExp(`§(${SEC})`, 'g'))].map((x) => x[1])];
      const parts = secs.map(converterCitation);
      if (parts.some((p) => p === undefined)) return undefined;
      parts[0] += m[2];
      return parts.join(', ');
    },
  },
];

for (const file of files) {
  let text = read(file);
  const before = text;
  for (const g of GENERIC) {
    text = text.replace(g.re, (...a) => {
      const offset = a.at(-2);
      const whole = a.at(-1);
      const m = a.slice(0, -2);
      const replacement = g.map(file, m);
      if (!replacement) return m[0];
      changes.push(
        `${file}:${lineOf(whole, offset)}: ${m[0].replace(/\s+/g, ' ')} → ${replacement} (generic)`,
      );
      return keepLineBreak(m[0], replacement);
    });
  }
  if (text !== before) contents.set(file, text);
}

// 3. What is left that still points outside the repository.
const OUTSIDE =
  /\bspec §|§\s?\d|shared\/docs|converter-spec\.md|ls-storage-export-api\.md|serverless\.md|docs\/baseline\.md/i;
for (const file of files) {
  read(file)
    .split('\n')
    .forEach((l, i) => {
      if (OUTSIDE.test(l)) unmapped.push(`${file}:${i + 1}: ${l.trim()}`);
    });
}

if (!args['dry-run']) {
  for (const [file, text] of contents) {
    if (text !== readFileSync(join(ROOT, file), 'utf8')) writeFileSync(join(ROOT, file), text);
  }
}

console.log(`${args['dry-run'] ? '[dry run] ' : ''}${changes.length} citations rewritten:`);
for (const c of changes) console.log(`  ${c}`);
if (notFound.length) {
  console.log(`${notFound.length} TSV rows matched nothing (already applied, or the text changed):`);
  for (const n of notFound) console.log(`  ${n}`);
}
if (unmapped.length) {
  console.log(`${unmapped.length} citations still point outside the repository (fix by hand):`);
  for (const u of unmapped) console.log(`  ${u}`);
  process.exitCode = 1;
}
