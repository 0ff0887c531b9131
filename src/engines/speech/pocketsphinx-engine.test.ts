import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../../test/helpers/error-code-of.js';
import { makeSpokenWav } from '../../../test/helpers/make-media-fixtures.js';
import { pcmWavHeader } from '../../media/ffmpeg/write-wav-slice.js';
import { PocketsphinxEngine } from './pocketsphinx-engine.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-pocketsphinx-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PocketsphinxEngine', () => {
  it('reports the installed package version', async () => {
    expect(await new PocketsphinxEngine().version()).toMatch(/^0\.8/);
  });

  it('says the engine is unavailable when the program is not installed', async () => {
    const engine = new PocketsphinxEngine({ command: path.join(dir, 'no-such-pocketsphinx') });
    const options = { language: 'en', signal: new AbortController().signal };
    const wav = path.join(dir, 'silence.wav');
    await writeFile(wav, Buffer.concat([pcmWavHeader(3200), Buffer.alloc(3200)]));
    expect(await codeOf(engine.transcribe(wav, options))).toBe('ENGINE_UNAVAILABLE');
  });

  it('reports an engine failure when pocketsphinx cannot read the audio', async () => {
    const missing = path.join(dir, 'missing.wav');
    const options = { language: 'en', signal: new AbortController().signal };
    expect(await codeOf(new PocketsphinxEngine().transcribe(missing, options))).toBe(
      'TRANSCRIPTION_ENGINE_FAILED',
    );
  });

  it('does not start when the job is already cancelled', async () => {
    const wav = path.join(dir, 'empty.wav');
    await writeFile(wav, Buffer.alloc(0));
    const controller = new AbortController();
    controller.abort();
    const options = { language: 'en', signal: controller.signal };
    expect(await codeOf(new PocketsphinxEngine().transcribe(wav, options))).toBe('JOB_CANCELLED');
  });

  it('decodes a strict re-run with higher insertion penalties, and a normal run without them', async () => {
    // A wrapper that writes down its arguments, then runs the real pocketsphinx with them.
    const argsLog = path.join(dir, 'arguments.log');
    const wrapper = path.join(dir, 'pocketsphinx-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> '${argsLog}'\nexec pocketsphinx_continuous "$@"\n`);
    await chmod(wrapper, 0o755);
    const engine = new PocketsphinxEngine({ command: wrapper });
    const wav = await makeSpokenWav(dir, 'the river carries the old songs to the sea');
    const signal = new AbortController().signal;
    const normal = await engine.transcribe(wav, { language: 'en', signal });
    const strict = await engine.transcribe(wav, { language: 'en', signal, strict: true });
    const [normalArgs, strictArgs] = (await readFile(argsLog, 'utf8')).trim().split('\n');
    expect(normalArgs).toContain('-time yes');
    expect(normalArgs).not.toMatch(/-wip|-pip/);
    expect(strictArgs).toContain('-wip 0.1 -pip 0.5');
    // Both are real decodes of the speech: the penalties make loops costly, not speech.
    const words = (segments: typeof normal) => segments.map((s) => s.text).join(' ');
    expect(words(normal)).toMatch(/river/);
    expect(words(strict)).toMatch(/river/);
  });
});
