/**
 * Ctrl-C (SIGINT) or SIGTERM during `ls-export convert`: the run's temporary files are removed,
 * one sentence says the output is incomplete, and the process exits with the shell's status for
 * the signal (130, 143), as it would without a handler.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The exit status a shell reports for a process ended by the signal: 128 + its number. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof SIGNAL_EXIT;

/**
 * Removes the temporary files this process's folder stores left in `folders` (FsObjectStore's
 * `.ls-export-<pid>-<n>.tmp`, written beside a file and renamed onto it when complete); files of
 * other processes and everything else are left. Missing folders are fine. Synchronous, so it
 * also runs from a signal handler.
 */
export function removeTempFiles(folders: Iterable<string>, pid = process.pid): void {
  const own = new RegExp(`^\\.ls-export-${pid}-\\d+\\.tmp$`);
  for (const folder of new Set(folders)) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) if (own.test(name)) rmSync(join(folder, name), { force: true });
  }
}

/**
 * Until the returned function is called, SIGINT and SIGTERM run `cleanup` (synchronous; it returns
 * the sentence to print, or nothing) and then end the process with SIGNAL_EXIT's status.
 */
export function onInterrupt(
  cleanup: () => string | undefined,
  stderr: (text: string) => void = (t) => void process.stderr.write(t),
): () => void {
  const handler = (signal: HandledSignal) => {
    dispose();
    let sentence: string | undefined;
    try {
      sentence = cleanup();
    } catch (err) {
      sentence = `interrupted; the temporary files could not all be removed: ${(err as Error).message}`;
    }
    if (sentence) stderr(`ls-export: ${sentence}\n`);
    process.exit(SIGNAL_EXIT[signal]);
  };
  const dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return dispose;
}
