#!/usr/bin/env node
// The `ls-export` command: loads the TypeScript CLI through tsx (no build step, nothing global).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { main } = await import(pathToFileURL(join(root, 'functions/cli/main.ts')).href);
process.exitCode = await main(process.argv.slice(2));
