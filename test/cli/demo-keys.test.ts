/**
 * The demo's `ls/text-ner//10` keys (QA D4) are Label Studio's own: its target storage joins
 * `prefix + '/' + name` without normalising the prefix, and the sample text-ner project's prefix is
 * typed `ls/text-ner/` (docs/label-studio-storage-and-api.md). The demo keeps them, so the
 * pipeline reads such keys, and says why in its output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doubleSlashNote } from '../../functions/cli/demo.ts';
import { annotationObjects } from '../../functions/local/label-studio-storage.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const task = { id: 3, data: { text: 'x' }, annotations: [{ id: 10, result: [] }] };

describe('demo keys with a double slash', () => {
  it('a prefix typed with a trailing slash gives Label Studio\'s "prefix//id" key; without, "prefix/id"', () => {
    expect(annotationObjects(task, 'ls/text-ner/').map((o) => o.key)).toEqual(['ls/text-ner//10']);
    expect(annotationObjects(task, 'ls/image-bbox').map((o) => o.key)).toEqual(['ls/image-bbox/10']);
  });

  it('the demo names the projects whose prefix ends in "/" and the keys that gives', () => {
    const config = parseConfig(readFileSync(join(ROOT, 'samples', 'pipeline-config.json'), 'utf8'));
    expect(doubleSlashNote(config.projects)).toBe(
      `text-ner's prefix "ls/text-ner/" gives keys like ls/text-ner//10, as Label Studio writes them`,
    );
    const id = (i: string, prefix: string) => ({ id: i, source: { prefix } });
    expect(doubleSlashNote([id('a', 'x'), id('b', 'y')])).toBe('no prefix ends in "/"');
    expect(doubleSlashNote([id('a', 'x/'), id('b', 'y/')])).toBe(
      `a's prefix "x/", b's prefix "y/" give keys like x//10, as Label Studio writes them`,
    );
  });
});
