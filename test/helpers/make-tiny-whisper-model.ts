import { writeFile } from 'node:fs/promises';

/**
 * Generates a tiny but valid ggml whisper model (the legacy `ggml-*.bin` format whisper.cpp's
 * `whisper_model_load` reads) with seeded random 16-bit weights: it loads and decodes through the
 * real binding in well under a second a window, and its text is meaningless. Nothing is downloaded.
 *
 * Layout: magic, 11 int32 hparams, mel filters (n_mel, n_fft, floats), vocab (count, then
 * length-prefixed tokens), then tensors (n_dims, name length, type, dims, name, data).
 */

const GGML_FILE_MAGIC = 0x67676d6c;
const TYPE_F32 = 0;
const TYPE_F16 = 1;

/** Multilingual vocabulary size: whisper.cpp derives every special token id from it. */
const N_VOCAB = 51_865;
/** Text tokens written to the file; whisper.cpp adds the special and timestamp tokens itself. */
const N_TEXT_TOKENS = 50_257;
/** 30 s of 10 ms mel frames, halved by the second convolution: fixed by the 30 s window. */
const N_AUDIO_CTX = 1500;
const N_TEXT_CTX = 448;
const N_MELS = 80;
const N_FFT = 201;

export interface TinyWhisperModelOptions {
  /** Width of every layer (audio and text must match); a multiple of `heads`. */
  state?: number;
  heads?: number;
  layers?: number;
  seed?: number;
}

/** mulberry32: small, seeded, good enough for weights nobody reads. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** IEEE half-precision bits of a float in the normal range (weights here are small, never inf/NaN). */
function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7bff;
  return sign | (exponent << 10) | ((bits >>> 13) & 0x3ff);
}

interface TensorSpec {
  name: string;
  /** ggml order: ne[0] varies fastest. */
  shape: number[];
  type: typeof TYPE_F32 | typeof TYPE_F16;
  /** Layer-norm gains are 1, biases 0, everything else small random values. */
  fill: 'one' | 'zero' | 'random';
}

function tensorSpecs(state: number, layers: number): TensorSpec[] {
  const f32 = (name: string, shape: number[], fill: TensorSpec['fill']): TensorSpec => ({
    name,
    shape,
    type: TYPE_F32,
    fill,
  });
  const f16 = (name: string, shape: number[]): TensorSpec => ({
    name,
    shape,
    type: TYPE_F16,
    fill: 'random',
  });
  const attention = (prefix: string): TensorSpec[] => [
    f32(`${prefix}_ln.weight`, [state], 'one'),
    f32(`${prefix}_ln.bias`, [state], 'zero'),
    f16(`${prefix}.query.weight`, [state, state]),
    f32(`${prefix}.query.bias`, [state], 'zero'),
    f16(`${prefix}.key.weight`, [state, state]),
    f16(`${prefix}.value.weight`, [state, state]),
    f32(`${prefix}.value.bias`, [state], 'zero'),
    f16(`${prefix}.out.weight`, [state, state]),
    f32(`${prefix}.out.bias`, [state], 'zero'),
  ];
  const mlp = (prefix: string): TensorSpec[] => [
    f32(`${prefix}.mlp_ln.weight`, [state], 'one'),
    f32(`${prefix}.mlp_ln.bias`, [state], 'zero'),
    f16(`${prefix}.mlp.0.weight`, [state, 4 * state]),
    f32(`${prefix}.mlp.0.bias`, [4 * state], 'zero'),
    f16(`${prefix}.mlp.2.weight`, [4 * state, state]),
    f32(`${prefix}.mlp.2.bias`, [state], 'zero'),
  ];
  const specs: TensorSpec[] = [
    f32('encoder.positional_embedding', [state, N_AUDIO_CTX], 'random'),
    f16('encoder.conv1.weight', [3, N_MELS, state]),
    f32('encoder.conv1.bias', [1, state], 'zero'),
    f16('encoder.conv2.weight', [3, state, state]),
    f32('encoder.conv2.bias', [1, state], 'zero'),
    f32('encoder.ln_post.weight', [state], 'one'),
    f32('encoder.ln_post.bias', [state], 'zero'),
  ];
  for (let i = 0; i < layers; i++) {
    specs.push(...mlp(`encoder.blocks.${i}`), ...attention(`encoder.blocks.${i}.attn`));
  }
  specs.push(
    f32('decoder.positional_embedding', [state, N_TEXT_CTX], 'random'),
    f16('decoder.token_embedding.weight', [state, N_VOCAB]),
    f32('decoder.ln.weight', [state], 'one'),
    f32('decoder.ln.bias', [state], 'zero'),
  );
  for (let i = 0; i < layers; i++) {
    specs.push(
      ...mlp(`decoder.blocks.${i}`),
      ...attention(`decoder.blocks.${i}.attn`),
      ...attention(`decoder.blocks.${i}.cross_attn`),
    );
  }
  return specs;
}

/** Triangular filters over the 201 FFT bins, as a real model's mel bank roughly is. */
function melFilters(): Float32Array {
  const filters = new Float32Array(N_MELS * N_FFT);
  const step = (N_FFT - 1) / (N_MELS + 1);
  for (let m = 0; m < N_MELS; m++) {
    const centre = (m + 1) * step;
    for (let k = 0; k < N_FFT; k++) {
      filters[m * N_FFT + k] = Math.max(0, 1 - Math.abs(k - centre) / step) * 0.01;
    }
  }
  return filters;
}

/** GPT-2's id of the single-space token, which whisper.cpp looks up by text (`suppress_blank`). */
const SPACE_TOKEN = 220;

/** Distinct short printable tokens (` a`, `b`, … `ba`, …) so decoded text is valid UTF-8. */
function tokenText(i: number): string {
  if (i === SPACE_TOKEN) return ' ';
  let word = '';
  for (let n = i; ; n = Math.floor(n / 26) - 1) {
    word = String.fromCharCode(97 + (n % 26)) + word;
    if (n < 26) break;
  }
  return i % 3 === 0 ? ` ${word}` : word;
}

/** The model file's bytes. Default dims give a ~3.5 MB file. */
export function tinyWhisperModel(options: TinyWhisperModelOptions = {}): Buffer {
  const state = options.state ?? 32;
  const heads = options.heads ?? 2;
  const layers = options.layers ?? 1;
  const next = random(options.seed ?? 1);
  const parts: Buffer[] = [];
  const int32s = (...values: number[]) => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => {
      b.writeInt32LE(v, 4 * i);
    });
    parts.push(b);
  };

  int32s(GGML_FILE_MAGIC);
  int32s(N_VOCAB, N_AUDIO_CTX, state, heads, layers, N_TEXT_CTX, state, heads, layers, N_MELS, TYPE_F16);
  int32s(N_MELS, N_FFT);
  parts.push(Buffer.from(melFilters().buffer));
  int32s(N_TEXT_TOKENS);
  for (let i = 0; i < N_TEXT_TOKENS; i++) {
    const token = Buffer.from(tokenText(i), 'utf8');
    int32s(token.length);
    parts.push(token);
  }
  for (const spec of tensorSpecs(state, layers)) {
    const name = Buffer.from(spec.name, 'utf8');
    int32s(spec.shape.length, name.length, spec.type, ...spec.shape);
    parts.push(name);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const value = () => (spec.fill === 'one' ? 1 : spec.fill === 'zero' ? 0 : (next() * 2 - 1) * 0.2);
    if (spec.type === TYPE_F32) {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = value();
      parts.push(Buffer.from(data.buffer));
    } else {
      const data = new Uint16Array(count);
      for (let i = 0; i < count; i++) data[i] = toHalf(value());
      parts.push(Buffer.from(data.buffer));
    }
  }
  return Buffer.concat(parts);
}

/** Writes the tiny model to `filePath` (a new file) and returns the path. */
export async function makeTinyWhisperModel(
  filePath: string,
  options?: TinyWhisperModelOptions,
): Promise<string> {
  await writeFile(filePath, tinyWhisperModel(options), { flag: 'wx' });
  return filePath;
}
