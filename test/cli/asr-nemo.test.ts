/**
 * ASR_MANIFEST for NeMo: NeMo's manifest reader resolves a relative `audio_filepath` against the
 * manifest's own folder. End to end through the CLI into a real folder: every path in
 * manifest.json must name an existing file there, holding the task's audio, with its duration.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWav } from '../../bench/generate.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG =
  '<View><Audio name="audio" value="$audio"/><TextArea name="transcription" toName="audio"/></View>';

const text = (t: string) => ({
  from_name: 'transcription',
  to_name: 'audio',
  type: 'textarea',
  value: { text: [t] },
});

describe('ASR_MANIFEST audio paths for NeMo', () => {
  it('every audio_filepath resolves, from the manifest folder, to the copied audio', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-nemo-'));
    const upload = join(dir, 'upload');
    const audio: Record<string, Buffer> = {
      '1/a b.wav': makeWav(1, 16000),
      '2/a b.wav': makeWav(0.5, 8000), // same file name, other project folder
      '2/c.wav': makeWav(0.25, 16000),
    };
    for (const [rel, bytes] of Object.entries(audio)) {
      mkdirSync(dirname(join(upload, rel)), { recursive: true });
      writeFileSync(join(upload, rel), bytes);
    }
    const tasks = Object.keys(audio).map((rel, i) => ({
      id: i + 1,
      data: { audio: `/data/upload/${rel.replace(' ', '%20')}` },
      annotations: [{ id: i + 1, result: [text(`t${i + 1}`)] }],
    }));
    tasks.push({ id: 9, data: { audio: '/data/upload/9/missing.wav' }, annotations: [] });
    writeFileSync(join(dir, 'tasks.json'), JSON.stringify(tasks));
    writeFileSync(join(dir, 'config.xml'), CONFIG);
    const out = join(dir, 'out');
    const r = await runCli(
      [
        'convert',
        '-i',
        join(dir, 'tasks.json'),
        '-c',
        join(dir, 'config.xml'),
        '-o',
        out,
        '-f',
        'ASR_MANIFEST',
        '--upload-dir',
        upload,
        '-q',
      ],
      { cwd: ROOT },
    );
    expect(r.code, r.stderr).toBe(0);
    const manifest = join(out, 'manifest.json');
    const lines = readFileSync(manifest, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.text)).toEqual(['t1', 't2', 't3']); // the missing audio is reported, not listed
    const expected = Object.values(audio);
    const durations = [1, 0.5, 0.25];
    lines.forEach((line, i) => {
      expect(isAbsolute(line.audio_filepath), line.audio_filepath).toBe(false);
      const file = resolve(dirname(manifest), line.audio_filepath);
      expect(existsSync(file), line.audio_filepath).toBe(true);
      expect(readFileSync(file).equals(expected[i]), line.audio_filepath).toBe(true);
      expect(line.duration).toBe(durations[i]);
    });
    expect(new Set(lines.map((l) => l.audio_filepath)).size).toBe(3);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.skipped.map((s: { taskId: number }) => s.taskId)).toEqual([9]);
  });
});
