/**
 * Tells an output failure (the sink or the disk could not take bytes: the export itself is broken)
 * from a fault of one task's data (which is reported and skipped). runExport wraps every sink with
 * `guardSink`, so an error raised by a sink call is marked; system errors (a spool's ENOSPC, EMFILE)
 * count as output failures too.
 */
import type { FileWriter, OutputSink } from './formats/types.ts';

const OUTPUT_FAILURE: unique symbol = Symbol('ls-export.outputFailure');

function mark(err: unknown): never {
  if (typeof err === 'object' && err !== null) (err as { [OUTPUT_FAILURE]?: true })[OUTPUT_FAILURE] = true;
  throw err;
}

/** Whether an error means the output cannot be written (rather than that one task is bad). */
export function isOutputFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { [OUTPUT_FAILURE]?: true })[OUTPUT_FAILURE]) return true;
  return typeof (err as { syscall?: unknown }).syscall === 'string';
}

function guardFile(file: FileWriter): FileWriter {
  return {
    write(chunk) {
      try {
        const r = file.write(chunk);
        return r === undefined ? r : r.catch(mark);
      } catch (err) {
        return mark(err);
      }
    },
    close: () => file.close().catch(mark),
  };
}

/** The same sink, with every failure of its calls marked as an output failure. */
export function guardSink(sink: OutputSink): OutputSink {
  const guarded: OutputSink = {
    get maxPathBytes() {
      return sink.maxPathBytes;
    },
    open(path) {
      try {
        return guardFile(sink.open(path));
      } catch (err) {
        return mark(err);
      }
    },
    writeFile: (path, content) => sink.writeFile(path, content).catch(mark),
    exists: (path) => sink.exists(path),
  };
  if (sink.copyFrom) {
    const copyFrom = sink.copyFrom.bind(sink);
    guarded.copyFrom = (path, source, local) => copyFrom(path, source, local).catch(mark);
  }
  return guarded;
}
