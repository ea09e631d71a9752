// A thin fetch wrapper for the Swiper API envelope {code, data[, errors]}.
// The web client relies on the HttpOnly `swiper_session` cookie: it never
// stores or sends a token itself.

export class ApiError extends Error {
  readonly code: number
  readonly status: number
  readonly errors: Record<string, string>
  /** Seconds from the Retry-After header (429/503), when present. */
  readonly retryAfter: number | null
  /** The server's human readable message (`data` of a failure). */
  readonly serverMessage: string

  constructor(code: number, status: number, serverMessage: string, errors: Record<string, string> = {}, retryAfter: number | null = null) {
    super(describeError(code, serverMessage, retryAfter))
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.serverMessage = serverMessage
    this.errors = errors
    this.retryAfter = retryAfter
  }
}

/** Called on any 401 (code 1010) so the app can go to /login. */
let unauthorizedHandler: (() => void) | null = null
export function onUnauthorized(fn: (() => void) | null): void {
  unauthorizedHandler = fn
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const min = Math.ceil(seconds / 60)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  const m = min % 60
  return m ? `${h} h ${m} min` : `${h} h`
}

const PERMISSION_LABELS: Record<string, string> = {
  superlike: 'Super like',
  rewind: 'Rewind',
  who_liked_me: 'See who likes you',
  unlimited_like: 'Unlimited likes',
  any_location: 'Date in any city',
  vipflag: 'VIP badge',
}

export function permissionLabel(p: string): string {
  return PERMISSION_LABELS[p] ?? p
}

/** A clear, user-facing message for each API error code. */
export function describeError(code: number, serverMessage = '', retryAfter: number | null = null): string {
  const wait = retryAfter != null && retryAfter > 0 ? ` Try again in ${formatWait(retryAfter)}.` : ''
  switch (code) {
    case 1000:
      return 'Please fill in the required fields.'
    case 1001:
      return serverMessage ? `Invalid input: ${serverMessage}.` : 'Some values are invalid.'
    case 1002:
      return 'That phone number is not valid. Use a mainland China mobile number (11 digits) or +country code.'
    case 1003:
      return 'This user does not exist.'
    case 1004:
      return 'Wrong verification code. Check the SMS and try again.'
    case 1005:
      return 'This code has expired or was already used. Request a new code.'
    case 1006:
      return `Codes were requested too often.${wait || ' Please wait a moment.'}`
    case 1007:
      return `Too many wrong codes: this phone number is locked for a while.${wait}`
    case 1010:
      return 'Your session has ended. Please log in again.'
    case 1011:
      return 'This image was rejected: use a JPEG, PNG, WebP or GIF under 8 MB.'
    case 1012:
      return 'Your photo album is full (6 photos). Remove one first.'
    case 2001:
      return 'You cannot swipe yourself.'
    case 2002:
      return 'You already swiped this person.'
    case 2003:
      return `You have used all your likes for today.${wait}`
    case 2004:
      return 'Nothing to rewind.'
    case 2005:
      return 'Your last swipe is too old to rewind.'
    case 2006:
      return `You have used all your rewinds for today.${wait}`
    case 2007:
      return 'You are not matched with this person.'
    case 3001:
      return `This needs a higher VIP level${serverMessage ? ` (${permissionLabel(serverMessage)})` : ''}.`
    case 4000:
      return 'Not found.'
    case 4002:
      return 'That is too large to upload.'
    case 5001:
      return `The service is busy.${wait || ' Please try again.'}`
    case -1:
      return 'Cannot reach the server. Check your connection.'
    default:
      return serverMessage ? `Something went wrong: ${serverMessage}` : 'Something went wrong. Please try again.'
  }
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
  const ra = res.headers.get('Retry-After')
  const retryAfter = ra != null && /^\d+$/.test(ra) ? Number(ra) : null
  if (!env || typeof env.code !== 'number') {
    throw new ApiError(res.status === 401 ? 1010 : 5000, res.status, `HTTP ${res.status}`, {}, retryAfter)
  }
  if (env.code !== 0 || !res.ok) {
    const msg = typeof env.data === 'string' ? env.data : ''
    const err = new ApiError(env.code || 5000, res.status, msg, flattenErrors(env.errors), retryAfter)
    if (err.code === 1010 || res.status === 401) unauthorizedHandler?.()
    throw err
  }
  return env.data as T
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
}
