import { type DragEvent, useId, useRef, useState } from 'react';
import { CONTENT_SUBTYPES, type ContentSubtype, type PrecheckResult } from '../api/contract.js';
import { formatBytes, formatDuration, formatInteger, formatPercent } from '../format/format-numbers.js';
import { useI18n } from '../i18n/i18n-context.js';
import type { MessageKey } from '../i18n/messages.js';
import {
  type BatchSettings,
  OCR_LANGUAGES,
  type OcrEngineChoice,
  SPEECH_LANGUAGES,
  type SpeechEngineChoice,
  type UploadItem,
  type UploadState,
} from '../state/upload-queue.js';
import { FailureNotice } from './failure-notice.js';
import { ProgressBar } from './progress-bar.js';

export interface UploadPanelProps {
  state: UploadState;
  sendableCount: number;
  /** The OCR engines to offer a document: `default`, then those the server offers (GET /v1/config). */
  ocrEngines: readonly OcrEngineChoice[];
  /** The speech engines to offer a recording: `default`, then those the server offers (GET /v1/config). */
  speechEngines: readonly SpeechEngineChoice[];
  onFiles(files: File[]): void;
  onBatch(settings: BatchSettings): void;
  onEdit(
    key: string,
    change: {
      contentSubtype?: ContentSubtype;
      language?: string;
      ocrEngine?: OcrEngineChoice;
      speechEngine?: SpeechEngineChoice;
    },
  ): void;
  onRemove(key: string): void;
  onSend(): void;
  onClearDone(): void;
}

export function Select<T extends string>({
  label,
  value,
  options,
  optionLabel,
  onChange,
  disabled,
}: {
  label: string;
  value: T;
  options: readonly T[];
  optionLabel(option: T): string;
  onChange(value: T): void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value as T)}
      >
        {options.map((option) => (
          <option key={option} value={option}>
            {optionLabel(option)}
          </option>
        ))}
      </select>
    </span>
  );
}

/** The OCR choices before the server's list is known (upload and retry alike): only its default. */
export const DEFAULT_OCR_CHOICES: readonly OcrEngineChoice[] = ['default'];

/** The speech choices before the server's list is known: only its default. */
export const DEFAULT_SPEECH_CHOICES: readonly SpeechEngineChoice[] = ['default'];

/** The offered choices, plus the current one if the server no longer offers it (so it stays shown). */
export function withChosen<T extends string>(offered: readonly T[], chosen: T): readonly T[] {
  return offered.includes(chosen) ? offered : [...offered, chosen];
}

/** The server's verdict before sending: what it sees, how long and how costly, warnings, refusals. */
function PrecheckHints({ precheck }: { precheck: PrecheckResult | null }) {
  const { t, locale } = useI18n();
  if (!precheck) {
    return (
      <p className="hint precheck" data-testid="precheck">
        {t('upload.precheck.checking')}
      </p>
    );
  }
  const { estimate } = precheck;
  const hints = [
    precheck.detected
      ? t('upload.precheck.detected', {
          kind: t(`upload.kind.${precheck.detected.job_type}`),
          mime: precheck.detected.mime,
        })
      : null,
    estimate.processing_sec === null
      ? t('upload.precheck.etaUnknown')
      : t('upload.precheck.eta', { duration: formatDuration(estimate.processing_sec, locale) }),
    estimate.effort ? t(`upload.precheck.effort.${estimate.effort}`) : null,
    t('upload.precheck.queue', { count: formatInteger(estimate.queue_waiting, locale) }),
    estimate.cost_band === 'paid' && estimate.cost !== null
      ? t('upload.precheck.costAmount', {
          engine: estimate.engine,
          cost: estimate.cost.toLocaleString(locale),
        })
      : t(`upload.precheck.cost.${estimate.cost_band}`, { engine: estimate.engine }),
  ].filter((hint): hint is string => hint !== null);
  return (
    <div className="precheck" data-testid="precheck" data-decision={precheck.decision}>
      {precheck.decision === 'block' ? null : <p className="hint">{hints.join(' · ')}</p>}
      {[
        ...precheck.warnings.map((finding) => ({ finding, role: 'status' as const })),
        ...precheck.blocks.map((finding) => ({ finding, role: 'alert' as const })),
      ].map(({ finding, role }) => (
        <FailureNotice
          key={finding.code}
          role={role}
          failure={{
            kind: 'problem',
            status: 0,
            problem: { status: 0, error_code: finding.code, detail: finding.message },
          }}
        />
      ))}
      {precheck.decision === 'block' ? (
        <p className="upload-blocked">{t('upload.precheck.blocked')}</p>
      ) : null}
    </div>
  );
}

function UploadRow({
  item,
  onEdit,
  onRemove,
  ocrEngines,
  speechEngines,
}: Pick<UploadPanelProps, 'onEdit' | 'onRemove' | 'ocrEngines' | 'speechEngines'> & { item: UploadItem }) {
  const { t, locale } = useI18n();
  const jobType = item.detected?.input.jobType;
  const editable = item.phase === 'ready' || item.phase === 'failed';
  const name = item.file.name;
  const languages: readonly string[] = jobType === 'TRANSCRIPTION' ? SPEECH_LANGUAGES : OCR_LANGUAGES;
  return (
    <li className={`upload-item phase-${item.phase}`} data-testid="upload-item">
      <div className="upload-head">
        <span className="upload-name">{name}</span>
        <span className="facts">{formatBytes(item.file.size, locale)}</span>
        <span className={`badge kind ${jobType ? '' : 'unsupported'}`} data-testid="detected-kind">
          {jobType ? t(`upload.kind.${jobType}`) : t('upload.kind.unsupported')}
          {item.detected?.by === 'name' ? ` (${t('upload.kind.byName')})` : ''}
        </span>
        {item.detected ? <span className="facts">{item.detected.input.mime}</span> : null}
      </div>
      {item.detected ? (
        <fieldset className="upload-settings" disabled={!editable}>
          <legend className="visually-hidden">{t('upload.settingsFor', { name })}</legend>
          <Select
            label={t('field.subtype')}
            value={item.contentSubtype}
            options={CONTENT_SUBTYPES}
            optionLabel={(option) => t(`subtype.${option}`)}
            onChange={(contentSubtype) => onEdit(item.key, { contentSubtype })}
          />
          <Select
            label={t('field.language')}
            value={item.language}
            options={languages}
            optionLabel={(option) => t(`language.${option}` as MessageKey)}
            onChange={(language) => onEdit(item.key, { language })}
          />
          {jobType === 'OCR' ? (
            <Select
              label={t('field.ocrEngine')}
              value={item.ocrEngine}
              options={withChosen(ocrEngines, item.ocrEngine)}
              optionLabel={(option) => t(`engine.${option}`)}
              onChange={(ocrEngine) => onEdit(item.key, { ocrEngine })}
            />
          ) : null}
          {jobType === 'TRANSCRIPTION' ? (
            <Select
              label={t('field.speechEngine')}
              value={item.speechEngine}
              options={withChosen(speechEngines, item.speechEngine)}
              optionLabel={(option) => t(`engine.${option}`)}
              onChange={(speechEngine) => onEdit(item.key, { speechEngine })}
            />
          ) : null}
        </fieldset>
      ) : null}
      <PrecheckHints precheck={item.precheck} />
      {item.phase === 'uploading' || item.phase === 'waiting-to-retry' || item.phase === 'done' ? (
        <ProgressBar
          value={item.sent * 100}
          label={t('upload.progressLabel', { name })}
          valueText={formatPercent(item.sent, locale)}
        />
      ) : null}
      <p className="upload-phase">
        {item.phase === 'uploading'
          ? t('upload.phase.uploading', { percent: formatPercent(item.sent, locale) })
          : t(`upload.phase.${item.phase}`)}
        {item.reused ? ` ${t('upload.reused')}` : ''}
      </p>
      {item.failure && item.phase !== 'done' ? (
        <FailureNotice failure={item.failure} role={item.phase === 'failed' ? 'alert' : 'status'} />
      ) : null}
      {item.phase !== 'uploading' && item.phase !== 'waiting-to-retry' ? (
        <button type="button" className="secondary small" onClick={() => onRemove(item.key)}>
          {t('upload.remove', { name })}
        </button>
      ) : null}
    </li>
  );
}

/** Drop zone and picker for many files, choices per batch and per file, progress per file. */
export function UploadPanel(props: UploadPanelProps) {
  const { t } = useI18n();
  const inputRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const { batch, items } = props.state;
  const hintId = useId();

  function onDrop(event: DragEvent<HTMLElement>) {
    event.preventDefault();
    setDragging(false);
    props.onFiles([...event.dataTransfer.files]);
  }

  return (
    <section className="panel upload" aria-labelledby="upload-heading">
      <h2 id="upload-heading">{t('upload.heading')}</h2>
      <fieldset className="batch">
        <legend>{t('upload.batch')}</legend>
        <Select
          label={t('field.subtype')}
          value={batch.contentSubtype}
          options={CONTENT_SUBTYPES}
          optionLabel={(option) => t(`subtype.${option}`)}
          onChange={(contentSubtype) => props.onBatch({ ...batch, contentSubtype })}
        />
        <Select
          label={t('field.ocrLanguage')}
          value={batch.ocrLanguage}
          options={OCR_LANGUAGES}
          optionLabel={(option) => t(`language.${option}` as MessageKey)}
          onChange={(ocrLanguage) => props.onBatch({ ...batch, ocrLanguage })}
        />
        <Select
          label={t('field.speechLanguage')}
          value={batch.speechLanguage}
          options={SPEECH_LANGUAGES}
          optionLabel={(option) => t(`language.${option}` as MessageKey)}
          onChange={(speechLanguage) => props.onBatch({ ...batch, speechLanguage })}
        />
        <Select
          label={t('field.ocrEngine')}
          value={batch.ocrEngine ?? 'default'}
          options={withChosen(props.ocrEngines, batch.ocrEngine ?? 'default')}
          optionLabel={(option) => t(`engine.${option}`)}
          onChange={(ocrEngine) => props.onBatch({ ...batch, ocrEngine })}
        />
        <Select
          label={t('field.speechEngine')}
          value={batch.speechEngine ?? 'default'}
          options={withChosen(props.speechEngines, batch.speechEngine ?? 'default')}
          optionLabel={(option) => t(`engine.${option}`)}
          onChange={(speechEngine) => props.onBatch({ ...batch, speechEngine })}
        />
      </fieldset>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is the pointer shortcut; the button below is the keyboard path */}
      <div
        className={`drop-zone ${dragging ? 'dragging' : ''}`}
        data-testid="drop-zone"
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => event.preventDefault()}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p className="drop-title">
          {t('upload.drop')} {t('upload.or')}{' '}
          <button type="button" onClick={() => inputRef.current?.click()} aria-describedby={hintId}>
            {t('upload.choose')}
          </button>
        </p>
        <p id={hintId} className="hint">
          {t('upload.accepts')}
        </p>
        <input
          ref={inputRef}
          className="visually-hidden"
          type="file"
          multiple
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-input"
          onChange={(event) => {
            props.onFiles([...(event.target.files ?? [])]);
            event.target.value = '';
          }}
        />
      </div>
      {items.length > 0 ? (
        <>
          <h3 className="visually-hidden">{t('upload.files')}</h3>
          <ul className="upload-list">
            {items.map((item) => (
              <UploadRow
                key={item.key}
                item={item}
                onEdit={props.onEdit}
                onRemove={props.onRemove}
                ocrEngines={props.ocrEngines}
                speechEngines={props.speechEngines}
              />
            ))}
          </ul>
          <div className="upload-actions">
            <button
              type="button"
              className="primary"
              disabled={props.sendableCount === 0}
              onClick={props.onSend}
            >
              {t('upload.send', { count: props.sendableCount })}
            </button>
            {items.some((item) => item.phase === 'done') ? (
              <button type="button" className="secondary" onClick={props.onClearDone}>
                {t('upload.clearDone')}
              </button>
            ) : null}
          </div>
        </>
      ) : null}
    </section>
  );
}
