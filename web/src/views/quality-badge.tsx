import type { WebJob } from '../api/contract.js';
import { formatPercent } from '../format/format-numbers.js';
import { formatPageList, formatSegmentList, qualityLevel } from '../format/quality-level.js';
import { useI18n } from '../i18n/i18n-context.js';

/**
 * The engine's confidence as a badge; the tooltip (and screen readers) list low-confidence pages
 * of a document or passages of a recording.
 */
export function QualityBadge({ job }: { job: WebJob }) {
  const { t, locale } = useI18n();
  if (job.status !== 'COMPLETED') return null;
  const level = qualityLevel(job.quality);
  const lowPages = job.quality?.low_confidence_pages ?? [];
  const lowSegments = job.quality?.low_confidence_segments ?? [];
  const details = [
    job.quality?.score != null
      ? t('quality.score', { percent: formatPercent(job.quality.score, locale) })
      : '',
    job.job_type === 'OCR'
      ? lowPages.length > 0
        ? t('quality.lowPages', { pages: formatPageList(lowPages, locale) })
        : t('quality.noLowPages')
      : lowSegments.length > 0
        ? t('quality.lowSegments', { segments: formatSegmentList(lowSegments, locale) })
        : t('quality.noLowSegments'),
    ...(job.quality?.hints ?? []),
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <span
      className={`badge quality quality-${level}`}
      title={details || undefined}
      data-testid="quality-badge"
    >
      {t(`quality.${level}`)}
      {details ? <span className="visually-hidden">. {details}</span> : null}
    </span>
  );
}
