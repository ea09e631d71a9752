import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, describeError, onUnauthorized } from '@/api/client'
import { fail, mockFetch, ok } from './helpers'

describe('api client', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    onUnauthorized(null)
  })

  it('unwraps the envelope and sends JSON with same-origin credentials', async () => {
    const { calls, fn } = mockFetch(() => ok({ hello: 'world' }))
    await expect(api.post('/api/v1/x', { a: 1 })).resolves.toEqual({ hello: 'world' })
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/x', body: { a: 1 } })
    const init = fn.mock.calls[0][1] as RequestInit
    expect(init.credentials).toBe('same-origin')
    expect((init.headers as Record<string, string>)['Authorization']).toBeUndefined()
  })

  it('turns failures into ApiError with code, field errors and Retry-After', async () => {
    mockFetch(() => fail(429, 1006, 'too many codes', { 'Retry-After': '42' }))
    const err = (await api.post('/api/v1/verification-codes', {}).catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe(1006)
    expect(err.retryAfter).toBe(42)
    expect(err.message).toBe('Codes were requested too often. Try again in 42 seconds.')

    mockFetch(() => fail(400, 1001, 'invalid profile', undefined, { max_distance: 'must be >= min_distance' }))
    const e2 = (await api.patch('/api/v1/users/me/profile', {}).catch((e) => e)) as ApiError
    // Field errors are shown localised and readable; the server's text is kept for developers.
    expect(e2.errors).toEqual({ max_distance: 'Distances go from 0 to 500 km, the minimum not above the maximum.' })
    expect(e2.rawErrors).toEqual({ max_distance: 'must be >= min_distance' })
    expect(e2.message).toBe('Some values are not valid. Check the highlighted fields.')
    expect(e2.message).not.toContain('invalid profile')
  })

  it('calls the unauthorized handler on 401', async () => {
    const handler = vi.fn()
    onUnauthorized(handler)
    mockFetch(() => fail(401, 1010, 'not logged in'))
    await expect(api.get('/api/v1/users/me')).rejects.toMatchObject({ code: 1010 })
    expect(handler).toHaveBeenCalledOnce()
  })

  it('reports a network failure clearly', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(api.get('/api/v1/vip')).rejects.toMatchObject({ code: -1, message: 'Cannot reach the server. Check your connection.' })
  })

  it('has a clear message for each login error', () => {
    expect(describeError(1004)).toMatch(/Wrong verification code/)
    expect(describeError(1005)).toMatch(/expired/)
    expect(describeError(1007, '', 900)).toBe('Too many wrong codes: this phone number is locked for a while. Try again in 15 minutes.')
    expect(describeError(1002)).toMatch(/phone number is not valid/)
    expect(describeError(3001, 'rewind')).toBe('This needs a higher VIP level (Rewind).')
  })
})
