// The events WebSocket (API.md §3 Conversations): reconnects with `since` and
// exponential backoff; a `resync` frame, or a reconnect before any `seq` was
// seen, asks the owner to reload through the REST routes.
import type { ServerEvent } from '@/api/types'

export const BACKOFF_BASE_MS = 1000
export const BACKOFF_MAX_MS = 30_000

/** The wait before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … 30 s. */
export function backoff(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt))
}

export function eventsUrl(loc: { protocol: string; host: string }, since: number | null): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${loc.host}/api/v1/events${since != null ? `?since=${since}` : ''}`
}

export interface EventStreamOptions {
  onEvent: (e: ServerEvent) => void
  /** Events may have been missed: reload state through REST. */
  onResync: () => void
  onStatus?: (connected: boolean) => void
  /** Injected in tests. */
  createSocket?: (url: string) => WebSocket
  location?: { protocol: string; host: string }
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (id: unknown) => void
  /** Resume after an earlier stream: replay what came after this seq. */
  since?: number | null
  /** An earlier stream existed: without a seq, the state must be reloaded. */
  resumed?: boolean
}

export class EventStream {
  /** The highest `seq` seen; reconnects ask for what came after it. */
  lastSeq: number | null = null
  attempt = 0
  private ws: WebSocket | null = null
  private timer: unknown = null
  private stopped = true
  /** A connection was lost before: the next one must catch up. */
  private needCatchUp = false

  constructor(private readonly opts: EventStreamOptions) {
    this.lastSeq = opts.since ?? null
    this.needCatchUp = !!opts.resumed
  }

  start() {
    if (!this.stopped) return
    this.stopped = false
    this.open()
  }

  stop() {
    this.stopped = true
    if (this.timer != null) (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>)
    this.timer = null
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onclose = null
      ws.onmessage = null
      ws.onerror = null
      ws.onopen = null
      try {
        ws.close(1000)
      } catch {
        // already closed
      }
    }
    this.opts.onStatus?.(false)
  }

  get running(): boolean {
    return !this.stopped
  }

  private open() {
    const loc = this.opts.location ?? window.location
    const url = eventsUrl(loc, this.lastSeq)
    let ws: WebSocket
    try {
      ws = (this.opts.createSocket ?? ((u: string) => new WebSocket(u)))(url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      this.attempt = 0
      this.opts.onStatus?.(true)
      // Reconnected without knowing where we were: whatever happened meanwhile
      // is only in the REST state.
      if (this.needCatchUp && this.lastSeq == null) this.opts.onResync()
      this.needCatchUp = false
    }
    ws.onmessage = (m: MessageEvent) => {
      let ev: ServerEvent
      try {
        ev = JSON.parse(String(m.data)) as ServerEvent
      } catch {
        return
      }
      if (ev.type === 'resync') {
        if (typeof ev.seq === 'number') this.lastSeq = ev.seq
        this.opts.onResync()
        return
      }
      if (typeof ev.seq === 'number') {
        if (this.lastSeq != null && ev.seq <= this.lastSeq) return // already applied
        this.lastSeq = ev.seq
      }
      this.opts.onEvent(ev)
    }
    ws.onerror = () => {
      // onclose follows and reconnects.
    }
    ws.onclose = (e: CloseEvent) => {
      if (this.ws === ws) this.ws = null
      this.opts.onStatus?.(false)
      if (this.stopped) return
      this.needCatchUp = true
      // 1012: the replica is restarting; go to another at once.
      if (e.code === 1012) this.attempt = 0
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect() {
    if (this.stopped) return
    const ms = backoff(this.attempt)
    this.attempt++
    this.timer = (this.opts.setTimer ?? setTimeout)(() => {
      this.timer = null
      if (!this.stopped) this.open()
    }, ms)
  }
}
