/** Path of the bundled CLI's entry module under `root` (dist/cli/main.mjs). */
export function bundleEntry(root: string): string;
/** True when the bundled CLI exists and no source it was built from changed since the build. */
export function bundleIsFresh(root: string): boolean;
