import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ChatView from '@/views/ChatView.vue'
import AppToast from '@/components/AppToast.vue'
import { useChatStore } from '@/stores/chat'
import { useSessionStore } from '@/stores/session'
import { useUiStore } from '@/stores/ui'
import { setLocale } from '@/i18n'
import type { Message } from '@/api/types'
import { card, fail, me, mockFetch, ok, type Call } from './helpers'

const msg = (id: number, from: number, text: string, read = false): Message => ({
  id, from, text, client_id: `c${id}`, sent_at: '2026-01-01T10:00:00.000Z', read,
})

let pinia: Pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().me = me({ id: 1 })
})
afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

async function open(handler: (c: Call) => ReturnType<typeof ok> | ReturnType<typeof fail> | undefined) {
  const { calls } = mockFetch((c) => {
    const h = handler(c)
    if (h) return h
    if (c.url.startsWith('/api/v1/conversations/2/messages?')) return ok({ messages: [msg(2, 2, '你好'), msg(1, 1, 'hi', true)], has_more: false })
    if (c.url.endsWith('/read')) return ok(null)
    return undefined
  })
  useChatStore().conversations = [{ user: card(2, { nickname: '小红' }), matched_at: '2026-01-01T09:00:00Z', last_message: msg(2, 2, '你好'), unread: 1 }]
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/chat/:id', component: ChatView }, { path: '/:p(.*)*', component: { template: '<p/>' } }] })
  await router.push('/chat/2')
  const w = mount(ChatView, { global: { plugins: [pinia, router] }, attachTo: document.body })
  await flushPromises()
  return { w, calls }
}

describe('ChatView', () => {
  it('shows bubbles with read ticks, sends on Enter but not while an IME composes', async () => {
    const { w, calls } = await open((c) =>
      c.method === 'POST' && c.url.endsWith('/messages') ? ok({ ...msg(3, 1, (c.body as { text: string }).text), client_id: (c.body as { client_id: string }).client_id }) : undefined,
    )
    const bubbles = w.findAll('[data-testid="message"]')
    expect(bubbles.map((b) => b.find('.bubble').text())).toEqual(['hi', '你好'])
    expect(bubbles[0].classes()).toContain('mine')
    expect(bubbles[0].get('[data-testid="message-status"]').text()).toBe('Read')
    expect(w.get('h1').text()).toBe('小红')

    const input = w.get('[data-testid="chat-input"]')
    await input.setValue('周末见')
    await input.trigger('keydown', { key: 'Enter', isComposing: true })
    expect(calls.filter((c) => c.method === 'POST' && c.url.endsWith('/messages'))).toHaveLength(0)
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST' && c.url.endsWith('/messages'))).toHaveLength(1)
    expect(w.findAll('[data-testid="message"]').at(-1)?.text()).toContain('周末见')
    expect((input.element as HTMLTextAreaElement).value).toBe('')
  })

  it('offers Retry on a failed send', async () => {
    let down = true
    const { w, calls } = await open((c) => {
      if (c.method === 'POST' && c.url.endsWith('/messages')) {
        const b = c.body as { text: string; client_id: string }
        return down ? fail(503, 5001, 'down') : ok({ ...msg(4, 1, b.text), client_id: b.client_id })
      }
      return undefined
    })
    await w.get('[data-testid="chat-input"]').setValue('again')
    await w.get('form.composer').trigger('submit')
    await flushPromises()
    const last = w.findAll('[data-testid="message"]').at(-1)!
    expect(last.attributes('data-state')).toBe('failed')
    expect(last.get('[data-testid="message-status"]').text()).toBe('Not sent')
    down = false
    await last.get('[data-testid="retry"]').trigger('click')
    await flushPromises()
    expect(w.findAll('[data-testid="message"]').at(-1)?.attributes('data-state')).toBe('sent')
    const posts = calls.filter((c) => c.method === 'POST' && c.url.endsWith('/messages')).map((c) => (c.body as { client_id: string }).client_id)
    expect(posts).toHaveLength(2)
    expect(posts[0]).toBe(posts[1])
  })

  it('says when the conversation has ended, in Chinese too', async () => {
    setLocale('zh-CN', false)
    const { w } = await open((c) => (c.url.startsWith('/api/v1/conversations/2/messages?') ? fail(404, 2007, 'not matched') : undefined))
    expect(w.get('[data-testid="chat-ended"]').text()).toBe('这段聊天已经结束。')
    expect(w.find('[data-testid="chat-input"]').exists()).toBe(false)
  })
})

describe('update available', () => {
  it('prompts and reloads into the new version on request', async () => {
    const ui = useUiStore()
    const apply = vi.fn()
    const w = mount(AppToast, { global: { plugins: [pinia] } })
    expect(w.find('[data-testid="update-prompt"]').exists()).toBe(false)
    ui.setUpdate(apply)
    await flushPromises()
    expect(w.get('[data-testid="update-prompt"]').text()).toContain('A new version of Swiper is available.')
    await w.get('[data-testid="update-prompt"] .btn.primary').trigger('click')
    expect(apply).toHaveBeenCalledOnce()
    expect(w.find('[data-testid="update-prompt"]').exists()).toBe(false)
  })
})
