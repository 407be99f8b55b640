/**
 * Ctrl-C (SIGINT) or SIGTERM during `ls-export convert` (QA s6 newcomer F9): one sentence saying
 * the output is incomplete, the run's temporary files removed (the folder store's
 * `.ls-export-<pid>-N.tmp`, the scratch folders of --zip and of a .csv output), and the shell's
 * status for the signal (130, 143). A real child process on a generated input large enough to be
 * interrupted while it writes; the signal is sent once its first temporary file exists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'ls-export.mjs');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');

/** Every path under `dir` (relative), folders included. */
const tree = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

let work: string;
let input: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ls-interrupt-'));
  input = join(work, 'big.json');
  // 100,000 small annotated tasks (27 MB): a few seconds of work, well past the first write.
  const tasks: string[] = [];
  for (let i = 1; i <= 100_000; i++) {
    tasks.push(
      JSON.stringify({
        id: i,
        data: { text: `Alice met Bob in Paris, task ${i}` },
        annotations: [
          {
            id: i,
            result: [
              {
                id: `r${i}`,
                from_name: 'ner',
                to_name: 'text',
                type: 'labels',
                value: { start: 0, end: 5, text: 'Alice', labels: ['PER'] },
              },
            ],
          },
        ],
      }),
    );
  }
  writeFileSync(input, `[${tasks.join(',\n')}]`);
});

/** Starts `ls-export convert` on the big input; resolves its exit code, signal and stderr. */
function start(args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'convert', '-i', input, '-c', TEXT_CONFIG, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LS_EXPORT_BUNDLE: 'never' } },
  );
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Waits until a path under `dir` matches `test` (the run is writing), up to 60 s. */
async function waitFor(dir: string, test: (path: string) => boolean): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      if (tree(dir).some(test)) return;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing matched under ${dir}`);
}

describe('an interrupted convert', () => {
  it('SIGINT while result.json is written: one sentence, exit 130, no temporary file left; the folders it made are gone', async () => {
    // Two parents the run makes too: removed with it (QA s7 #11: only the innermost one was).
    const out = join(work, 'made', 'by-run', 'o-int');
    const { child, done } = start(['-o', out, '-f', 'JSON_MIN']);
    await waitFor(out, (p) => new RegExp(`^\\.ls-export-${child.pid}-\\d+\\.tmp$`).test(p));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(new RegExp(`^ls-export: interrupted: the output in ${out} is incomplete$`, 'm'));
    expect(r.stderr).not.toContain('unexpected error');
    expect(existsSync(join(work, 'made'))).toBe(false);
    expect(existsSync(work)).toBe(true);
  }, 90_000);

  it('SIGTERM with --zip and several formats: exit 143, the scratch folders and their files removed, the given folder kept', async () => {
    const out = join(work, 'o-zip');
    mkdirSync(out);
    const { child, done } = start(['-o', out, '-f', 'JSON_MIN,CSV', '--zip']);
    await waitFor(out, (p) => /^JSON_MIN\/\.ls-export-[^/]+\/\.ls-export-\d+-\d+\.tmp$/.test(p));
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(new RegExp(`^ls-export: interrupted: the output in ${out} is incomplete$`, 'm'));
    // The format folders the run made are removed once empty; the folder that was there is kept.
    expect(tree(out)).toEqual([]);
  }, 90_000);

  it('SIGINT while the zip is written: its .part file is removed, so is the folder the run made (QA 8)', async () => {
    const out = join(work, 'o-zipping');
    const { child, done } = start(['-o', out, '-f', 'JSON_MIN', '--zip']);
    // The zip's temporary file (named for the process; `JSON_MIN.zip.part` before QA 8).
    await waitFor(out, (p) => /^\.?JSON_MIN\.zip(\.\d+)?\.part$/.test(p));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(new RegExp(`^ls-export: interrupted: the output in ${out} is incomplete$`, 'm'));
    expect(existsSync(out)).toBe(false);
  }, 90_000);

  it('two runs with --zip into one folder at once: both complete, one zip and no .part file left (QA 8)', async () => {
    const out = join(work, 'o-zip-twice');
    mkdirSync(out);
    const [a, b] = await Promise.all([
      start(['-q', '-o', out, '-f', 'JSON_MIN', '--zip']).done,
      start(['-q', '-o', out, '-f', 'JSON_MIN', '--zip']).done,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(tree(out)).toEqual(['JSON_MIN.zip', 'report.json']);
  }, 90_000);

  it('SIGINT with a .csv output: the scratch folder beside it is removed', async () => {
    const dir = mkdtempSync(join(work, 'csv-'));
    const out = join(dir, 'result.csv');
    const { child, done } = start(['-o', out, '-f', 'CSV']);
    await waitFor(dir, (p) => /^\.ls-export-[^/]+$/.test(p));
    // Past the scratch folder's creation: the export is reading tasks.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^ls-export: interrupted: the output in .*result\.csv is incomplete$/m);
    expect(tree(dir)).toEqual([]);
  }, 90_000);
});
