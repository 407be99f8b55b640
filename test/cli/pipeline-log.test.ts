/** The pipeline's log lines as `ls-export sync` prints them: one human line, -q keeps errors only. */
import { describe, expect, it } from 'vitest';
import { cliPipelineLog } from '../../functions/cli/pipeline-log.ts';

function lines(quiet: boolean) {
  const out: string[] = [];
  const log = cliPipelineLog(quiet, (l) => out.push(l));
  log('debug', 'state read', { project: 'p' });
  log('info', 'rendered', { project: 'p', tasks: 3 });
  log('warn', 'format rendered over every task', { project: 'p', format: 'YOLO', reason: 'no index' });
  log('error', 'ingest commit failed; the batch is retried', {
    project: 'p',
    keys: ['a', 'b'],
    error: 'Error: boom\n    at x',
    skipped: undefined,
  });
  return out;
}

describe('cliPipelineLog', () => {
  it('prints warnings and errors as one human line each, fields as "name: value", no JSON objects', () => {
    expect(lines(false)).toEqual([
      'ls-export: WARNING: format rendered over every task (project: p, format: YOLO, reason: no index)',
      'ls-export: ERROR: ingest commit failed; the batch is retried (project: p, keys: ["a","b"], error: Error: boom at x)',
    ]);
  });

  it('with -q prints errors only', () => {
    expect(lines(true)).toEqual([
      'ls-export: ERROR: ingest commit failed; the batch is retried (project: p, keys: ["a","b"], error: Error: boom at x)',
    ]);
  });

  it('a line without fields has no parentheses', () => {
    const out: string[] = [];
    cliPipelineLog(false, (l) => out.push(l))('warn', 'delete failed');
    expect(out).toEqual(['ls-export: WARNING: delete failed']);
  });
});
