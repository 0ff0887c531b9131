import { formatAbsoluteTime, formatRelativeTime } from '../format/format-time.js';
import { useI18n } from '../i18n/i18n-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { useNow } from './use-now.js';

const SLOT = '\u0000';

/** "Submitted 5 minutes ago (25 Nov 2026, 10:02)", in the reader's language and time zone. */
export function TimeLabel({ iso, labelKey }: { iso: string; labelKey: MessageKey }) {
  const { locale, t } = useI18n();
  const now = useNow();
  const relative = formatRelativeTime(iso, now, locale);
  const absolute = formatAbsoluteTime(iso, locale);
  const [before = '', after = ''] = t(labelKey, { time: SLOT }).split(SLOT);
  return (
    <span className="time">
      {before}
      <time dateTime={iso} title={absolute}>
        {relative}
      </time>
      {after} <span className="time-absolute">({absolute})</span>
    </span>
  );
}
