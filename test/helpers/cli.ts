/**
 * Runs the `ls-export` CLI in the test's own process: `main` with collectors for its own lines,
 * and process.stdout/stderr.write captured for what the command modules write themselves, with the
 * working directory and environment variables of the call. About 100× faster than starting
 * bin/ls-export.mjs (1.4–2.3 s a start here). Tests of the process itself (the bin wrapper, Node
 * 20, signals, EPIPE) spawn it instead: test/cli/*.process.test.ts.
 */
import { main } from '../../functions/cli/main.ts';
import type { FormatRegistry } from '../../functions/core/formats/registry.ts';

export interface CliRun {
  /** The exit status main resolved to (0 done, 1 failed, 2 usage error). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** The working directory during the run (relative paths resolve against it); default unchanged. */
  cwd?: string;
  /** Variables set (a string) or removed (undefined) during the run, restored after. */
  env?: Record<string, string | undefined>;
  /** The export formats offered (default: the built-in registry). */
  registry?: FormatRegistry;
}

/** Runs are serialized: each changes process-wide state (cwd, env, the streams' write). */
let queue: Promise<unknown> = Promise.resolve();

/**
 * `ls-export ...args` in-process → its status and everything written to stdout and stderr (as
 * text, in order per stream). Restores cwd, env and the streams even when main throws.
 */
export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const run = queue.then(() => runNow(args, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(args: string[], { cwd, env = {}, registry }: CliRunOptions): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const collect =
    (into: string[]) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const savedCwd = process.cwd();
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  try {
    process.stdout.write = collect(out) as typeof process.stdout.write;
    process.stderr.write = collect(err) as typeof process.stderr.write;
    if (cwd) process.chdir(cwd);
    setEnv(env);
    const code = await main(args, registry, {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.chdir(savedCwd);
    setEnv(savedEnv);
  }
}

function setEnv(env: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
