/**
 * One-way layers under functions/ (DESIGN.md "Shape of the code"): every import of every file is
 * parsed (TypeScript's own pre-processor: static, re-export, side-effect and dynamic imports) and
 * checked against the rules below. Known exceptions are listed with their reason; an exception that
 * no longer occurs fails the test too, so the list can only shrink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FUNCTIONS = join(ROOT, 'functions');

type Layer = 'core' | 'storage' | 'pipeline' | 'runtime' | 'handlers' | 'local' | 'cli';
const LAYERS: readonly Layer[] = ['core', 'storage', 'pipeline', 'runtime', 'handlers', 'local', 'cli'];

interface SourceFile {
  /** Path under functions/, e.g. `core/spool.ts`. */
  path: string;
  layer: Layer;
  text: string;
  /** Relative imports as paths under functions/ (`pipeline/paths.ts`), packages as written. */
  imports: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function load(): SourceFile[] {
  return walk(FUNCTIONS).map((abs) => {
    const path = relative(FUNCTIONS, abs).split('\\').join('/');
    const layer = path.split('/')[0] as Layer;
    const text = readFileSync(abs, 'utf8');
    const parsed = ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) =>
      fileName.startsWith('.')
        ? relative(FUNCTIONS, normalize(join(dirname(abs), fileName)))
            .split('\\')
            .join('/')
        : fileName,
    );
    return { path, layer, text, imports: [...new Set(parsed)] };
  });
}

const files = load();

const isBuiltin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec);
const builtinName = (spec: string) => spec.replace(/^node:/, '');
const layerOf = (spec: string): Layer | undefined =>
  spec.startsWith('.') || spec.startsWith('/') || isBuiltin(spec) || !spec.includes('/')
    ? undefined
    : LAYERS.find((l) => spec.startsWith(`${l}/`));

/** Node built-ins core may use anywhere: computation only, no I/O, no process state. */
const CORE_BUILTINS = new Set(['crypto', 'string_decoder', 'buffer', 'util', 'events', 'stream', 'path']);

/** Packages that bind code to AWS or to the Lambda runtime. */
const AWS_PACKAGE = /^(@aws-sdk\/|@aws-lambda-powertools\/|@middy\/|aws-lambda$)/;

/** Reads of the process (its environment, arguments, streams or exit): only cli and runtime may. */
const PROCESS_USE = /\bprocess\.(env|argv|exit|exitCode|stdout|stderr|stdin|cwd|chdir|on)\b/;

/**
 * Known exceptions, `<file> -> <import>` (`*` for any file) with the reason. Each must still occur
 * (else delete it), so the list only shrinks.
 */
const EXCEPTIONS: Record<string, string> = {
  'core/spool.ts -> node:fs/promises':
    'the spool is the one documented core I/O: big exports overflow to a temporary file (DESIGN.md)',
  'core/spool.ts -> node:os': 'the spool finds the temporary directory',
};

const exceptionFor = (file: string, spec: string): string | undefined =>
  [`${file} -> ${spec}`, `* -> ${spec}`].find((key) => key in EXCEPTIONS);

interface Violation {
  file: string;
  spec: string;
  rule: string;
}

function violations(): Violation[] {
  const out: Violation[] = [];
  const add = (file: SourceFile, spec: string, rule: string) => out.push({ file: file.path, spec, rule });
  for (const f of files) {
    for (const spec of f.imports) {
      const target = layerOf(spec);
      switch (f.layer) {
        case 'core':
          if (target && target !== 'core') add(f, spec, 'core imports nothing outside core');
          if (AWS_PACKAGE.test(spec)) add(f, spec, 'core does not use AWS or Lambda packages');
          if (isBuiltin(spec) && !CORE_BUILTINS.has(builtinName(spec)))
            add(f, spec, 'core uses only computational Node built-ins');
          break;
        case 'pipeline':
          if (target && ['storage', 'runtime', 'handlers', 'cli', 'local'].includes(target))
            add(f, spec, 'pipeline imports only core and pipeline (storage through core ports)');
          if (AWS_PACKAGE.test(spec)) add(f, spec, 'pipeline does not use AWS or Lambda packages');
          break;
        case 'storage':
          if (target && ['pipeline', 'runtime', 'handlers', 'cli', 'local'].includes(target))
            add(f, spec, 'storage implements core ports and imports only core and storage');
          break;
        case 'runtime':
        case 'handlers':
          if (target && ['cli', 'local'].includes(target))
            add(f, spec, 'deployed code does not import the CLI or the local dev kit');
          break;
        case 'local':
          if (target && ['cli', 'handlers', 'runtime'].includes(target))
            add(f, spec, 'the local dev kit plays AWS for the pipeline; it does not import its callers');
          break;
        case 'cli':
          break;
      }
    }
    if (['core', 'pipeline', 'storage', 'local'].includes(f.layer) && PROCESS_USE.test(f.text))
      add(f, 'process', 'only cli and runtime read the process (environment, arguments, streams)');
  }
  return out;
}

describe('layers of functions/', () => {
  it('finds the files and their imports (the parser works)', () => {
    const spool = files.find((f) => f.path === 'core/spool.ts');
    expect(spool?.imports).toContain('node:os');
    expect(new Set(files.map((f) => f.layer))).toEqual(new Set(LAYERS));
    const notificationBus = files.find((f) => f.path === 'local/notification-bus.ts');
    expect(notificationBus?.imports).toContain('pipeline/notifications.ts');
  });

  it('imports go one way only (known exceptions listed with their reason)', () => {
    const found = violations();
    const unexpected = found
      .filter((v) => !exceptionFor(v.file, v.spec))
      .map((v) => `${v.file} -> ${v.spec}: ${v.rule}`);
    expect(unexpected).toEqual([]);
    const stale = Object.keys(EXCEPTIONS).filter(
      (key) => !found.some((v) => exceptionFor(v.file, v.spec) === key),
    );
    expect(stale).toEqual([]);
  });

  it('functions/handlers holds only Lambda entry points (each exports `handler`)', () => {
    const handlers = files.filter((f) => f.layer === 'handlers');
    expect(handlers.length).toBeGreaterThan(0);
    const exportsHandler =
      /export\s+(const|let|async\s+function|function)\s+handler\b|export\s*\{[^}]*\bhandler\b[^}]*\}/;
    expect(handlers.filter((f) => !exportsHandler.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  it('nothing but the CLI imports the CLI, and no deployed layer imports the local dev kit', () => {
    const bad = files.flatMap((f) =>
      f.imports
        .filter((spec) => {
          const target = layerOf(spec);
          return (
            (target === 'cli' && f.layer !== 'cli') ||
            (target === 'local' && !['cli', 'local'].includes(f.layer))
          );
        })
        .map((spec) => `${f.path} -> ${spec}`),
    );
    expect(bad).toEqual([]);
  });
});
