import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import SafetySheet from '@/components/SafetySheet.vue'
import ProfileView from '@/views/ProfileView.vue'
import { api, onSuspended } from '@/api/client'
import { useChatStore } from '@/stores/chat'
import { useSessionStore } from '@/stores/session'
import { card, fail, me, mockFetch, ok } from './helpers'

let pinia: Pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().me = me()
})
afterEach(() => {
  vi.unstubAllGlobals()
  onSuspended(null)
  document.body.innerHTML = ''
})

function router() {
  const r = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<p/>' } }] })
  return r
}

describe('SafetySheet', () => {
  it('reports with a reason and a note, then confirms; the conversation ends', async () => {
    const { calls } = mockFetch((c) => (c.url === '/api/v1/reports' ? ok({ id: 1 }) : undefined))
    const chat = useChatStore()
    chat.conversations = [{ user: card(5, { nickname: 'Eve' }), matched_at: '2026-01-01T00:00:00Z', last_message: null, unread: 0 }]
    const w = mount(SafetySheet, { props: { user: { id: 5, nickname: 'Eve' } }, global: { plugins: [pinia] }, attachTo: document.body })
    await flushPromises()
    expect(w.get('#safety-title').text()).toBe('Block or report Eve')
    await w.get('[data-testid="safety-report"]').trigger('click')
    expect(w.findAll('input[name="reason"]')).toHaveLength(6)
    // No reason: a readable error, nothing sent.
    await w.get('form').trigger('submit')
    expect(w.get('.field-error').text()).toBe('Choose a reason.')
    expect(calls).toHaveLength(0)
    await w.get('input[value="scam"]').setValue(true)
    await w.get('#report-note').setValue('asked me for money')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/reports', body: { user_id: 5, reason: 'scam', note: 'asked me for money' } })
    expect(w.get('[data-testid="safety-done"]').text()).toMatch(/Eve is reported and blocked/)
    expect(chat.conversation(5)).toBeUndefined()
    await w.get('[data-testid="safety-close"]').trigger('click')
    expect(w.emitted('done')).toEqual([[5]])
    w.unmount()
  })

  it('blocks after a confirmation that says what happens', async () => {
    const { calls } = mockFetch((c) => (c.url === '/api/v1/blocks' ? ok(null) : undefined))
    const w = mount(SafetySheet, { props: { user: { id: 6, nickname: 'Max' }, start: 'block' }, global: { plugins: [pinia] }, attachTo: document.body })
    await flushPromises()
    expect(w.text()).toMatch(/no longer see each other/)
    expect(calls).toHaveLength(0)
    await w.get('[data-testid="safety-confirm"]').trigger('click')
    await flushPromises()
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/blocks', body: { user_id: 6 } })
    expect(w.get('[data-testid="safety-done"]').text()).toMatch(/Max is blocked/)
    w.unmount()
  })

  it('shows the daily report limit readably', async () => {
    mockFetch(() => fail(429, 2009, 'too many reports', { 'Retry-After': '3600' }))
    const w = mount(SafetySheet, { props: { user: { id: 6, nickname: 'Max' }, start: 'report' }, global: { plugins: [pinia] }, attachTo: document.body })
    await w.get('input[value="other"]').setValue(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="error"]').text()).toBe('You have sent too many reports today. Try again in 1 hour.')
    w.unmount()
  })
})

describe('Me: privacy and account', () => {
  function profileServer(extra: (url: string, method: string) => ReturnType<typeof ok> | undefined = () => undefined) {
    return mockFetch((c) => {
      const e = extra(c.url, c.method)
      if (e) return e
      if (c.url === '/api/v1/users/me/profile') {
        return ok({ dating_gender: 'female', dating_city: '北京', min_distance: 0, max_distance: 50, min_dating_age: 18, max_dating_age: 50, vibration: true, only_matched: true, auto_play: true })
      }
      if (c.url.startsWith('/api/v1/blocks?')) return ok({ total: 1, users: [{ id: 9, nickname: 'Zed', avatar: '', blocked_at: '2026-01-02T00:00:00Z' }] })
      return undefined
    })
  }

  it('lists blocked people and unblocks', async () => {
    const { calls } = profileServer((url, method) => (url === '/api/v1/blocks/9' && method === 'DELETE' ? ok(null) : undefined))
    const w = mount(ProfileView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    expect(w.get('[data-testid="blocked-list"]').text()).toContain('Zed')
    await w.get('[aria-label="Unblock Zed"]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/v1/blocks/9')).toBe(true)
    expect(w.find('[data-testid="blocked-list"] li').exists()).toBe(false)
  })

  it('explains "only show photos to matches", and the age sliders cannot cross', async () => {
    profileServer()
    const w = mount(ProfileView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    expect(w.get('[data-testid="only-matched-hint"]').text()).toMatch(/album opens to the people you match/)
    await w.get('#min_age').setValue('40')
    await w.get('#max_age').setValue('30')
    await flushPromises()
    const min = Number((w.get('#min_age').element as HTMLInputElement).value)
    const max = Number((w.get('#max_age').element as HTMLInputElement).value)
    expect(min).toBeLessThanOrEqual(max)
    expect(max).toBe(40)
  })

  it('saves with a visible confirmation and readable field errors', async () => {
    let refuse = true
    profileServer((url, method) => {
      if (url === '/api/v1/users/me' && method === 'PATCH') {
        return refuse
          ? { status: 400, body: { code: 1001, data: 'Invalid input: invalid user', errors: { birthday: 'must be at least 18' } } }
          : ok(me({ city: '上海' }))
      }
      return undefined
    })
    const w = mount(ProfileView, { global: { plugins: [pinia, router()] } })
    await flushPromises()
    await w.get('#city').setValue('上海')
    await w.get('[data-testid="info-form"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="birthday-error"]').text()).toBe('Use a real date: you must be at least 18.')
    expect(w.text()).not.toMatch(/invalid user|Invalid input/)
    refuse = false
    await w.get('[data-testid="info-form"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="info-saved"]').text()).toBe('Saved')
  })

  it('downloads my data and deletes the account after naming what is deleted', async () => {
    const created: Blob[] = []
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: (b: Blob) => (created.push(b), 'blob:x'), revokeObjectURL: () => undefined }))
    const { calls } = profileServer((url, method) => {
      if (url === '/api/v1/users/me/export') return ok({ user: { id: 1 }, swipes: [] })
      if (url === '/api/v1/users/me' && method === 'DELETE') return ok(null)
      return undefined
    })
    const r = router()
    const w = mount(ProfileView, { global: { plugins: [pinia, r] }, attachTo: document.body })
    await flushPromises()
    await w.get('[data-testid="export"]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.url === '/api/v1/users/me/export')).toBe(true)
    expect(JSON.parse(await created[0].text())).toEqual({ user: { id: 1 }, swipes: [] })

    await w.get('[data-testid="delete-account"]').trigger('click')
    const dlg = w.get('[data-testid="delete-dialog"]')
    expect(dlg.text()).toMatch(/all your conversations and messages/)
    expect(dlg.text()).toMatch(/your avatar and photos/)
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)
    await dlg.get('[data-testid="delete-confirm"]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/v1/users/me')).toBe(true)
    expect(useSessionStore().me).toBeNull()
    expect(r.currentRoute.value.path).toBe('/login')
    w.unmount()
  })
})

describe('a suspended account', () => {
  it('1013 calls the suspended handler', async () => {
    const h = vi.fn()
    onSuspended(h)
    mockFetch(() => fail(403, 1013, 'suspended'))
    await expect(api.post('/api/v1/sessions', {})).rejects.toMatchObject({ code: 1013, message: 'This account is suspended.' })
    expect(h).toHaveBeenCalledOnce()
  })
})
