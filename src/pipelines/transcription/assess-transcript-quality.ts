import type { JobQuality } from '../../contract/index.js';
import type { Segment } from '../../engines/speech/speech-engine.js';

/** `eng` → `en`, `hin` → `hi`, `en-GB` → `en`; whatever Intl cannot read is compared as given. */
export function baseLanguage(tag: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical ? new Intl.Locale(canonical).language : tag.toLowerCase();
  } catch {
    return tag.toLowerCase();
  }
}

function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * Score: mean segment confidence weighted by segment length (a one-word "ah" in noise should not
 * count as much as a minute of speech); null when the engine gives none. Hints: what people
 * should know before trusting the text.
 */
export function assessTranscriptQuality(
  segments: readonly Segment[],
  context: { language: string; engineName: string; engineLanguages: readonly string[] },
): JobQuality {
  const hints: string[] = [];
  const language = baseLanguage(context.language);
  const known = context.engineLanguages.map(baseLanguage);
  if (!known.includes(language)) {
    hints.push(
      `The offline speech engine (${context.engineName}) only knows ${known.map(languageName).join(', ')}; ` +
        `this recording was transcribed as if it were, although the job language is ${languageName(language)} ` +
        `(${context.language}), so expect the text to be wrong. Choose an engine that supports ${languageName(language)}.`,
    );
  }
  if (segments.length === 0) hints.push('No speech was recognised in the recording.');

  let weighted = 0;
  let weight = 0;
  for (const segment of segments) {
    if (segment.confidence === undefined) continue;
    // A zero-length segment still counts a little, so a score exists whenever a confidence does.
    const length = Math.max(segment.end - segment.start, 0.01);
    weighted += segment.confidence * length;
    weight += length;
  }
  const score = weight > 0 ? Math.round((weighted / weight) * 1000) / 1000 : null;
  return { score, hints };
}
