/** `npm run demo` (the embedded default) runs the whole flow and tells what it exported where. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../functions/cli/demo.ts';
import { tempDir } from '../pipeline/helpers.ts';

describe('demo', () => {
  it('runs converter and event-driven pipeline on a local S3 server', async () => {
    const out = await tempDir();
    const lines: string[] = [];
    await runDemo(out, (s) => lines.push(s));
    const text = lines.join('\n');
    expect(text).toMatch(
      /ingest: \d+ S3 event messages \(\d+ duplicates, shuffled\) in \d+ SQS batches, 0 failed/,
    );
    expect(text).toMatch(/render: 3 render message\(s\) for 3 projects/);
    expect(text).toMatch(/skipped source object ls\/text-ner\/\/9999: invalid JSON/);
    expect(text).toMatch(/API POST \/api\/projects\/2\/exports → 201/);
    expect(text).toMatch(/download\?exportType=CONLL2003 → 302/);
    expect(existsSync(join(out, 'pipeline', 'text-ner', 'latest', 'manifest.json'))).toBe(true);
    expect(existsSync(join(out, 'pipeline', 'audio-asr', 'latest', 'ASR_MANIFEST', 'manifest.json'))).toBe(
      true,
    );
    expect(existsSync(join(out, 'local', 'text-ner', 'CONLL2003', 'result.conll'))).toBe(true);
  });
});
