import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import LoginView from '@/views/LoginView.vue'
import { fail, me, mockFetch, ok, type Call } from './helpers'

async function setup(handler: (c: Call) => ReturnType<typeof ok> | ReturnType<typeof fail> | undefined) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginView },
      { path: '/', component: { template: '<p>deck</p>' } },
    ],
  })
  await router.push('/login')
  const fetch = mockFetch(handler)
  const w = mount(LoginView, { global: { plugins: [pinia, router] } })
  return { w, router, fetch }
}

async function sendCode(w: Awaited<ReturnType<typeof setup>>['w'], phone = '13800000001') {
  await w.get('#phone').setValue(phone)
  await w.get('form').trigger('submit')
  await flushPromises()
}

describe('LoginView', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] }))
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('sends a code, shows the resend countdown and logs in', async () => {
    const { w, router, fetch } = await setup((c) => {
      if (c.url.endsWith('/verification-codes')) return ok({ expires_in: 300, resend_after: 60 })
      if (c.url.endsWith('/sessions')) return ok({ token: 't', expires_at: '', created: true, user: me() })
      return undefined
    })
    await sendCode(w)
    expect(fetch.calls[0]).toMatchObject({ method: 'POST', body: { phone: '13800000001' } })
    const input = w.get('#code')
    expect(input.attributes('inputmode')).toBe('numeric')
    expect(input.attributes('autocomplete')).toBe('one-time-code')
    const resend = w.get('[data-testid="resend"]')
    expect(resend.text()).toBe('Resend code in 60 s')
    expect(resend.attributes('disabled')).toBeDefined()

    vi.advanceTimersByTime(15_000)
    await flushPromises()
    expect(w.get('[data-testid="resend"]').text()).toBe('Resend code in 45 s')
    vi.advanceTimersByTime(45_000)
    await flushPromises()
    expect(w.get('[data-testid="resend"]').text()).toBe('Resend code')
    expect(w.get('[data-testid="resend"]').attributes('disabled')).toBeUndefined()

    await input.setValue('123456')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(fetch.calls[1]).toMatchObject({ method: 'POST', body: { phone: '13800000001', code: '123456' } })
    expect(router.currentRoute.value.path).toBe('/')
  })

  it('shows a wrong code clearly', async () => {
    const { w } = await setup((c) =>
      c.url.endsWith('/verification-codes') ? ok({ expires_in: 300, resend_after: 60 }) : fail(400, 1004, 'wrong code'),
    )
    await sendCode(w)
    await w.get('#code').setValue('000000')
    await w.get('form').trigger('submit')
    await flushPromises()
    const alert = w.get('[role="alert"]')
    expect(alert.text()).toBe('Wrong verification code. Check the SMS and try again.')
    expect(w.get('#code').attributes('aria-invalid')).toBe('true')
  })

  it('shows the lock with its duration', async () => {
    const { w } = await setup((c) =>
      c.url.endsWith('/verification-codes')
        ? ok({ expires_in: 300, resend_after: 60 })
        : fail(429, 1007, 'locked', { 'Retry-After': '900' }),
    )
    await sendCode(w)
    await w.get('#code').setValue('999999')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe('Too many wrong codes: this phone number is locked for a while. Try again in 15 minutes.')
  })

  it('shows rate limiting, counts down, and still lets a code already received be typed in', async () => {
    const { w } = await setup(() => fail(429, 1006, 'too often', { 'Retry-After': '30' }))
    await sendCode(w)
    expect(w.get('[role="alert"]').text()).toBe('Codes were requested too often. Try again in 30 seconds.')
    expect(w.find('#code').exists()).toBe(true)
    expect(w.get('[data-testid="login-note"]').text()).toMatch(/a moment ago/)
    const btn = w.get('[data-testid="resend"]')
    expect(btn.text()).toBe('Resend code in 30 s')
    expect(btn.attributes('disabled')).toBeDefined()
  })

  it('after a reload while the code is valid, shows the code entry, not only a timer', async () => {
    const first = await setup((c) => (c.url.endsWith('/verification-codes') ? ok({ expires_in: 300, resend_after: 60 }) : undefined))
    await sendCode(first.w)
    first.w.unmount()
    vi.advanceTimersByTime(17_000)
    // A new page: the same tab's sessionStorage remembers the phone and deadlines.
    const { w, fetch } = await setup((c) => (c.url.endsWith('/sessions') ? ok({ token: 't', expires_at: '', created: false, user: me() }) : undefined))
    await flushPromises()
    expect(w.find('#code').exists()).toBe(true)
    expect(w.text()).toContain('13800000001')
    expect(w.get('[data-testid="resend"]').text()).toBe('Resend code in 43 s')
    await w.get('#code').setValue('123456')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(fetch.calls[0]).toMatchObject({ url: '/api/v1/sessions', body: { phone: '13800000001', code: '123456' } })
  })

  it('forgets the remembered code once it has expired', async () => {
    const first = await setup((c) => (c.url.endsWith('/verification-codes') ? ok({ expires_in: 300, resend_after: 60 }) : undefined))
    await sendCode(first.w)
    first.w.unmount()
    vi.advanceTimersByTime(301_000)
    const { w } = await setup(() => undefined)
    await flushPromises()
    expect(w.find('#phone').exists()).toBe(true)
  })

  it('rejects a malformed phone with the server message', async () => {
    const { w } = await setup(() => fail(400, 1002, 'invalid phone'))
    await sendCode(w, '12345')
    expect(w.get('[role="alert"]').text()).toMatch(/phone number is not valid/)
  })

  it('asks for six digits before calling the server', async () => {
    const { w, fetch } = await setup(() => ok({ expires_in: 300, resend_after: 60 }))
    await sendCode(w)
    await w.get('#code').setValue('12')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe('Enter the 6-digit code from the SMS.')
    expect(fetch.calls).toHaveLength(1)
  })
})
