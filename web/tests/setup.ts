// Every component test runs with the app's i18n instance, in English unless
// a test switches; localStorage starts empty.
import { beforeAll, beforeEach } from 'vitest'
import { config } from '@vue/test-utils'
import { i18n, setLocale } from '@/i18n'
import { loadIllustrations } from '@/lib/avatar'

config.global.plugins = [i18n]

// The avatar drawings are a lazy chunk: load it before any test, so that it
// never resolves (and re-renders) after a test file's environment is gone.
beforeAll(() => loadIllustrations())

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  setLocale('en', false)
})
