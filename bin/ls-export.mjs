#!/usr/bin/env node
// The `ls-export` command: loads the TypeScript CLI through tsx (no build step, nothing global).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every run under Node 20 that its releases after January 2027 need Node ≥ 22.
// This is its documented switch for that one warning (aws/aws-sdk-js-v3#7983); others still print.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { main } = await import(pathToFileURL(join(root, 'functions/cli/main.ts')).href);
process.exitCode = await main(process.argv.slice(2));
