// A thin fetch wrapper for the Swiper API envelope {code, data[, errors]}.
// The web client relies on the HttpOnly `swiper_session` cookie: it never
// stores or sends a token itself. Every message shown to a person comes from
// the i18n catalogue: the server's English `data` text is never displayed.

import { i18n, t } from '@/i18n'
import { formatWait } from '@/i18n/format'

export class ApiError extends Error {
  readonly code: number
  readonly status: number
  /** Localised messages per field, from the server's `errors` map. */
  readonly errors: Record<string, string>
  /** The server's own field messages (English, for developers). */
  readonly rawErrors: Record<string, string>
  /** Seconds from the Retry-After header (429/503), when present. */
  readonly retryAfter: number | null
  /** The server's `data` of a failure (for 3001: the missing permission). */
  readonly serverMessage: string

  constructor(code: number, status: number, serverMessage: string, errors: Record<string, string> = {}, retryAfter: number | null = null) {
    super(describeError(code, serverMessage, retryAfter))
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.serverMessage = serverMessage
    this.rawErrors = errors
    this.errors = localizeFieldErrors(code, errors)
    this.retryAfter = retryAfter
  }
}

/** Called on any 401 (code 1010) so the app can go to /login. */
let unauthorizedHandler: (() => void) | null = null
export function onUnauthorized(fn: (() => void) | null): void {
  unauthorizedHandler = fn
}
/** Called on 1013 (account suspended). */
let suspendedHandler: (() => void) | null = null
export function onSuspended(fn: (() => void) | null): void {
  suspendedHandler = fn
}

const PERMISSIONS = ['superlike', 'rewind', 'who_liked_me', 'unlimited_like', 'any_location', 'vipflag']

export function permissionLabel(p: string): string {
  return PERMISSIONS.includes(p) ? t(`perm.${p}`) : p
}

const KNOWN_CODES = new Set([
  -1, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1010, 1011, 1012, 1013, 2001, 2002, 2003, 2004, 2005, 2006,
  2007, 2008, 2009, 2010, 3001, 4000, 4001, 4002, 4003, 5000, 5001,
])

/** A clear, localised message for each API error code. */
export function describeError(code: number, serverMessage = '', retryAfter: number | null = null): string {
  const key = KNOWN_CODES.has(code) ? `errors.e${code < 0 ? 'Network' : code}` : 'errors.unknown'
  let msg = code === 3001 && PERMISSIONS.includes(serverMessage)
    ? t('errors.e3001For', { permission: permissionLabel(serverMessage) })
    : t(key)
  if (retryAfter != null && retryAfter > 0 && [1006, 1007, 2003, 2006, 2008, 2009, 5001].includes(code)) {
    msg += (i18n.global.locale.value === 'en' ? ' ' : '') + t('errors.tryAgainIn', { wait: formatWait(retryAfter) })
  }
  return msg
}

const FIELDS = new Set([
  'phone', 'code', 'nickname', 'gender', 'birthday', 'city', 'lat', 'lng', 'dating_gender', 'dating_city',
  'min_distance', 'max_distance', 'min_dating_age', 'max_dating_age', 'text', 'note', 'reason', 'avatar', 'photo',
])

/** A readable, localised message for a field the server refused. */
export function fieldError(code: number, field: string): string {
  if (code === 1000) return t('fields.required')
  return FIELDS.has(field) ? t(`fields.${field}`) : t('fields.invalid')
}

function localizeFieldErrors(code: number, errs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of Object.keys(errs)) out[k] = fieldError(code, k)
  return out
}

interface Envelope<T> {
  code: number
  data: T | string
  errors?: Record<string, string | string[]>
}

function flattenErrors(errs: Record<string, string | string[]> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!errs) return out
  for (const [k, v] of Object.entries(errs)) out[k] = Array.isArray(v) ? v.join('; ') : String(v)
  return out
}

function retryAfterOf(value: string | null): number | null {
  return value != null && /^\d+$/.test(value) ? Number(value) : null
}

/** Turn a status, a parsed body and Retry-After into data or an ApiError. */
function settle<T>(status: number, env: Envelope<T> | null, retryAfter: number | null): T {
  const ok = status >= 200 && status < 300
  if (!env || typeof env.code !== 'number') {
    throw new ApiError(status === 401 ? 1010 : 5000, status, `HTTP ${status}`, {}, retryAfter)
  }
  if (env.code !== 0 || !ok) {
    const msg = typeof env.data === 'string' ? env.data : ''
    const err = new ApiError(env.code || 5000, status, msg, flattenErrors(env.errors), retryAfter)
    if (err.code === 1010 || status === 401) unauthorizedHandler?.()
    if (err.code === 1013) suspendedHandler?.()
    throw err
  }
  return env.data as T
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } }
  if (body instanceof FormData) {
    init.body = body
  } else if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
  }
  let res: Response
  try {
    res = await fetch(path, init)
  } catch {
    throw new ApiError(-1, 0, '')
  }
  let env: Envelope<T> | null = null
  try {
    env = (await res.json()) as Envelope<T>
  } catch {
    env = null
  }
  return settle<T>(res.status, env, retryAfterOf(res.headers.get('Retry-After')))
}

/** Upload progress: a fraction from 0 to 1. */
export type Progress = (fraction: number) => void

/**
 * A multipart upload with progress (fetch cannot report upload progress).
 * Without a progress callback, or without XMLHttpRequest, it is a plain request.
 */
export function upload<T>(method: string, path: string, body: FormData, onProgress?: Progress): Promise<T> {
  if (!onProgress || typeof XMLHttpRequest === 'undefined') return request<T>(method, path, body)
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, path)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total))
    }
    xhr.onerror = () => reject(new ApiError(-1, 0, ''))
    xhr.onload = () => {
      let env: Envelope<T> | null = null
      try {
        env = JSON.parse(xhr.responseText) as Envelope<T>
      } catch {
        env = null
      }
      try {
        onProgress(1)
        resolve(settle<T>(xhr.status, env, retryAfterOf(xhr.getResponseHeader('Retry-After'))))
      } catch (e) {
        reject(e)
      }
    }
    xhr.send(body)
  })
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
}
