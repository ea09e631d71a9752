import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { endpoints } from '@/api/endpoints'
import { ApiError } from '@/api/client'
import type { Card, Match, SwipeAction } from '@/api/types'
import { useUiStore } from './ui'
import { useSessionStore } from './session'
import { t } from '@/i18n'

/** Fetch the next page when this many cards or fewer are left. */
export const PREFETCH_AT = 5
export const PAGE_SIZE = 20

const PAST: Record<SwipeAction, string> = { like: 'deck.liked', dislike: 'deck.passed', superlike: 'deck.superliked' }
const REQUIRED: Partial<Record<SwipeAction, string>> = { superlike: 'superlike' }

export const useDeckStore = defineStore('deck', () => {
  const cards = ref<Card[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  /** The last page added nothing new: the deck is exhausted for now. */
  const exhausted = ref(false)
  const error = ref('')
  const match = ref<Match | null>(null)
  /** Ids swiped in this session, so that a refetch does not bring them back. */
  const swiped = new Set<number>()
  /** Cards swiped in this session, latest last, for rewind. */
  const history = ref<Card[]>([])
  const busy = ref(false)

  const top = computed(() => cards.value[0] ?? null)
  const empty = computed(() => loaded.value && cards.value.length === 0 && !loading.value)
  /** Rewind is offered only after a swipe in this visit, like the other buttons only with a card. */
  const canRewind = computed(() => history.value.length > 0 && !busy.value)

  let inflight: Promise<void> | null = null
  function fetchMore(): Promise<void> {
    if (inflight) return inflight
    loading.value = true
    inflight = (async () => {
      try {
        const page = await endpoints.recommendations(PAGE_SIZE)
        const have = new Set(cards.value.map((c) => c.id))
        const fresh = page.filter((c) => !have.has(c.id) && !swiped.has(c.id))
        cards.value.push(...fresh)
        exhausted.value = fresh.length === 0
        error.value = ''
      } catch (e) {
        error.value = e instanceof ApiError ? e.message : String(e)
      } finally {
        loading.value = false
        loaded.value = true
        inflight = null
      }
    })()
    return inflight
  }

  async function init() {
    if (!loaded.value) await fetchMore()
    else if (cards.value.length <= PREFETCH_AT && !exhausted.value) void fetchMore()
  }

  function maybePrefetch() {
    if (cards.value.length <= PREFETCH_AT && (!exhausted.value || cards.value.length === 0)) void fetchMore()
  }

  /**
   * Swipe the top card. Returns true when the swipe was accepted. The card
   * leaves the deck at once and comes back if the server refuses.
   */
  async function swipe(action: SwipeAction): Promise<boolean> {
    const ui = useUiStore()
    const session = useSessionStore()
    const card = cards.value[0]
    if (!card || busy.value) return false
    const need = REQUIRED[action]
    if (need && session.me && !session.can(need)) {
      ui.promptUpgrade(need)
      return false
    }
    busy.value = true
    cards.value.shift()
    swiped.add(card.id)
    try {
      const res = await endpoints.swipe(card.id, action)
      history.value.push(card)
      ui.announce(t(PAST[action], { name: card.nickname }))
      if (res.matched && res.match) match.value = res.match
      return true
    } catch (e) {
      if (e instanceof ApiError && e.code === 2002) {
        // Already swiped (e.g. in another tab): just drop the card.
        return true
      }
      swiped.delete(card.id)
      cards.value.unshift(card)
      if (e instanceof ApiError && e.code === 3001) ui.promptUpgrade(e.serverMessage || need || '')
      else ui.notify(e instanceof ApiError ? e.message : t('deck.swipeFailed'), 'error')
      error.value = e instanceof ApiError ? e.message : String(e)
      return false
    } finally {
      busy.value = false
      maybePrefetch()
    }
  }

  async function rewind(): Promise<boolean> {
    const ui = useUiStore()
    const session = useSessionStore()
    if (busy.value) return false
    if (session.me && !session.can('rewind')) {
      ui.promptUpgrade('rewind')
      return false
    }
    busy.value = true
    try {
      const res = await endpoints.rewind()
      swiped.delete(res.user.id)
      cards.value = [res.user, ...cards.value.filter((c) => c.id !== res.user.id)]
      history.value = history.value.filter((c) => c.id !== res.user.id)
      exhausted.value = false
      ui.announce(t('deck.rewound', { name: res.user.nickname }))
      error.value = ''
      return true
    } catch (e) {
      if (e instanceof ApiError && e.code === 3001) ui.promptUpgrade(e.serverMessage || 'rewind')
      else ui.notify(e instanceof ApiError ? e.message : t('deck.rewindFailed'), 'error')
      if (e instanceof ApiError && (e.code === 2004 || e.code === 2005 || e.code === 2010)) history.value = []
      return false
    } finally {
      busy.value = false
    }
  }

  /** Take a user out of the deck (blocked or reported). */
  function removeUser(id: number) {
    swiped.add(id)
    cards.value = cards.value.filter((c) => c.id !== id)
    history.value = history.value.filter((c) => c.id !== id)
    maybePrefetch()
  }

  function closeMatch() {
    match.value = null
  }

  function reset() {
    cards.value = []
    loaded.value = false
    exhausted.value = false
    error.value = ''
    match.value = null
    history.value = []
    swiped.clear()
  }

  return { cards, top, loading, loaded, exhausted, empty, canRewind, error, match, history, busy, init, fetchMore, swipe, rewind, removeUser, closeMatch, reset }
})
