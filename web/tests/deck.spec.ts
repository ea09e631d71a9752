import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { PREFETCH_AT, useDeckStore } from '@/stores/deck'
import { useSessionStore } from '@/stores/session'
import { useUiStore } from '@/stores/ui'
import { card, fail, me, mockFetch, ok, vip } from './helpers'

const cards = (from: number, n: number) => Array.from({ length: n }, (_, i) => card(from + i))

describe('deck store', () => {
  beforeEach(() => setActivePinia(createPinia()))
  afterEach(() => vi.unstubAllGlobals())

  it('fetches the next page before the deck runs out', async () => {
    let page = 0
    const { calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok(cards(1 + 10 * page++, page === 1 ? 7 : 10))
      if (c.url === '/api/v1/swipes') return ok({ matched: false, match: null })
      return undefined
    })
    useSessionStore().me = me()
    const deck = useDeckStore()
    await deck.init()
    expect(deck.cards).toHaveLength(7)
    await deck.swipe('like') // 6 left: no fetch
    expect(calls.filter((c) => c.url.startsWith('/api/v1/recommendations'))).toHaveLength(1)
    await deck.swipe('dislike') // 5 left = PREFETCH_AT: fetch
    expect(deck.cards.length).toBe(PREFETCH_AT)
    await vi.waitFor(() => expect(deck.cards.length).toBe(PREFETCH_AT + 10))
    expect(calls.filter((c) => c.url.startsWith('/api/v1/recommendations'))).toHaveLength(2)
  })

  it('does not bring back swiped cards or duplicates from a refetch', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok(cards(1, 3))
      if (c.url === '/api/v1/swipes') return ok({ matched: false, match: null })
      return undefined
    })
    useSessionStore().me = me()
    const deck = useDeckStore()
    await deck.init()
    await deck.swipe('like')
    await vi.waitFor(() => expect(deck.loading).toBe(false))
    expect(deck.cards.map((c) => c.id)).toEqual([2, 3])
  })

  it('opens the match on a mutual like', async () => {
    const match = { user: card(1), matched_at: '2025-01-01T00:00:00Z' }
    const { calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok([card(1)])
      if (c.url === '/api/v1/swipes') return ok({ matched: true, match })
      return undefined
    })
    useSessionStore().me = me()
    const deck = useDeckStore()
    await deck.init()
    expect(await deck.swipe('like')).toBe(true)
    expect(calls.find((c) => c.url === '/api/v1/swipes')?.body).toEqual({ user_id: 1, action: 'like' })
    expect(deck.match).toEqual(match)
    expect(useUiStore().status === '' || useUiStore().status === 'Liked User1').toBe(true)
  })

  it('prompts an upgrade for a superlike without the permission, without calling the API', async () => {
    const { calls } = mockFetch((c) => (c.url.startsWith('/api/v1/recommendations') ? ok([card(1)]) : undefined))
    useSessionStore().me = me({ vip: vip(0) })
    const deck = useDeckStore()
    await deck.init()
    expect(await deck.swipe('superlike')).toBe(false)
    expect(useUiStore().upgradeFor).toBe('superlike')
    expect(deck.cards.map((c) => c.id)).toEqual([1])
    expect(calls.some((c) => c.url === '/api/v1/swipes')).toBe(false)
  })

  it('puts the card back and prompts an upgrade when the server answers 3001', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok([card(1), card(2)])
      if (c.url === '/api/v1/swipes') return fail(403, 3001, 'superlike')
      return undefined
    })
    // A stale Me says we may superlike; the server knows better.
    useSessionStore().me = me({ vip: vip(1, ['vipflag', 'superlike']) })
    const deck = useDeckStore()
    await deck.init()
    expect(await deck.swipe('superlike')).toBe(false)
    expect(useUiStore().upgradeFor).toBe('superlike')
    expect(deck.cards.map((c) => c.id)).toEqual([1, 2])
  })

  it('rewinds: the card comes back on top', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/recommendations')) return ok([card(1), card(2)])
      if (c.url === '/api/v1/swipes') return ok({ matched: false, match: null })
      if (c.method === 'DELETE' && c.url === '/api/v1/swipes/latest') return ok({ user: card(1), action: 'dislike' })
      return undefined
    })
    useSessionStore().me = me({ vip: vip(2, ['vipflag', 'superlike', 'rewind']) })
    const deck = useDeckStore()
    await deck.init()
    await deck.swipe('dislike')
    expect(deck.top?.id).toBe(2)
    expect(await deck.rewind()).toBe(true)
    expect(deck.cards.map((c) => c.id)).toEqual([1, 2])
  })

  it('prompts an upgrade for rewind without the permission', async () => {
    const { calls } = mockFetch(() => undefined)
    useSessionStore().me = me()
    expect(await useDeckStore().rewind()).toBe(false)
    expect(useUiStore().upgradeFor).toBe('rewind')
    expect(calls).toHaveLength(0)
  })

  it('shows an empty state when nobody is left', async () => {
    mockFetch((c) => (c.url.startsWith('/api/v1/recommendations') ? ok([]) : undefined))
    useSessionStore().me = me()
    const deck = useDeckStore()
    await deck.init()
    expect(deck.empty).toBe(true)
  })
})
