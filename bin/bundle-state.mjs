/**
 * Whether the bundled CLI (dist/cli/, built by scripts/build-cli.mjs) is present and up to date:
 * every source file it was built from still exists and was last modified before the build
 * started. One `stat` per source file (≈150, a few milliseconds).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Path of the bundle's entry module (exports `main(argv): Promise<number>`). */
export const bundleEntry = (root) => join(root, 'dist', 'cli', 'main.mjs');

/** True when dist/cli/main.mjs exists and no source it was built from changed since. */
export function bundleIsFresh(root) {
  let state;
  try {
    state = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'build.json'), 'utf8'));
    statSync(bundleEntry(root));
  } catch {
    return false;
  }
  if (typeof state.builtAt !== 'number' || !Array.isArray(state.inputs)) return false;
  for (const path of state.inputs) {
    try {
      if (statSync(join(root, path)).mtimeMs > state.builtAt) return false;
    } catch {
      return false;
    }
  }
  return true;
}
