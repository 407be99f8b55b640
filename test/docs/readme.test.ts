import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXES } from '../../functions/core/formats/options.ts';
import { implementedFormats } from '../../functions/core/formats/registry.ts';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README stays true', () => {
  it('documents every --fix the CLI accepts', () => {
    for (const name of Object.keys(FIXES)) expect(README).toContain(`| \`${name}\` |`);
  });

  it('marks every implemented format as available in the formats table', () => {
    const rows = README.split('\n').filter((l) => l.startsWith('| ') && l.trim().endsWith('✅ |'));
    const listed = rows.flatMap((r) =>
      r
        .split('|')[1]
        .split(',')
        .map((s) => s.trim()),
    );
    expect(listed.sort()).toEqual([...implementedFormats()].sort());
  });

  it('shows the two newcomer commands', () => {
    expect(README).toContain('npm ci && npm run demo');
    expect(README).toContain('npm test');
  });
});
