// Dates, times, relative times and durations through Intl, in the current language.
import { currentLocale } from './index'

function date(iso: string): Date | null {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? null : d
}

export function formatDate(iso: string | null | undefined): string {
  const d = iso ? date(iso) : null
  return d ? new Intl.DateTimeFormat(currentLocale(), { dateStyle: 'medium' }).format(d) : ''
}

export function formatTime(iso: string): string {
  const d = date(iso)
  return d ? new Intl.DateTimeFormat(currentLocale(), { hour: 'numeric', minute: '2-digit' }).format(d) : ''
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** A message time: the time today, else a short date and the time. */
export function formatMessageTime(iso: string, now: Date = new Date()): string {
  const d = date(iso)
  if (!d) return ''
  if (sameDay(d, now)) return formatTime(iso)
  const opts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric'
  return new Intl.DateTimeFormat(currentLocale(), opts).format(d)
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
]

/** "5 minutes ago" / "5分钟前", "yesterday" / "昨天". */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const d = date(iso)
  if (!d) return ''
  const diff = Math.round((d.getTime() - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto' })
  const abs = Math.abs(diff)
  if (abs < 45) return rtf.format(0, 'second')
  for (const [unit, secs] of UNITS) {
    if (abs >= secs) return rtf.format(Math.round(diff / secs), unit)
  }
  return rtf.format(0, 'second')
}

function unit(n: number, u: 'second' | 'minute' | 'hour'): string {
  return new Intl.NumberFormat(currentLocale(), { style: 'unit', unit: u, unitDisplay: 'long' }).format(n)
}

/** A wait in seconds: "43 seconds", "2 hours 5 minutes" / "43秒钟". */
export function formatWait(seconds: number): string {
  if (seconds < 60) return unit(seconds, 'second')
  const min = Math.ceil(seconds / 60)
  if (min < 60) return unit(min, 'minute')
  const h = Math.floor(min / 60)
  const m = min % 60
  if (!m) return unit(h, 'hour')
  const sep = currentLocale() === 'en' ? ' ' : ''
  return unit(h, 'hour') + sep + unit(m, 'minute')
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(currentLocale()).format(n)
}
