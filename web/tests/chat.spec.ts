import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { useChatStore } from '@/stores/chat'
import { useSessionStore } from '@/stores/session'
import { EventStream, backoff, eventsUrl } from '@/lib/events'
import type { Message, ServerEvent } from '@/api/types'
import { card, fail, me, mockFetch, ok, type Call } from './helpers'

const ME = 1
const BO = 2

function msg(id: number, from: number, text = `m${id}`, over: Partial<Message> = {}): Message {
  return { id, from, text, client_id: `c${id}`, sent_at: new Date(Date.UTC(2026, 0, 1, 10, 0, id)).toISOString(), read: false, ...over }
}

function conv(userId: number, last: Message | null = null, unread = 0) {
  return { user: card(userId, { nickname: `U${userId}` }), matched_at: '2026-01-01T09:00:00.000Z', last_message: last, unread }
}

/** A hand-driven WebSocket. */
class FakeSocket {
  static all: FakeSocket[] = []
  onopen: (() => void) | null = null
  onmessage: ((m: { data: string }) => void) | null = null
  onclose: ((e: { code: number }) => void) | null = null
  onerror: (() => void) | null = null
  closed = false
  constructor(public url: string) {
    FakeSocket.all.push(this)
  }
  open() {
    this.onopen?.()
  }
  send(ev: unknown) {
    this.onmessage?.({ data: JSON.stringify(ev) })
  }
  drop(code = 1006) {
    this.onclose?.({ code })
  }
  close() {
    this.closed = true
  }
}
const socket = (u: string) => new FakeSocket(u) as unknown as WebSocket

beforeEach(() => {
  setActivePinia(createPinia())
  useSessionStore().me = me({ id: ME })
  FakeSocket.all = []
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

function server(over: (c: Call) => ReturnType<typeof ok> | ReturnType<typeof fail> | undefined = () => undefined) {
  return mockFetch((c) => {
    const o = over(c)
    if (o) return o
    if (c.url.startsWith('/api/v1/conversations?')) return ok({ total: 2, conversations: [conv(BO, msg(3, BO), 1), conv(3)] })
    if (c.url.startsWith(`/api/v1/conversations/${BO}/messages?`) && c.method === 'GET') {
      if (c.url.includes('before=2')) return ok({ messages: [msg(1, ME)], has_more: false })
      return ok({ messages: [msg(3, BO), msg(2, ME)], has_more: true })
    }
    if (c.url === `/api/v1/conversations/${BO}/read`) return ok(null)
    return undefined
  })
}

describe('chat store', () => {
  it('lists conversations with new matches apart and counts unread', async () => {
    server()
    const chat = useChatStore()
    await chat.loadConversations()
    expect(chat.talking.map((c) => c.user.id)).toEqual([BO])
    expect(chat.newMatches.map((c) => c.user.id)).toEqual([3])
    expect(chat.unreadTotal).toBe(1)
  })

  it('opens a thread oldest first, marks it read, and loads older pages with before', async () => {
    const { calls } = server()
    const chat = useChatStore()
    await chat.loadConversations()
    await chat.openThread(BO)
    expect(chat.thread(BO).messages.map((m) => m.id)).toEqual([2, 3])
    expect(calls.find((c) => c.url.endsWith('/read'))?.body).toEqual({ up_to: 3 })
    expect(chat.conversation(BO)?.unread).toBe(0)
    expect(chat.thread(BO).hasMore).toBe(true)
    expect(await chat.loadOlder(BO)).toBe(1)
    expect(calls.some((c) => c.url === `/api/v1/conversations/${BO}/messages?limit=50&before=2`)).toBe(true)
    expect(chat.thread(BO).messages.map((m) => m.id)).toEqual([1, 2, 3])
    expect(chat.thread(BO).hasMore).toBe(false)
    expect(await chat.loadOlder(BO)).toBe(0)
  })

  it('sends optimistically with a client_id, then shows the saved message once', async () => {
    const { calls } = server((c) => {
      if (c.method === 'POST' && c.url.endsWith('/messages')) {
        const b = c.body as { text: string; client_id: string }
        return ok(msg(4, ME, b.text, { client_id: b.client_id }))
      }
      return undefined
    })
    const chat = useChatStore()
    await chat.loadConversations()
    await chat.openThread(BO)
    const p = chat.send(BO, '  你好  ')
    const pending = chat.thread(BO).messages.at(-1)!
    expect(pending.state).toBe('pending')
    expect(pending.text).toBe('你好')
    expect(pending.client_id).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
    expect(await p).toBe(true)
    const post = calls.find((c) => c.method === 'POST' && c.url.endsWith('/messages'))!
    expect(post.body).toEqual({ text: '你好', client_id: pending.client_id })
    const ids = chat.thread(BO).messages.map((m) => [m.id, m.state])
    expect(ids).toEqual([[2, 'sent'], [3, 'sent'], [4, 'sent']])
    expect(chat.conversation(BO)?.last_message?.id).toBe(4)
  })

  it('keeps a failed send with Retry, and the retry uses the same client_id', async () => {
    let fails = true
    const posts: Call[] = []
    server((c) => {
      if (c.method === 'POST' && c.url.endsWith('/messages')) {
        posts.push(c)
        if (fails) return fail(503, 5001, 'down', { 'Retry-After': '1' })
        const b = c.body as { text: string; client_id: string }
        return ok(msg(9, ME, b.text, { client_id: b.client_id }))
      }
      return undefined
    })
    const chat = useChatStore()
    await chat.openThread(BO)
    expect(await chat.send(BO, 'hi')).toBe(false)
    const failed = chat.thread(BO).messages.at(-1)!
    expect(failed.state).toBe('failed')
    expect(failed.failure).toMatch(/busy/)
    fails = false
    expect(await chat.retry(BO, failed.client_id)).toBe(true)
    expect(posts.map((c) => (c.body as { client_id: string }).client_id)).toEqual([failed.client_id, failed.client_id])
    expect(chat.thread(BO).messages.filter((m) => m.text === 'hi').map((m) => [m.id, m.state])).toEqual([[9, 'sent']])
  })

  it('never doubles a message whose socket event arrives before the POST answer', async () => {
    let answer: ((v: unknown) => void) | null = null
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'POST' && url.endsWith('/messages')) {
        await new Promise((r) => (answer = r))
        const b = JSON.parse(String(init.body)) as { text: string; client_id: string }
        return new Response(JSON.stringify({ code: 0, data: msg(5, ME, b.text, { client_id: b.client_id }) }))
      }
      if (url.includes('/messages?')) return new Response(JSON.stringify({ code: 0, data: { messages: [], has_more: false } }))
      return new Response(JSON.stringify({ code: 0, data: null }))
    }))
    const chat = useChatStore()
    chat.conversations = [conv(BO)]
    await chat.openThread(BO)
    const p = chat.send(BO, 'once')
    await flushPromises()
    const cid = chat.thread(BO).messages[0].client_id
    chat.apply({ seq: 1, type: 'message', data: { user_id: BO, message: msg(5, ME, 'once', { client_id: cid }) } })
    expect(chat.thread(BO).messages.map((m) => [m.id, m.state])).toEqual([[5, 'sent']])
    answer!(null)
    await p
    expect(chat.thread(BO).messages.map((m) => [m.id, m.state])).toEqual([[5, 'sent']])
  })

  it('applies live events: messages, read ticks, matches and unmatches', async () => {
    server()
    const chat = useChatStore()
    await chat.loadConversations()
    await chat.openThread(BO)
    // Incoming on the open conversation: shown and read at once.
    chat.apply({ seq: 1, type: 'message', data: { user_id: BO, message: msg(6, BO, 'yo') } })
    expect(chat.thread(BO).messages.at(-1)?.text).toBe('yo')
    expect(chat.conversation(BO)?.unread).toBe(0)
    // The same event again changes nothing.
    chat.apply({ seq: 1, type: 'message', data: { user_id: BO, message: msg(6, BO, 'yo') } })
    expect(chat.thread(BO).messages.filter((m) => m.id === 6)).toHaveLength(1)
    // Elsewhere: counted as unread.
    chat.closeThread(BO)
    chat.apply({ seq: 2, type: 'message', data: { user_id: BO, message: msg(7, BO, 'there?') } })
    expect(chat.conversation(BO)?.unread).toBe(1)
    expect(chat.conversation(BO)?.last_message?.text).toBe('there?')
    // Bo read my message 2.
    chat.apply({ seq: 3, type: 'read', data: { user_id: BO, up_to: 2 } })
    expect(chat.thread(BO).messages.find((m) => m.id === 2)?.read).toBe(true)
    chat.apply({ seq: 4, type: 'match', data: { user: card(8), matched_at: '2026-01-02T00:00:00Z' } })
    expect(chat.newMatches.map((c) => c.user.id)).toContain(8)
    chat.apply({ seq: 5, type: 'unmatch', data: { user_id: BO } })
    expect(chat.conversation(BO)).toBeUndefined()
    expect(chat.thread(BO).ended).toBe(true)
  })

  it('does not count a replayed message the REST state already has', async () => {
    server()
    const chat = useChatStore()
    await chat.loadConversations()
    expect(chat.conversation(BO)?.unread).toBe(1)
    // A first connection (no since) replays older events.
    chat.apply({ seq: 1, type: 'message', data: { user_id: BO, message: msg(1, BO) } })
    chat.apply({ seq: 2, type: 'message', data: { user_id: BO, message: msg(3, BO) } })
    expect(chat.conversation(BO)?.unread).toBe(1)
    expect(chat.conversation(BO)?.last_message?.id).toBe(3)
    chat.apply({ seq: 3, type: 'message', data: { user_id: BO, message: msg(4, BO) } })
    expect(chat.conversation(BO)?.unread).toBe(2)
  })

  it('connects to the events socket and reloads on resync', async () => {
    const { calls } = server()
    const chat = useChatStore()
    chat.connect(socket)
    expect(FakeSocket.all[0].url).toBe(`ws://${location.host}/api/v1/events`)
    FakeSocket.all[0].open()
    expect(chat.connected).toBe(true)
    FakeSocket.all[0].send({ type: 'resync' })
    await flushPromises()
    expect(calls.filter((c) => c.url.startsWith('/api/v1/conversations?'))).toHaveLength(1)
    chat.disconnect()
    expect(FakeSocket.all[0].closed).toBe(true)
  })
})

describe('events socket', () => {
  it('backs off exponentially up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(backoff)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
    expect(eventsUrl({ protocol: 'https:', host: 'a.example' }, 12)).toBe('wss://a.example/api/v1/events?since=12')
    expect(eventsUrl({ protocol: 'http:', host: 'localhost:8080' }, null)).toBe('ws://localhost:8080/api/v1/events')
  })

  it('reconnects with since = the last seq, skips repeats, and resets the backoff once connected', () => {
    const events: ServerEvent[] = []
    const timers: { fn: () => void; ms: number }[] = []
    const resync = vi.fn()
    const s = new EventStream({
      onEvent: (e) => events.push(e),
      onResync: resync,
      createSocket: socket,
      location: { protocol: 'http:', host: 'h' },
      setTimer: (fn, ms) => timers.push({ fn, ms }),
      clearTimer: () => undefined,
    })
    s.start()
    const a = FakeSocket.all[0]
    a.open()
    a.send({ seq: 1, type: 'unmatch', data: { user_id: 2 } })
    a.send({ seq: 2, type: 'unmatch', data: { user_id: 3 } })
    a.drop(1006)
    expect(timers.map((t) => t.ms)).toEqual([1000])
    timers[0].fn()
    const b = FakeSocket.all[1]
    expect(b.url).toBe('ws://h/api/v1/events?since=2')
    // The connection fails twice: the waits grow.
    b.drop()
    timers[1].fn()
    FakeSocket.all[2].drop()
    expect(timers.map((t) => t.ms)).toEqual([1000, 2000, 4000])
    timers[2].fn()
    const c = FakeSocket.all[3]
    c.open()
    expect(s.attempt).toBe(0)
    // Replay overlapping what we had: applied once.
    c.send({ seq: 2, type: 'unmatch', data: { user_id: 3 } })
    c.send({ seq: 3, type: 'unmatch', data: { user_id: 4 } })
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3])
    expect(resync).not.toHaveBeenCalled()
    // A replica shutting down (1012): reconnect at the shortest wait.
    c.drop(1012)
    expect(timers.at(-1)?.ms).toBe(1000)
    s.stop()
  })

  it('asks for a reload when it reconnects without ever having seen a seq', () => {
    const timers: (() => void)[] = []
    const resync = vi.fn()
    const s = new EventStream({
      onEvent: () => undefined,
      onResync: resync,
      createSocket: socket,
      location: { protocol: 'http:', host: 'h' },
      setTimer: (fn) => timers.push(fn),
    })
    s.start()
    FakeSocket.all[0].open()
    expect(resync).not.toHaveBeenCalled()
    FakeSocket.all[0].drop()
    timers[0]()
    FakeSocket.all[1].open()
    expect(resync).toHaveBeenCalledOnce()
    s.stop()
  })
})

describe('offline and back', () => {
  it('resumes the socket with since after a pause', async () => {
    server()
    const chat = useChatStore()
    chat.connect(socket)
    FakeSocket.all[0].open()
    FakeSocket.all[0].send({ seq: 41, type: 'unmatch', data: { user_id: 99 } })
    chat.disconnect()
    chat.connect(socket)
    expect(FakeSocket.all[1].url).toBe(`ws://${location.host}/api/v1/events?since=41`)
    chat.reset()
    chat.connect(socket)
    expect(FakeSocket.all[2].url).toBe(`ws://${location.host}/api/v1/events`)
    chat.disconnect()
  })
})
