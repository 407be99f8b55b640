#!/bin/sh
// 2>/dev/null; MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} exec node --max-semi-space-size=8 --heap-growing-percent=50 "$0" "$@"
// ↑ Run as a program (npx ls-export, ./bin/ls-export.mjs), the shell runs that line (`//` fails
// quietly) and restarts this file under node with an 8 MiB young-generation semi-space: V8 otherwise
// grows it to 64 MiB as a long export runs, so peak RSS grew with the task count (VOC at 10,000
// tasks: 240 MiB, 175 MiB with a 16 MiB cap, same CPU time; at 100,000 tasks 8 MiB instead of 16
// took VOC 203-205 -> 187-191 MiB, COCO 178-200 -> 169-178, CSV 144-147 -> 132-134, for ≈ 3 % more
// CPU on CSV and none measurable on VOC and COCO). And the old generation may grow 1.5× its
// live size before a full collection, not V8's up to 4×: an export keeps ≈15-20 MiB live, but
// short-lived objects promoted by young collections piled up to ≈60 MiB before the next one, so
// peak RSS still grew from 10,000 to 100,000 tasks (CSV at 100,000: 152 -> 120 MiB, same output,
// CPU within noise). glibc's malloc gets at most 2 arenas (unless MALLOC_ARENA_MAX is set): V8's
// background threads (compiler, GC) each grew an arena of their own, native memory the heap figures
// do not show (COCO at 100,000 tasks: 209 -> 189 MiB, same CPU time). For node
// (`node bin/ls-export.mjs`) the line is a comment.
// The `ls-export` command. Runs the bundled CLI (dist/cli/, `npm run build`, done by `npm ci` /
// `npm install` through `prepare`) when it is present and up to date with the sources; otherwise
// the TypeScript itself through tsx, so editing the sources needs no build step.
// LS_EXPORT_BUNDLE=never forces tsx; =always forces the bundle (benchmarks in a checkout where
// other sources are being edited).
import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleEntry, bundleIsFresh } from './bundle-state.mjs';

// V8's code cache on disk (Node ≥ 22.1; under the OS temporary folder, keyed by each file's
// content): the bundle's 4 MB are compiled once, not at every run. A 10-task export: 0.30 -> 0.24 s
// CPU (JSON_MIN), 0.44 -> 0.40 s (COCO). A folder that cannot be written only means no cache.
nodeModule.enableCompileCache?.();

// The AWS SDK warns on every run under Node 20 that its releases after January 2027 need Node ≥ 22.
// This is its documented switch for that one warning (aws/aws-sdk-js-v3#7983); others still print.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const root = dirname(dirname(fileURLToPath(import.meta.url)));
let main;
const mode = process.env.LS_EXPORT_BUNDLE;
if (mode === 'always' || (mode !== 'never' && bundleIsFresh(root))) {
  ({ main } = await import(pathToFileURL(bundleEntry(root)).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(`${root}/functions/cli/main.ts`).href));
}
process.exitCode = await main(process.argv.slice(2));
