/**
 * The `ls-export` process itself, started through bin/ls-export.mjs: what only a real child process
 * shows. The bin wrapper's output and exit status, the SDK's real credential chain with nothing
 * configured on the oldest Node on this machine (where the AWS SDK's Node-version warning must
 * stay silenced), and a reader that closes stdout early (`ls-export formats … | head`) or stderr
 * (`ls-export convert … 2>&1 | head -0`). Everything
 * else runs the CLI in-process (test/helpers/cli.ts). Project `slow` (npm test, npm run
 * test:slow), not `npm run test:unit`: each start takes 1.4–2.3 s here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/export.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'ls-export.mjs');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');

/** A Node older than 22 on this machine (the SDK warns on those), else the test's own. */
function oldestNode(): string {
  for (const p of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.slice(1).split('.')[0]) < 22) return p;
  }
  return process.execPath;
}

describe('the ls-export process', () => {
  it('bin/ls-export.mjs --version exits 0 with the version alone on stdout', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ls-export \d+\.\d+\.\d+\n$/);
  });

  it('run as a program, restarts under node with the V8 flags and at most 2 malloc arenas (unless set)', () => {
    // A `node` that prints what it was given, first on the PATH: the shell line's exec is observed.
    const fake = mkdtempSync(join(tmpdir(), 'ls-export-fake-node-'));
    writeFileSync(join(fake, 'node'), '#!/bin/sh\necho "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX $*"\n', {
      mode: 0o755,
    });
    const env = { ...process.env, PATH: `${fake}:${process.env.PATH}`, MALLOC_ARENA_MAX: undefined };
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', env });
    expect(r.stdout).toBe(
      `MALLOC_ARENA_MAX=2 --max-semi-space-size=8 --heap-growing-percent=50 ${BIN} --version\n`,
    );
    const own = spawnSync(BIN, ['x'], { encoding: 'utf8', env: { ...env, MALLOC_ARENA_MAX: '8' } });
    expect(own.stdout).toMatch(/^MALLOC_ARENA_MAX=8 /);
  });

  it("keeps V8's compiled code under the OS temporary folder (node-compile-cache), where Node has it; Node 20 runs without", () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ls-export-compile-cache-'));
    const env = { ...process.env, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined };
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    expect(readdirSync(join(tmp, 'node-compile-cache')).length).toBeGreaterThan(0);
    const old = spawnSync(oldestNode(), [BIN, '--version'], { encoding: 'utf8', env });
    expect(old.stderr).toBe('');
    expect(old.status).toBe(0);
  });

  it('no AWS credentials: one line, no stack trace, no AWS SDK warning about the Node version', () => {
    const home = mkdtempSync(join(tmpdir(), 'ls-nocreds-'));
    writeFileSync(join(home, 'empty'), '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'empty'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'empty'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      LS_EXPORT_BUNDLE: 'never',
    };
    const args = [BIN, 'convert', '-i', 's3://some-bucket/ls', '-c', TEXT_CONFIG, '-o', join(home, 'o')];
    const r = spawnSync(oldestNode(), args, { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'ls-export: no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n',
    );
    // With --debug the same sentence, then the stack.
    const d = spawnSync(oldestNode(), [...args, '--debug'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(
      /^ls-export: no AWS credentials found: .*\nCredentialsProviderError: .*\n\s+at /,
    );
  });

  it('stdout closed by its reader (`formats … | head`): ends quietly, exit 0', async () => {
    const config = join(FIXTURES, 'test_export_coco', 'label_config.xml');
    for (const node of new Set([process.execPath, oldestNode()])) {
      const child = spawn(node, [BIN, 'formats', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader goes away before the first line
      let stderr = '';
      child.stderr.on('data', (c) => {
        stderr += c;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr, node).toBe('');
      expect(code, node).toBe(0);
    }
  });

  it("stderr closed by its reader (`convert … 2>&1 | head -0`): the work completes, the exit status is the run's", async () => {
    const out = mkdtempSync(join(tmpdir(), 'ls-epipe-'));
    const tasks = join(ROOT, 'samples', 'text-ner', 'tasks.json');
    const run = async (args: string[]) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr.destroy(); // the reader goes away before the first progress line
      child.stdout.resume();
      return new Promise<number | null>((resolve) => child.on('close', resolve));
    };
    expect(await run(['convert', '-i', tasks, '-c', TEXT_CONFIG, '-o', join(out, 'a')])).toBe(0);
    expect(readdirSync(join(out, 'a')).sort()).toEqual(['report.json', 'result.json']);
    // A failed run still says so with its status, though its sentence has nowhere to go.
    expect(
      await run(['convert', '-i', join(out, 'missing.json'), '-c', TEXT_CONFIG, '-o', join(out, 'b')]),
    ).toBe(1);
    // The shell form: stdout and stderr into one pipe its reader closes at once.
    const sh = spawnSync(
      'bash',
      [
        '-c',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash parameter expansion
        'node "$0" convert -i "$1" -c "$2" -o "$3" 2>&1 | head -0; echo "${PIPESTATUS[0]}"',
        BIN,
        tasks,
        TEXT_CONFIG,
        join(out, 'c'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(sh.stdout).toBe('0\n');
    expect(readdirSync(join(out, 'c')).sort()).toEqual(['report.json', 'result.json']);
  });
});
