/** Times as the reader says them: relative ("5 minutes ago") and absolute, in their own time zone. */

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

export function formatRelativeTime(iso: string, nowMs: number, locale: string): string {
  let value = (Date.parse(iso) - nowMs) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) {
      // Under ten seconds reads as "now" rather than a count that changes every second.
      if (unit === 'second' && Math.abs(value) < 10) return format.format(0, 'second');
      return format.format(Math.round(value), unit);
    }
    value /= size;
  }
  return format.format(Math.round(value), 'year');
}

export function formatAbsoluteTime(iso: string, locale: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(iso));
}
