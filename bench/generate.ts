/**
 * A deterministic generator of realistic Label Studio tasks, the baseline's shapes (docs/PERFORMANCE.md#how-to-reproduce):
 *  - image-bbox: Image + RectangleLabels (some non-ASCII labels), 1–8 boxes, 5 % rotated;
 *  - text-ner: Text + Labels spans + a Choices sentiment;
 *  - audio-asr: Audio + TextArea transcript.
 * In every kind: 5 % of tasks without annotations, 12 % with two or three, 3 % cancelled
 * annotations, 2 % ground truth, 25 % with a prediction. Same seed, same bytes.
 */

export type Kind = 'image-bbox' | 'text-ner' | 'audio-asr';
export const KINDS: Kind[] = ['image-bbox', 'text-ner', 'audio-asr'];

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGE_LABELS = [
  'Car',
  'Pedestrian',
  'Bicycle',
  'Traffic light',
  'Bus',
  'Straßenschild',
  'Motorcycle',
  'Truck',
  'Hund',
  'Ölfass',
];
const NER_LABELS = ['PER', 'ORG', 'LOC', 'MISC'];
const SIZES: Array<[number, number]> = [
  [640, 480],
  [800, 600],
  [1024, 768],
  [1280, 720],
  [1920, 1080],
  [2048, 1536],
  [512, 512],
];
const WORDS =
  'the of and to in is was for on that with as by at from his her an were are which this be or has had not but their one new after first also who more two all other its they been than into when'.split(
    ' ',
  );
const NAMES = [
  'Alice Martin',
  'Jürgen Weiß',
  'Acme Corp',
  'New York',
  'São Paulo',
  'Bob Stone',
  'Umbrella Ltd',
  'Zoë Brown',
];

export const CONFIGS: Record<Kind, string> = {
  'image-bbox': `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
${IMAGE_LABELS.map((l) => `    <Label value="${l}"/>`).join('\n')}
  </RectangleLabels>
</View>
`,
  'text-ner': `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">
${NER_LABELS.map((l) => `    <Label value="${l}"/>`).join('\n')}
  </Labels>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>
`,
  'audio-asr': `<View>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" rows="4" editable="true" maxSubmissions="1"/>
</View>
`,
};

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const id10 = (r: () => number) =>
  Math.floor(r() * 36 ** 10)
    .toString(36)
    .padStart(10, '0');
const iso = (base: number, offsetSec: number) =>
  new Date(base + offsetSec * 1000).toISOString().replace('Z', '000Z');

function sentence(r: () => number): string {
  const n = int(r, 6, 16);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(r() < 0.15 ? pick(r, NAMES) : pick(r, WORDS));
  const s = words.join(' ');
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function imageResult(r: () => number, w: number, h: number, origin: string) {
  const n = int(r, 1, 8);
  const out = [];
  for (let i = 0; i < n; i++) {
    const bw = 2 + r() * 40;
    const bh = 2 + r() * 40;
    out.push({
      id: id10(r),
      type: 'rectanglelabels',
      value: {
        x: r() * (100 - bw),
        y: r() * (100 - bh),
        width: bw,
        height: bh,
        rotation: r() < 0.05 ? r() * 360 : 0,
        rectanglelabels: [pick(r, IMAGE_LABELS)],
      },
      origin,
      to_name: 'image',
      from_name: 'label',
      image_rotation: 0,
      original_width: w,
      original_height: h,
    });
  }
  return out;
}

function textResult(r: () => number, text: string, origin: string) {
  const out: unknown[] = [];
  for (const name of NAMES) {
    let at = text.indexOf(name);
    while (at >= 0 && out.length < 6) {
      out.push({
        id: id10(r),
        type: 'labels',
        value: { start: at, end: at + name.length, text: name, labels: [pick(r, NER_LABELS)] },
        origin,
        to_name: 'text',
        from_name: 'ner',
      });
      at = text.indexOf(name, at + name.length);
    }
  }
  out.push({
    id: id10(r),
    type: 'choices',
    value: { choices: [pick(r, ['Positive', 'Negative', 'Neutral'])] },
    origin,
    to_name: 'text',
    from_name: 'sentiment',
  });
  return out;
}

function audioResult(r: () => number, origin: string, duration: number) {
  return [
    {
      id: id10(r),
      type: 'textarea',
      value: { text: [sentence(r).toLowerCase().replace('.', '')] },
      origin,
      to_name: 'audio',
      from_name: 'transcription',
      original_length: duration,
    },
  ];
}

export interface TaskOptions {
  /** Audio URL for task i (the demo points at bundled WAV files). */
  audioUrl?: (i: number) => string;
  /** Duration of the audio of task i, in seconds. */
  audioDuration?: (i: number) => number;
}

/** Task number `i` (1-based) of a project of the given kind. */
export function generateTask(kind: Kind, i: number, seed = 1, opts: TaskOptions = {}) {
  const r = rng(seed * 1_000_003 + i * 7919);
  const base = Date.UTC(2025, 0, 1) + i * 60_000;
  const [w, h] = pick(r, SIZES);
  let data: Record<string, unknown>;
  let result: (origin: string) => unknown[];
  if (kind === 'image-bbox') {
    data = { image: `s3://ls-media/images/img_${String(i).padStart(6, '0')}.jpg` };
    result = (o) => imageResult(r, w, h, o);
  } else if (kind === 'text-ner') {
    const text = Array.from({ length: int(r, 1, 4) }, () => sentence(r)).join(' ');
    data = { text };
    result = (o) => textResult(r, text, o);
  } else {
    const duration = opts.audioDuration?.(i) ?? Math.round((1 + r() * 9) * 100) / 100;
    data = { audio: opts.audioUrl?.(i) ?? `/data/upload/7/clip_${String(i).padStart(6, '0')}.wav` };
    result = (o) => audioResult(r, o, duration);
  }
  const roll = r();
  const count = roll < 0.05 ? 0 : roll < 0.17 ? int(r, 2, 3) : 1;
  const annotations = [];
  for (let k = 0; k < count; k++) {
    const cancelled = r() < 0.03;
    const annotationId = i * 10 + k;
    annotations.push({
      id: annotationId,
      completed_by: int(r, 1, 12),
      result: cancelled ? [] : result('manual'),
      was_cancelled: cancelled,
      ground_truth: r() < 0.02,
      created_at: iso(base, 30 + k * 600),
      updated_at: iso(base, 45 + k * 600),
      draft_created_at: null,
      lead_time: Math.round(r() * 120_000) / 1000,
      prediction: {},
      result_count: 0,
      unique_id: `${id10(r)}-${id10(r)}`,
      import_id: null,
      last_action: null,
      task: i,
      project: 7,
      updated_by: null,
      parent_prediction: null,
      parent_annotation: null,
      last_created_by: null,
    });
  }
  const predictions =
    r() < 0.25
      ? [
          {
            id: i,
            model_version: 'yolo-v8',
            created_ago: '3 days',
            result: result('prediction'),
            score: Math.round(r() * 1000) / 1000,
            cluster: null,
            neighbors: null,
            mislabeling: 0,
            created_at: iso(base, 5),
            updated_at: iso(base, 5),
            model: null,
            model_run: null,
            task: i,
            project: 7,
          },
        ]
      : [];
  return {
    id: i,
    annotations,
    drafts: [],
    predictions,
    data,
    meta: {},
    created_at: iso(base, 0),
    updated_at: iso(base, 50),
    inner_id: i,
    total_annotations: annotations.filter((a) => !a.was_cancelled).length,
    cancelled_annotations: annotations.filter((a) => a.was_cancelled).length,
    total_predictions: predictions.length,
    comment_count: 0,
    unresolved_comment_count: 0,
    last_comment_updated_at: null,
    project: 7,
    updated_by: null,
    file_upload: null,
    comment_authors: [],
  };
}

/** A Label Studio JSON export of `n` tasks, as chunks (so 100,000 tasks never sit in memory). */
export function* exportChunks(kind: Kind, n: number, seed = 1, opts: TaskOptions = {}): Generator<string> {
  yield '[';
  let batch = '';
  for (let i = 1; i <= n; i++) {
    batch += (i > 1 ? ',\n' : '\n') + JSON.stringify(generateTask(kind, i, seed, opts));
    if (batch.length > 1 << 20) {
      yield batch;
      batch = '';
    }
  }
  yield `${batch}\n]\n`;
}

/** A small PCM WAV (8 kHz, mono, 8-bit) of the given duration: enough for duration and copy tests. */
export function makeWav(seconds: number, rate = 8000): Buffer {
  const frames = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + frames);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + frames, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate, 28); // byte rate
  buf.writeUInt16LE(1, 32); // block align
  buf.writeUInt16LE(8, 34); // bits per sample
  buf.write('data', 36);
  buf.writeUInt32LE(frames, 40);
  for (let i = 0; i < frames; i++)
    buf[44 + i] = 128 + Math.round(40 * Math.sin((i / rate) * 2 * Math.PI * 440));
  return buf;
}
