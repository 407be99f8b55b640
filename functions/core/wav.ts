/**
 * Duration of a WAV file from its header, as Python's `wave` module computes it:
 * frames = data size // (channels × sample width), duration = frames / frame rate.
 */

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

export interface WavInfo {
  channels: number;
  sampleRate: number;
  sampleWidth: number;
  frames: number;
  /** Offset of the data chunk's first byte: the header needed to compute the duration ends here. */
  dataOffset: number;
}

/** Parses RIFF/WAVE chunks up to the `data` chunk header. */
export function parseWavHeader(buf: Uint8Array): WavInfo {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o], buf[o + 1], buf[o + 2], buf[o + 3]);
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new WavError('not a WAV file (no RIFF/WAVE header)');
  let offset = 12;
  let fmt: { channels: number; sampleRate: number; sampleWidth: number } | undefined;
  while (offset + 8 <= buf.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > buf.length) break;
      const format = view.getUint16(body, true);
      if (format !== 1 && format !== 0xfffe)
        throw new WavError(`unsupported WAV encoding ${format} (only PCM)`);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      fmt = { channels, sampleRate, sampleWidth: Math.floor((bits + 7) / 8) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('WAV data chunk before its fmt chunk');
      const frameSize = fmt.channels * fmt.sampleWidth;
      if (frameSize === 0 || fmt.sampleRate === 0)
        throw new WavError('WAV header has zero channels, width or rate');
      return { ...fmt, frames: Math.floor(size / frameSize), dataOffset: body };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  throw new WavError('WAV header incomplete: no data chunk found in the first bytes');
}

export function wavDuration(info: WavInfo): number {
  return info.frames / info.sampleRate;
}
