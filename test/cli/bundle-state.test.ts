import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleEntry, bundleIsFresh } from '../../bin/bundle-state.mjs';

describe('bundleIsFresh (bin/ls-export.mjs runs the bundle only when it is up to date)', () => {
  let root: string;
  const builtAt = Date.parse('2026-01-02T00:00:00Z');
  const at = (ms: number) => new Date(ms);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-state-'));
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    mkdirSync(join(root, 'functions'), { recursive: true });
    writeFileSync(join(root, 'functions', 'a.ts'), 'export {};\n');
    writeFileSync(join(root, 'package-lock.json'), '{}\n');
    for (const f of ['functions/a.ts', 'package-lock.json'])
      utimesSync(join(root, f), at(builtAt - 60_000), at(builtAt - 60_000));
    writeFileSync(bundleEntry(root), 'export const main = async () => 0;\n');
    writeFileSync(
      join(root, 'dist', 'cli', 'build.json'),
      JSON.stringify({ builtAt, inputs: ['functions/a.ts', 'package-lock.json'] }),
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is fresh when every source is older than the build', () => {
    expect(bundleEntry(root)).toBe(join(root, 'dist', 'cli', 'main.mjs'));
    expect(bundleIsFresh(root)).toBe(true);
  });

  it('is stale once a source is modified after the build', () => {
    utimesSync(join(root, 'functions', 'a.ts'), at(builtAt + 1000), at(builtAt + 1000));
    expect(bundleIsFresh(root)).toBe(false);
  });

  it('is stale when the lockfile changed (dependencies are bundled too)', () => {
    utimesSync(join(root, 'package-lock.json'), at(builtAt + 1000), at(builtAt + 1000));
    expect(bundleIsFresh(root)).toBe(false);
  });

  it('is stale when a source it was built from is gone', () => {
    rmSync(join(root, 'functions', 'a.ts'));
    expect(bundleIsFresh(root)).toBe(false);
  });

  it('is stale without a bundle, or with an unreadable build record', () => {
    rmSync(bundleEntry(root));
    expect(bundleIsFresh(root)).toBe(false);
    writeFileSync(bundleEntry(root), '');
    writeFileSync(join(root, 'dist', 'cli', 'build.json'), '{"builtAt":"yesterday"}');
    expect(bundleIsFresh(root)).toBe(false);
  });
});
