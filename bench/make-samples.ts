/**
 * Writes the bundled sample project under samples/ (committed; rerun only to change it):
 * a few dozen tasks of each kind with their label config, and small WAV files for the audio tasks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGS, exportChunks, KINDS, makeWav } from './generate.ts';

const root = join(import.meta.dirname, '..', 'samples');
const N = 36;
for (const kind of KINDS) {
  const dir = join(root, kind);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.xml'), CONFIGS[kind]);
  const opts =
    kind === 'audio-asr'
      ? {
          audioUrl: (i: number) => `/data/upload/7/clip_${String(i).padStart(3, '0')}.wav`,
          audioDuration: (i: number) => 0.25 + (i % 4) * 0.25,
        }
      : {};
  writeFileSync(join(dir, 'tasks.json'), [...exportChunks(kind, N, 42, opts)].join(''));
  if (kind === 'audio-asr') {
    const upload = join(dir, 'upload', '7');
    mkdirSync(upload, { recursive: true });
    for (let i = 1; i <= N; i++)
      writeFileSync(join(upload, `clip_${String(i).padStart(3, '0')}.wav`), makeWav(0.25 + (i % 4) * 0.25));
  }
}
console.log(`wrote ${KINDS.length} sample projects of ${N} tasks under ${root}`);
