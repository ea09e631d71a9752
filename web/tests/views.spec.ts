import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import LikesView from '@/views/LikesView.vue'
import DeckView from '@/views/DeckView.vue'
import MatchOverlay from '@/components/MatchOverlay.vue'
import ErrorMessage from '@/components/ErrorMessage.vue'
import { useSessionStore } from '@/stores/session'
import { useUiStore } from '@/stores/ui'
import { setLocale } from '@/i18n'
import { card, me, mockFetch, ok, vip } from './helpers'

function router() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:p(.*)*', component: { template: '<p/>' } }],
  })
}

let pinia: Pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('LikesView', () => {
  it('shows a locked teaser to non-VIP-3 users and fetches no likers', async () => {
    const { calls } = mockFetch(() => ok({ total: 3, users: [] }))
    useSessionStore().me = me({ vip: vip(2, ['vipflag', 'superlike', 'rewind']) })
    const w = mount(LikesView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    expect(w.find('[data-testid="likes-locked"]').text()).toContain('See who likes you')
    expect(w.find('[data-testid="likes-locked"]').text()).toContain('Gold VIP')
    // Honest: no made-up tiles of likes that may not exist, no emoji glyph.
    expect(w.findAll('.ghost-tile')).toHaveLength(0)
    expect(w.text()).not.toMatch(/[?？]|🔒/u)
    expect(w.find('[data-testid="likes-locked"] svg').exists()).toBe(true)
    expect(calls).toHaveLength(0)
    setLocale('zh-CN', false)
    await flushPromises()
    expect(w.find('[data-testid="likes-locked"]').text()).toContain('黄金会员')
  })

  it('says plainly when nobody liked a VIP 3 user yet', async () => {
    mockFetch(() => ok({ total: 0, users: [] }))
    useSessionStore().me = me({ vip: vip(3, ['vipflag', 'superlike', 'rewind', 'who_liked_me', 'unlimited_like', 'any_location']) })
    const w = mount(LikesView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    expect(w.get('[data-testid="likes-empty"]').text()).toContain('Nobody has liked you yet')
  })

  it('shows the grid of likers to VIP 3', async () => {
    const { calls } = mockFetch(() => ok({ total: 2, users: [card(5, { nickname: 'Bella', superliked_me: true }), card(6)] }))
    useSessionStore().me = me({ vip: vip(3, ['vipflag', 'superlike', 'rewind', 'who_liked_me', 'unlimited_like', 'any_location']) })
    const w = mount(LikesView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    expect(calls[0].url).toBe('/api/v1/likes/received?limit=20&page=1')
    const tiles = w.findAll('[data-testid="likes-grid"] a')
    expect(tiles).toHaveLength(2)
    expect(tiles[0].attributes('aria-label')).toBe('Bella, 25, super liked you')
  })
})

describe('DeckView', () => {
  it('has labelled action buttons and keyboard shortcuts', async () => {
    vi.useFakeTimers()
    const { calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok([card(1, { nickname: 'Alice' }), card(2)])
      if (c.url === '/api/v1/swipes') return ok({ matched: false, match: null })
      if (c.url === '/api/v1/users/me/profile') return ok({ vibration: true })
      return undefined
    })
    useSessionStore().me = me()
    const w = mount(DeckView, { global: { plugins: [pinia, router()], stubs: { RouterLink: true } }, attachTo: document.body })
    await flushPromises()
    const toolbar = w.get('[role="toolbar"]')
    expect(toolbar.attributes('aria-label')).toBe('Swipe actions')
    expect(w.findAll('[role="toolbar"] button').map((b) => b.attributes('aria-label'))).toEqual([
      'Rewind (Backspace)', 'Nope (Left arrow)', 'Super like (Up arrow)', 'Like (Right arrow)',
    ])
    expect(w.get('[data-testid="top-card"]').attributes('aria-label')).toContain('Alice')

    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }))
    await vi.advanceTimersByTimeAsync(300)
    await flushPromises()
    expect(calls.find((c) => c.url === '/api/v1/swipes')?.body).toEqual({ user_id: 1, action: 'like' })

    // ↑ without the permission: the upgrade prompt, no request.
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp' }))
    await vi.advanceTimersByTimeAsync(300)
    expect(useUiStore().upgradeFor).toBe('superlike')
    expect(calls.filter((c) => c.url === '/api/v1/swipes')).toHaveLength(1)
    w.unmount()
  })
})

describe('MatchOverlay', () => {
  it('is a labelled modal dialog that focuses its primary button and vibrates when enabled', async () => {
    const vibrate = vi.fn(() => true)
    Object.defineProperty(navigator, 'vibrate', { value: vibrate, configurable: true })
    const session = useSessionStore()
    session.me = me()
    session.profile = {
      dating_gender: 'female', dating_city: '北京', min_distance: 0, max_distance: 50,
      min_dating_age: 18, max_dating_age: 50, vibration: true, only_matched: true, auto_play: true,
    }
    const w = mount(MatchOverlay, {
      props: { match: { user: card(3, { nickname: 'Cleo' }), matched_at: '2025-01-01T00:00:00Z' } },
      global: { plugins: [pinia] },
      attachTo: document.body,
    })
    await flushPromises()
    const dlg = w.get('[role="dialog"]')
    expect(dlg.attributes('aria-modal')).toBe('true')
    expect(w.get('#match-title').text()).toBe('It’s a match!')
    expect(document.activeElement?.textContent).toBe('Say hi')
    ;(document.activeElement as HTMLElement).click()
    expect(w.emitted('chat')).toHaveLength(1)
    expect(vibrate).toHaveBeenCalled()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    expect(w.emitted('close')).toHaveLength(1)
    w.unmount()
  })

  it('does not vibrate when the profile turns it off', async () => {
    const vibrate = vi.fn(() => true)
    Object.defineProperty(navigator, 'vibrate', { value: vibrate, configurable: true })
    const session = useSessionStore()
    session.me = me()
    session.profile = {
      dating_gender: 'female', dating_city: '北京', min_distance: 0, max_distance: 50,
      min_dating_age: 18, max_dating_age: 50, vibration: false, only_matched: true, auto_play: true,
    }
    const w = mount(MatchOverlay, {
      props: { match: { user: card(3), matched_at: '2025-01-01T00:00:00Z' } },
      global: { plugins: [pinia] },
    })
    await flushPromises()
    expect(vibrate).not.toHaveBeenCalled()
    w.unmount()
  })
})

describe('ErrorMessage', () => {
  it('renders an alert only when there is a message', () => {
    expect(mount(ErrorMessage, { props: { message: '' } }).find('[role="alert"]').exists()).toBe(false)
    expect(mount(ErrorMessage, { props: { message: 'Boom' } }).get('[role="alert"]').text()).toBe('Boom')
  })
})

