import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import en from '@/i18n/en'
import zhCN from '@/i18n/zh-CN'
import { detectLocale, i18n, setLocale, STORAGE_KEY, tn } from '@/i18n'
import { formatRelative, formatWait, formatDate } from '@/i18n/format'
import { describeError, fieldError } from '@/api/client'
import LanguageSwitch from '@/components/LanguageSwitch.vue'
import LikesView from '@/views/LikesView.vue'
import { useSessionStore } from '@/stores/session'
import { me } from './helpers'
import { createMemoryHistory, createRouter } from 'vue-router'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

function has(o: object, path: string): boolean {
  let cur: unknown = o
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object' || !(part in cur)) return false
    cur = (cur as Record<string, unknown>)[part]
  }
  return typeof cur === 'string'
}

describe('language detection', () => {
  it('is Chinese for a Chinese browser and English otherwise; a remembered choice wins', () => {
    expect(detectLocale(null, ['zh-CN', 'en'])).toBe('zh-CN')
    expect(detectLocale(null, ['zh'])).toBe('zh-CN')
    expect(detectLocale(null, ['zh-TW'])).toBe('zh-CN')
    expect(detectLocale(null, ['en-US', 'zh-CN'])).toBe('en')
    expect(detectLocale(null, ['fr-FR'])).toBe('en')
    expect(detectLocale(null, [])).toBe('en')
    expect(detectLocale('en', ['zh-CN'])).toBe('en')
    expect(detectLocale('zh-CN', ['en-US'])).toBe('zh-CN')
    expect(detectLocale('xx', ['zh-CN'])).toBe('zh-CN')
  })
})

describe('catalogues', () => {
  it('have the same keys in both languages, none empty', () => {
    expect(keys(zhCN).sort()).toEqual(keys(en).sort())
    for (const k of keys(zhCN)) expect(has(zhCN, k) && k).toBeTruthy()
  })

  it('contain every key the code uses', () => {
    const src = join(__dirname, '..', 'src')
    const all: string[] = []
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n)
        if (statSync(p).isDirectory()) walk(p)
        else if (/\.(vue|ts)$/.test(p)) all.push(readFileSync(p, 'utf8'))
      }
    }
    walk(src)
    const used = new Set<string>()
    for (const text of all) {
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'/g)) used.add(m[1])
      for (const m of text.matchAll(/(?:key|title): '([a-z]+\.[a-zA-Z0-9_.]+)'/g)) used.add(m[1])
    }
    expect(used.size).toBeGreaterThan(150)
    const missing = [...used].filter((k) => !has(en, k) || !has(zhCN, k))
    expect(missing).toEqual([])
  })
})

describe('switching the language', () => {
  it('re-renders, is remembered and sets <html lang>', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSessionStore().me = me()
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<p/>' } }] })
    const likes = mount(LikesView, { global: { plugins: [pinia, router] } })
    const sw = mount(LanguageSwitch)
    expect(likes.get('h1').text()).toBe('Likes you')
    await sw.get('input[value="zh-CN"]').setValue(true)
    await flushPromises()
    expect(i18n.global.locale.value).toBe('zh-CN')
    expect(likes.get('h1').text()).toBe('喜欢我')
    expect(localStorage.getItem(STORAGE_KEY)).toBe('zh-CN')
    expect(document.documentElement.lang).toBe('zh-CN')
    expect((sw.get('input[value="zh-CN"]').element as HTMLInputElement).checked).toBe(true)
    await sw.get('input[value="en"]').setValue(true)
    await flushPromises()
    expect(likes.get('h1').text()).toBe('Likes you')
    expect(localStorage.getItem(STORAGE_KEY)).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })
})

describe('localised messages', () => {
  it('maps API error codes to messages in both languages, never the server text', () => {
    expect(describeError(1004)).toBe('Wrong verification code. Check the SMS and try again.')
    expect(describeError(1001, 'Invalid input: invalid user')).not.toMatch(/invalid user/)
    expect(describeError(1013)).toBe('This account is suspended.')
    expect(describeError(2008, '', 5)).toBe('That was a lot at once. Slow down a little. Try again in 5 seconds.')
    expect(describeError(9999, 'boom')).toBe('Something went wrong. Please try again.')
    setLocale('zh-CN', false)
    expect(describeError(1004)).toBe('验证码错误，请核对短信后重试。')
    expect(describeError(2006, '', 3600)).toBe('今天的反悔次数已用完。请在1小时后重试。')
    expect(describeError(3001, 'rewind')).toBe('需要更高的会员等级（反悔）。')
    expect(fieldError(1001, 'min_dating_age')).toBe('年龄范围为 18 到 100 岁，最小值不能大于最大值。')
  })

  it('has English plurals', () => {
    expect(tn('likes.count', 0)).toBe('Nobody has liked you yet.')
    expect(tn('likes.count', 1)).toBe('1 person likes you.')
    expect(tn('likes.count', 7)).toBe('7 people like you.')
    expect(tn('messages.unreadCount', 1)).toBe('1 unread message')
    expect(tn('messages.unreadCount', 3)).toBe('3 unread messages')
    setLocale('zh-CN', false)
    expect(tn('messages.unreadCount', 3)).toBe('3 条未读消息')
  })

  it('formats dates, relative times and waits through Intl', () => {
    const now = Date.parse('2026-03-10T12:00:00Z')
    expect(formatRelative('2026-03-10T11:55:00Z', now)).toBe('5 minutes ago')
    expect(formatRelative('2026-03-09T12:00:00Z', now)).toBe('yesterday')
    expect(formatWait(900)).toBe('15 minutes')
    expect(formatDate('2026-03-10T12:00:00Z')).toMatch(/Mar 10, 2026/)
    setLocale('zh-CN', false)
    expect(formatRelative('2026-03-10T11:55:00Z', now)).toBe('5分钟前')
    expect(formatRelative('2026-03-09T12:00:00Z', now)).toBe('昨天')
    expect(formatWait(900)).toBe('15分钟')
    expect(formatDate('2026-03-10T12:00:00Z')).toMatch(/2026年3月10日/)
  })
})
