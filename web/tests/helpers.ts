import { vi } from 'vitest'
import type { Card, Me, VipStatus } from '@/api/types'

export interface Call {
  method: string
  url: string
  body: unknown
}

type Handler = (call: Call) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined

/** Stub global fetch with a routing function; returns the recorded calls. */
export function mockFetch(handler: Handler) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url
    const method = (init?.method ?? 'GET').toUpperCase()
    let body: unknown = undefined
    if (typeof init?.body === 'string') body = JSON.parse(init.body)
    else if (init?.body) body = init.body
    const call = { method, url, body }
    calls.push(call)
    const res = handler(call) ?? { status: 404, body: { code: 4000, data: 'not found' } }
    return new Response(JSON.stringify(res.body), {
      status: res.status ?? 200,
      headers: { 'Content-Type': 'application/json', ...(res.headers ?? {}) },
    })
  })
  vi.stubGlobal('fetch', fn)
  return { calls, fn }
}

export const ok = (data: unknown) => ({ body: { code: 0, data } })
export const fail = (status: number, code: number, data: string, headers?: Record<string, string>, errors?: Record<string, string>) => ({
  status,
  body: errors ? { code, data, errors } : { code, data },
  headers,
})

export function vip(level = 0, permissions: string[] = []): VipStatus {
  return {
    level,
    name: ['非会员', '青铜会员', '白银会员', '黄金会员'][level],
    expires_at: null,
    permissions,
    quotas: { likes_left_today: level === 3 ? null : 100, rewinds_left_today: permissions.includes('rewind') ? 3 : 0 },
  }
}

export function me(over: Partial<Me> = {}): Me {
  return {
    id: 1,
    phone: '+8613800000001',
    nickname: '用户0001',
    gender: 'male',
    birthday: '1990-01-01',
    age: 35,
    city: '北京',
    has_location: false,
    avatar: '',
    photos: [],
    vip: vip(),
    created_at: '2025-01-01T00:00:00Z',
    ...over,
  }
}

export function card(id: number, over: Partial<Card> = {}): Card {
  return {
    id,
    nickname: `User${id}`,
    gender: 'female',
    age: 20 + (id % 10),
    city: '北京',
    avatar: '',
    superliked_me: false,
    photos: [],
    ...over,
  }
}
