/**
 * A stand-in worker for the orphan tests: a process holding a WhisperEngine, as the worker does.
 * Transcribes the WAV once, prints `{"childPids": [...]}` on stdout, then either returns
 * (`exit`: nothing is left to do, so Node must be free to exit) or idles until killed (`wait`).
 *
 *   node --import tsx test/helpers/whisper-engine-host.ts <model> <wav> exit|wait
 */
import { WhisperEngine } from '../../src/engines/speech/whisper-engine.js';

const [modelPath, wavPath, mode] = process.argv.slice(2);
const engine = new WhisperEngine({ modelPath, threads: 1, useGpu: false });
await engine.transcribe(wavPath ?? '', { language: 'en', signal: new AbortController().signal });
console.log(JSON.stringify({ childPids: engine.processes().map((p) => p.pid) }));
if (mode === 'wait') setInterval(() => undefined, 60_000);
