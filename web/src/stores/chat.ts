import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { endpoints } from '@/api/endpoints'
import { ApiError } from '@/api/client'
import type { Conversation, Match, Message, ServerEvent } from '@/api/types'
import { EventStream } from '@/lib/events'
import { t } from '@/i18n'
import { useSessionStore } from './session'
import { useUiStore } from './ui'

export type SendState = 'sent' | 'pending' | 'failed'
export interface ChatMessage extends Message {
  state: SendState
  /** Localised reason of a failed send. */
  failure?: string
}

export interface Thread {
  /** Oldest first; pending and failed sends (id 0) at the end. */
  messages: ChatMessage[]
  hasMore: boolean
  loading: boolean
  loaded: boolean
  /** The conversation ended (unmatch, block, ban or deletion). */
  ended: boolean
  error: string
}

export const PAGE = 50

let clientSeq = 0
/** A client_id the server accepts: 1-64 of A-Z a-z 0-9 _ -. */
export function newClientId(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  clientSeq++
  return `c${Date.now().toString(36)}-${clientSeq.toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}

function byTime(a: Conversation): number {
  const iso = a.last_message?.sent_at ?? a.matched_at
  const n = new Date(iso).getTime()
  return Number.isNaN(n) ? 0 : n
}

export const useChatStore = defineStore('chat', () => {
  const conversations = ref<Conversation[]>([])
  const total = ref(0)
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref('')
  const threads = reactive(new Map<number, Thread>())
  /** The conversation on screen: its incoming messages are read at once. */
  const openUser = ref<number | null>(null)
  const connected = ref(false)

  const unreadTotal = computed(() => conversations.value.reduce((n, c) => n + (c.unread > 0 ? c.unread : 0), 0))
  const newMatches = computed(() => conversations.value.filter((c) => c.last_message === null))
  const talking = computed(() => conversations.value.filter((c) => c.last_message !== null))

  function myId(): number {
    return useSessionStore().me?.id ?? 0
  }

  function thread(userId: number): Thread {
    let th = threads.get(userId)
    if (!th) {
      th = { messages: [], hasMore: false, loading: false, loaded: false, ended: false, error: '' }
      threads.set(userId, th)
    }
    return threads.get(userId) as Thread
  }

  function conversation(userId: number): Conversation | undefined {
    return conversations.value.find((c) => c.user.id === userId)
  }

  function sortConversations() {
    conversations.value = [...conversations.value].sort((a, b) => byTime(b) - byTime(a))
  }

  async function loadConversations(): Promise<void> {
    loading.value = true
    try {
      const res = await endpoints.conversations(1, 100)
      conversations.value = res.conversations
      total.value = res.total
      error.value = ''
      sortConversations()
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : String(e)
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  /** Put a message into its thread once, whether it came by POST or by the socket. */
  function merge(userId: number, m: Message): boolean {
    const th = thread(userId)
    if (!th.loaded) return false
    const i = th.messages.findIndex((x) => (x.id !== 0 && x.id === m.id) || (x.from === m.from && x.client_id === m.client_id))
    const msg: ChatMessage = { ...m, state: 'sent' }
    if (i >= 0) {
      const old = th.messages[i]
      th.messages.splice(i, 1, { ...msg, read: msg.read || old.read })
    } else {
      th.messages.push(msg)
    }
    // Sent messages in id order; unsent ones stay at the end.
    const sent = th.messages.filter((x) => x.state === 'sent').sort((a, b) => a.id - b.id)
    const unsent = th.messages.filter((x) => x.state !== 'sent')
    th.messages = [...sent, ...unsent]
    return i < 0
  }

  function setLast(userId: number, m: Message) {
    const c = conversation(userId)
    if (!c) return
    if (!c.last_message || c.last_message.id <= m.id) c.last_message = m
    sortConversations()
  }

  async function openThread(userId: number): Promise<void> {
    const th = thread(userId)
    openUser.value = userId
    if (th.loading) return
    th.loading = true
    th.error = ''
    try {
      const page = await endpoints.messages(userId, undefined, PAGE)
      const pending = th.messages.filter((x) => x.state !== 'sent')
      th.messages = [...page.messages.map((m) => ({ ...m, state: 'sent' as const })).reverse(), ...pending]
      th.hasMore = page.has_more
      th.loaded = true
      th.ended = false
      await markRead(userId)
    } catch (e) {
      th.error = e instanceof ApiError ? e.message : String(e)
      if (e instanceof ApiError && (e.code === 1003 || e.code === 2007)) th.ended = true
    } finally {
      th.loading = false
    }
  }

  function closeThread(userId: number) {
    if (openUser.value === userId) openUser.value = null
  }

  /** Older messages (scrolling up): the page before the oldest we have. */
  async function loadOlder(userId: number): Promise<number> {
    const th = thread(userId)
    if (!th.loaded || !th.hasMore || th.loading) return 0
    const oldest = th.messages.find((m) => m.state === 'sent')
    if (!oldest) return 0
    th.loading = true
    try {
      const page = await endpoints.messages(userId, oldest.id, PAGE)
      const have = new Set(th.messages.map((m) => m.id))
      const older = page.messages.filter((m) => !have.has(m.id)).map((m) => ({ ...m, state: 'sent' as const })).reverse()
      th.messages = [...older, ...th.messages]
      th.hasMore = page.has_more
      return older.length
    } catch (e) {
      th.error = e instanceof ApiError ? e.message : String(e)
      return 0
    } finally {
      th.loading = false
    }
  }

  async function post(userId: number, msg: ChatMessage): Promise<boolean> {
    const th = thread(userId)
    msg.state = 'pending'
    msg.failure = undefined
    try {
      const saved = await endpoints.sendMessage(userId, msg.text, msg.client_id)
      const i = th.messages.findIndex((x) => x.client_id === msg.client_id && x.from === msg.from)
      if (i >= 0 && th.messages[i].state !== 'sent') th.messages.splice(i, 1)
      merge(userId, saved)
      setLast(userId, saved)
      return true
    } catch (e) {
      const i = th.messages.findIndex((x) => x.client_id === msg.client_id && x.from === msg.from)
      const reason = e instanceof ApiError ? e.message : t('chat.sendFailed')
      if (i >= 0 && th.messages[i].state !== 'sent') th.messages.splice(i, 1, { ...th.messages[i], state: 'failed', failure: reason })
      if (e instanceof ApiError && (e.code === 1003 || e.code === 2007)) th.ended = true
      return false
    }
  }

  /** Send at once on screen ("optimistic"); a failure stays with a Retry. */
  async function send(userId: number, text: string): Promise<boolean> {
    const body = text.trim()
    if (!body) return false
    const th = thread(userId)
    const msg: ChatMessage = {
      id: 0, from: myId(), text: body, client_id: newClientId(), sent_at: new Date().toISOString(), read: false, state: 'pending',
    }
    th.messages.push(msg)
    return post(userId, th.messages[th.messages.length - 1])
  }

  /** Send a failed message again with the same client_id: never a duplicate. */
  async function retry(userId: number, clientId: string): Promise<boolean> {
    const th = thread(userId)
    const m = th.messages.find((x) => x.client_id === clientId && x.state === 'failed')
    if (!m) return false
    return post(userId, m)
  }

  function discard(userId: number, clientId: string) {
    const th = thread(userId)
    th.messages = th.messages.filter((x) => !(x.client_id === clientId && x.state !== 'sent'))
  }

  /** Mark what we have from the other person as read, once. */
  async function markRead(userId: number): Promise<void> {
    const th = thread(userId)
    const me = myId()
    let last = 0
    for (const m of th.messages) if (m.state === 'sent' && m.from !== me && m.id > last) last = m.id
    const c = conversation(userId)
    if (c) c.unread = 0
    const unread = th.messages.some((m) => m.state === 'sent' && m.from !== me && !m.read)
    if (!last || !unread) return
    for (const m of th.messages) if (m.from !== me && m.id <= last) m.read = true
    try {
      await endpoints.markRead(userId, last)
    } catch {
      // A read mark is best effort; the next one covers it.
    }
  }

  function endConversation(userId: number) {
    conversations.value = conversations.value.filter((c) => c.user.id !== userId)
    total.value = Math.max(0, total.value - 1)
    const th = threads.get(userId)
    if (th) th.ended = true
  }

  function addMatch(m: Match) {
    if (conversation(m.user.id)) return
    conversations.value = [...conversations.value, { user: m.user, matched_at: m.matched_at, last_message: null, unread: 0 }]
    total.value++
    const th = threads.get(m.user.id)
    if (th) th.ended = false
    sortConversations()
  }

  function apply(ev: ServerEvent) {
    const me = myId()
    switch (ev.type) {
      case 'message': {
        const { user_id: other, message } = ev.data
        const fresh = merge(other, message)
        const c = conversation(other)
        if (!c) {
          // A conversation we do not know yet: fetch the list again.
          if (!loading.value) void loadConversations()
          return
        }
        // A replayed event (a socket without `since` replays what the server
        // holds) that the REST state already counts: nothing new.
        const known = c.last_message !== null && c.last_message.id >= message.id
        setLast(other, message)
        if (message.from !== me && !known) {
          if (openUser.value === other && typeof document !== 'undefined' && document.visibilityState !== 'hidden') {
            void markRead(other)
          } else if (fresh || !thread(other).loaded) {
            c.unread++
          }
          if (openUser.value === other) useUiStore().announce(t('chat.incoming', { name: c.user.nickname, text: message.text }))
        }
        return
      }
      case 'read': {
        const th = threads.get(ev.data.user_id)
        if (th) for (const m of th.messages) if (m.from === me && m.state === 'sent' && m.id <= ev.data.up_to) m.read = true
        const c = conversation(ev.data.user_id)
        if (c?.last_message && c.last_message.from === me && c.last_message.id <= ev.data.up_to) c.last_message.read = true
        return
      }
      case 'match':
        addMatch(ev.data)
        return
      case 'unmatch':
        endConversation(ev.data.user_id)
        return
      default:
        return
    }
  }

  /** After a gap: reload the list and every thread that was loaded. */
  async function resync(): Promise<void> {
    await loadConversations()
    const open = openUser.value
    for (const [id, th] of threads) {
      if (id === open) {
        th.loaded = false
        await openThread(id)
      } else {
        threads.delete(id)
      }
    }
  }

  let stream: EventStream | null = null
  /** Where a paused stream (offline) stopped: the next one replays from there. */
  let paused: { since: number | null } | null = null
  function connect(factory?: (url: string) => WebSocket) {
    if (stream?.running) return
    stream = new EventStream({
      onEvent: apply,
      onResync: () => void resync(),
      onStatus: (up) => (connected.value = up),
      createSocket: factory,
      since: paused?.since ?? null,
      resumed: paused !== null,
    })
    paused = null
    stream.start()
  }
  function disconnect() {
    if (stream) paused = { since: stream.lastSeq }
    stream?.stop()
    stream = null
  }

  function reset() {
    disconnect()
    paused = null
    conversations.value = []
    total.value = 0
    loaded.value = false
    threads.clear()
    openUser.value = null
  }

  return {
    conversations, total, loaded, loading, error, threads, openUser, connected, unreadTotal, newMatches, talking,
    thread, conversation, loadConversations, openThread, closeThread, loadOlder, send, retry, discard, markRead,
    apply, resync, addMatch, endConversation, connect, disconnect, reset,
  }
})
