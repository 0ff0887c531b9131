import { useEffect, useRef, useState } from 'react';
import { CONTENT_SUBTYPES, type ContentSubtype, type WebJob } from '../api/contract.js';
import { useI18n } from '../i18n/i18n-context.js';
import type { MessageKey } from '../i18n/messages.js';
import {
  OCR_LANGUAGES,
  type OcrEngineChoice,
  SPEECH_LANGUAGES,
  type SpeechEngineChoice,
} from '../state/upload-queue.js';
import { Select, withChosen } from './upload-panel.js';
import { useModalDialog } from './use-modal-dialog.js';

export interface RetryOptions {
  language: string;
  content_subtype: ContentSubtype;
  /** Documents, when changed: an engine by name, or null for the server's default. */
  ocr_engine?: Exclude<OcrEngineChoice, 'default'> | null;
  /** Recordings, when changed: a speech engine by name, or null for the server's default. */
  transcription_engine?: Exclude<SpeechEngineChoice, 'default'> | null;
}

/**
 * Retry with other options: the content subtype, the language and the engine (OCR for a
 * document, speech for a recording), the same choices as an upload. The engine is sent only
 * when it was changed.
 */
export function RetryDialog(props: {
  job: WebJob | null;
  /** `default`, then the OCR engines the server offers (GET /v1/config). */
  ocrEngines: readonly OcrEngineChoice[];
  /** `default`, then the speech engines the server offers (GET /v1/config). */
  speechEngines: readonly SpeechEngineChoice[];
  onRetry(job: WebJob, options: RetryOptions): void;
  onClose(): void;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const { job } = props;
  const [language, setLanguage] = useState('');
  const [subtype, setSubtype] = useState<ContentSubtype>('general');
  const originalEngine: OcrEngineChoice = job?.ocr_options?.engine ?? 'default';
  const [engine, setEngine] = useState<OcrEngineChoice>('default');
  const originalSpeechEngine: SpeechEngineChoice = job?.transcription_options?.engine ?? 'default';
  const [speechEngine, setSpeechEngine] = useState<SpeechEngineChoice>('default');
  useEffect(() => {
    if (!job) return;
    setLanguage(job.language);
    setSubtype(job.content_subtype);
    setEngine(job.ocr_options?.engine ?? 'default');
    setSpeechEngine(job.transcription_options?.engine ?? 'default');
  }, [job]);
  useModalDialog(ref, job !== null);
  const languages: readonly string[] = job?.job_type === 'TRANSCRIPTION' ? SPEECH_LANGUAGES : OCR_LANGUAGES;
  // A language the lists do not offer (set through the API) stays choosable as it is.
  const options = languages.includes(language) || !language ? languages : [language, ...languages];
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="retry-title" onClose={props.onClose}>
      {job ? (
        <form method="dialog">
          <h2 id="retry-title">{t('retry.title', { name: job.input_filename })}</h2>
          <p>{t('retry.body')}</p>
          <Select<ContentSubtype>
            label={t('field.subtype')}
            value={subtype}
            options={CONTENT_SUBTYPES}
            optionLabel={(option) => t(`subtype.${option}`)}
            onChange={setSubtype}
          />
          <Select
            label={job.job_type === 'TRANSCRIPTION' ? t('field.speechLanguage') : t('field.ocrLanguage')}
            value={language}
            options={options}
            optionLabel={(option) =>
              languages.includes(option) ? t(`language.${option}` as MessageKey) : option
            }
            onChange={setLanguage}
          />
          {job.job_type === 'OCR' ? (
            <Select<OcrEngineChoice>
              label={t('field.ocrEngine')}
              value={engine}
              options={withChosen(props.ocrEngines, engine)}
              optionLabel={(option) => t(`engine.${option}`)}
              onChange={setEngine}
            />
          ) : null}
          {job.job_type === 'TRANSCRIPTION' ? (
            <Select<SpeechEngineChoice>
              label={t('field.speechEngine')}
              value={speechEngine}
              options={withChosen(props.speechEngines, speechEngine)}
              optionLabel={(option) => t(`engine.${option}`)}
              onChange={setSpeechEngine}
            />
          ) : null}
          <div className="dialog-actions">
            <button type="submit" value="cancel">
              {t('confirm.keep')}
            </button>
            <button
              type="button"
              onClick={() => {
                props.onRetry(job, {
                  language,
                  content_subtype: subtype,
                  ...(job.job_type === 'OCR' && engine !== originalEngine
                    ? { ocr_engine: engine === 'default' ? null : engine }
                    : {}),
                  ...(job.job_type === 'TRANSCRIPTION' && speechEngine !== originalSpeechEngine
                    ? { transcription_engine: speechEngine === 'default' ? null : speechEngine }
                    : {}),
                });
                props.onClose();
              }}
            >
              {t('retry.yes')}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
