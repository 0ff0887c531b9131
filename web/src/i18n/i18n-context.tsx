import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Lang, localeOf, type MessageKey, type MessageParams, translate } from './messages.js';

export interface I18n {
  lang: Lang;
  /** The Intl locale for dates and numbers. */
  locale: string;
  t(key: MessageKey, params?: MessageParams): string;
  setLang(lang: Lang): void;
}

const STORAGE_KEY = 'dt.lang';
const I18nContext = createContext<I18n | null>(null);

function readStoredLang(): Lang | null {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' || stored === 'hi' ? stored : null;
  } catch {
    return null;
  }
}

function initialLang(): Lang {
  return readStoredLang() ?? (navigator.language.toLowerCase().startsWith('hi') ? 'hi' : 'en');
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Private mode without storage: the choice lasts for this visit only.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo<I18n>(
    () => ({
      lang,
      locale: localeOf(lang, navigator.language),
      t: (key, params) => translate(lang, key, params),
      setLang,
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
