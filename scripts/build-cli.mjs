#!/usr/bin/env node
/**
 * `npm run build`: bundles the CLI (functions/cli/main.ts and everything it imports, dependencies
 * included) with esbuild into dist/cli/, so `ls-export` starts as plain JavaScript instead of
 * TypeScript through tsx. Commands that need heavy modules (sync, demo, S3) import them lazily and
 * get their own chunks, loaded only when used.
 *
 * Writes dist/cli/main.mjs (exports `main`), its chunks, and dist/cli/build.json: the build time
 * and the source files it read, which bin/ls-export.mjs compares with their modification times to
 * decide whether the bundle is up to date (else it runs the TypeScript through tsx).
 *
 * `--if-stale`: build only when the bundle is missing or out of date. Without esbuild (an install
 * without dev dependencies) it prints a note and exits 0: the CLI then runs through tsx.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, 'dist', 'cli');

if (process.argv.includes('--if-stale')) {
  const { bundleIsFresh } = await import(pathToFileURL(join(ROOT, 'bin', 'bundle-state.mjs')).href);
  if (bundleIsFresh(ROOT)) process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('build-cli: esbuild is not installed; ls-export will run through tsx\n');
  process.exit(0);
}

const started = Date.now();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: ROOT,
  // sync-worker: the segment worker thread of `ls-export sync --workers` (cli/render-threads.ts).
  entryPoints: { main: 'functions/cli/main.ts', 'sync-worker': 'functions/cli/sync-worker.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // fauxqs (the demo's local S3 server, a dev dependency) stays a package: it reads files of its own.
  external: ['fauxqs'],
  // Bundled CommonJS dependencies (the AWS SDK) call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __lsxCreateRequire } from 'node:module'; const require = __lsxCreateRequire(import.meta.url);",
  },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// Every source file the bundle was made from, so a later edit marks the bundle stale.
const inputs = Object.keys(result.metafile.inputs)
  .filter((p) => !p.includes('node_modules/'))
  .map((p) => relative(ROOT, join(ROOT, p)))
  .sort();
inputs.push('package-lock.json');
writeFileSync(join(OUT, 'build.json'), `${JSON.stringify({ builtAt: started, inputs }, null, 1)}\n`);
const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
process.stderr.write(
  `build-cli: dist/cli/main.mjs, sync-worker.mjs and ${Object.keys(result.metafile.outputs).length - 2} chunks, ` +
    `${(bytes / 1e6).toFixed(1)} MB, from ${inputs.length} sources in ${Date.now() - started} ms\n`,
);
