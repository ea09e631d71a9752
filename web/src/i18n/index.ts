// Languages: Simplified Chinese for a Chinese browser, English otherwise;
// the choice made in "Me" is remembered in localStorage.
import { createI18n } from 'vue-i18n'
import en, { type Messages } from './en'
import zhCN from './zh-CN'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const STORAGE_KEY = 'swiper.locale'

/** The language to start in: a remembered choice, else the browser's first language. */
export function detectLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === 'zh-CN' || stored === 'en') return stored
  const first = (languages[0] ?? '').toLowerCase()
  return first === 'zh' || first.startsWith('zh-') ? 'zh-CN' : 'en'
}

function storedLocale(): string | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null
  } catch {
    return null
  }
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return []
  return navigator.languages?.length ? navigator.languages : [navigator.language ?? '']
}

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: detectLocale(storedLocale(), browserLanguages()),
  fallbackLocale: 'en',
  messages: { en, 'zh-CN': zhCN },
  missingWarn: false,
  fallbackWarn: false,
})

/** Translate outside components (stores, the API client). */
export function t(key: string, named?: Record<string, unknown>): string {
  return named ? i18n.global.t(key, named) : i18n.global.t(key)
}

/** English plural forms (`a | b | c`): n picks the form. */
export function tn(key: string, n: number, named: Record<string, unknown> = {}): string {
  return i18n.global.t(key, { n, ...named }, n)
}

export function currentLocale(): Locale {
  return i18n.global.locale.value
}

/** Switch the language, remember it and update <html lang>. */
export function setLocale(locale: Locale, remember = true): void {
  i18n.global.locale.value = locale
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, locale)
    } catch {
      // Private mode: the choice lasts for this visit only.
    }
  }
  applyDocumentLocale()
}

export function applyDocumentLocale(): void {
  if (typeof document === 'undefined') return
  const l = i18n.global.locale.value
  document.documentElement.lang = l
  document.title = i18n.global.t('app.name')
}
