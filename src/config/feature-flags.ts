/**
 * Every feature flag: a risky path that can be turned off (or a new one on) without a deploy.
 * The default applies unless `FLAG_<NAME>` is set; an administrator's override (kept in Redis,
 * `PUT /v1/admin/flags/:name`) wins over both until it is deleted.
 */
export const FEATURE_FLAGS = {
  legacy_api: {
    default: false,
    description: "The earlier product's routes (`POST /upload`, `GET /status/:id`, …); 404 when off.",
    owner: 'api',
    visibleToPage: false,
  },
  ocr_psm_retry: {
    default: true,
    description: 'OCR: read a weak page again in tesseract psm 6 and keep the better reading.',
    owner: 'ocr',
    visibleToPage: false,
  },
  transcription_repetition_rerun: {
    default: true,
    description: 'Transcription: run a chunk again in strict mode when its text repeats itself.',
    owner: 'transcription',
    visibleToPage: false,
  },
  webhooks: {
    default: true,
    description: 'Webhook deliveries; when off, finished jobs queue no new delivery.',
    owner: 'webhooks',
    visibleToPage: true,
  },
} as const satisfies Record<
  string,
  { default: boolean; description: string; owner: string; visibleToPage: boolean }
>;

export type FlagName = keyof typeof FEATURE_FLAGS;
export const FLAG_NAMES = Object.keys(FEATURE_FLAGS) as FlagName[];

export const flagEnvName = (name: FlagName) => `FLAG_${name.toUpperCase()}`;

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FEATURE_FLAGS, name);
}

/** Each flag's value before any override: `FLAG_<NAME>` when set, else the registry default. */
export type FlagDefaults = Record<FlagName, boolean>;
