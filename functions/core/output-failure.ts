/**
 * Tells an output failure (the sink or the disk could not take bytes: the export itself is broken)
 * from a fault of one task's data (which is reported and skipped). runExport wraps every sink with
 * `guardSink`, so an error raised by a sink call is marked; system errors (a spool's ENOSPC, EMFILE)
 * count as output failures too.
 */
import type { FileWriter, OutputSink } from './formats/types.ts';
import type { MediaAccess, MediaFile } from './media.ts';

const OUTPUT_FAILURE: unique symbol = Symbol('ls-export.outputFailure');
const MEDIA_FAILURE: unique symbol = Symbol('ls-export.mediaFailure');

function mark(err: unknown): never {
  if (typeof err === 'object' && err !== null) (err as { [OUTPUT_FAILURE]?: true })[OUTPUT_FAILURE] = true;
  throw err;
}

function markMedia(err: unknown): never {
  if (typeof err === 'object' && err !== null) (err as { [MEDIA_FAILURE]?: true })[MEDIA_FAILURE] = true;
  throw err;
}

/** Whether an error was thrown by reading media (guardMedia): one task's input, not the output. */
export function isMediaFailure(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { [MEDIA_FAILURE]?: true })[MEDIA_FAILURE] === true
  );
}

/**
 * Whether an error means the output cannot be written (rather than that one task is bad). A media
 * read that fails while a sink streams it (an image or audio copy) is the task's, even though it
 * reaches the caller through the sink.
 */
export function isOutputFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (isMediaFailure(err)) return false;
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

async function* guardedRead(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    yield* source;
  } catch (err) {
    markMedia(err);
  }
}

function guardFileRead(file: MediaFile): MediaFile {
  return {
    name: file.name,
    ...(file.size !== undefined ? { size: file.size } : {}),
    // A refusal of a copy by path (the run's byte budget) is the media's.
    ...(file.copyByPath
      ? {
          copyByPath: () => {
            try {
              return file.copyByPath!();
            } catch (err) {
              return markMedia(err);
            }
          },
        }
      : {}),
    read: (range) => guardedRead(file.read(range)),
  };
}

/**
 * The same media access, with every failure of its calls (open, and reading a file's bytes)
 * marked as a media failure: a copy into a sink that fails because the source could not be read
 * is reported for its task, and one that fails because the sink could not write fails the run.
 */
export function guardMedia(media: MediaAccess): MediaAccess {
  return {
    open: (url) => media.open(url).then(guardFileRead, markMedia),
  };
}
