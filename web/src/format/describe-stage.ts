import type { MessageKey, MessageParams } from '../i18n/messages.js';

export interface StageWords {
  key: MessageKey;
  params: MessageParams;
}

/**
 * The server states a job's stage in English words ("page 3 of 12"); this finds the message
 * for it in any UI language. A stage it does not know is shown as the server wrote it.
 */
export function describeStage(stage: string): StageWords | { raw: string } {
  const text = stage.trim();
  let match = /^page (\d+) of (\d+)$/.exec(text);
  if (match) return { key: 'stage.page', params: { page: Number(match[1]), pages: Number(match[2]) } };
  match = /^transcribing (\S+) of (\S+)$/.exec(text);
  if (match) return { key: 'stage.transcribing', params: { heard: match[1] ?? '', total: match[2] ?? '' } };
  match = /^retry scheduled \((\d+)\/(\d+)\)$/.exec(text);
  if (match) return { key: 'stage.retry', params: { attempt: Number(match[1]), max: Number(match[2]) } };
  const fixed: Record<string, MessageKey> = {
    queued: 'stage.queued',
    starting: 'stage.starting',
    'decoding audio': 'stage.decoding',
    'saving results': 'stage.saving',
    done: 'stage.done',
    failed: 'stage.failed',
    cancelling: 'stage.cancelling',
    cancelled: 'stage.cancelled',
    recovered: 'stage.recovered',
    'recovered after worker loss': 'stage.recovered',
  };
  const key = fixed[text];
  return key ? { key, params: {} } : { raw: text };
}
