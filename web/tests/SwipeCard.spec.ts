import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import SwipeCard from '@/components/SwipeCard.vue'
import { FLY_MS, SWIPE_THRESHOLD } from '@/lib/gesture'
import { card } from './helpers'

function pointer(type: string, x: number, y: number, timeStamp?: number) {
  const e = new PointerEvent(type, { clientX: x, clientY: y, pointerId: 1, pointerType: 'mouse', button: 0, bubbles: true })
  if (timeStamp !== undefined) Object.defineProperty(e, 'timeStamp', { value: timeStamp })
  return e
}

async function drag(el: Element, dx: number, dy: number, ms = 500) {
  el.dispatchEvent(pointer('pointerdown', 100, 300, 1000))
  const steps = 5
  for (let i = 1; i <= steps; i++) {
    el.dispatchEvent(pointer('pointermove', 100 + (dx * i) / steps, 300 + (dy * i) / steps, 1000 + (ms * i) / steps))
  }
  el.dispatchEvent(pointer('pointerup', 100 + dx, 300 + dy, 1000 + ms))
}

describe('SwipeCard', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('labels the card and hides cards behind the top one', () => {
    const top = mount(SwipeCard, { props: { card: card(7, { nickname: 'Alice', age: 24, distance_km: 3 }), active: true } })
    expect(top.attributes('aria-label')).toBe('Alice, 24, 北京, 3 km away')
    expect(top.attributes('aria-hidden')).toBeUndefined()
    expect(top.attributes('data-testid')).toBe('top-card')
    const behind = mount(SwipeCard, { props: { card: card(8), active: false, depth: 1 } })
    expect(behind.attributes('aria-hidden')).toBe('true')
  })

  it('follows the pointer, rotates and shows the LIKE stamp', async () => {
    const w = mount(SwipeCard, { props: { card: card(1), active: true } })
    const el = w.element
    el.dispatchEvent(pointer('pointerdown', 100, 300, 0))
    el.dispatchEvent(pointer('pointermove', 150, 300, 100))
    await w.vm.$nextTick()
    expect((el as HTMLElement).style.transform).toContain('translate(50px, 0px)')
    expect((el as HTMLElement).style.transform).toContain('rotate(3deg)')
    expect((w.get('.stamp.like').element as HTMLElement).style.opacity).toBe('0.5')
    expect((w.get('.stamp.nope').element as HTMLElement).style.opacity).toBe('0')
  })

  it('snaps back when released before the threshold', async () => {
    const w = mount(SwipeCard, { props: { card: card(1), active: true } })
    await drag(w.element, SWIPE_THRESHOLD - 10, 0)
    vi.advanceTimersByTime(FLY_MS + 50)
    await w.vm.$nextTick()
    expect(w.emitted('swipe')).toBeUndefined()
    expect((w.element as HTMLElement).style.transform).toContain('translate(0px, 0px)')
  })

  it.each([
    [SWIPE_THRESHOLD + 10, 0, 'right'],
    [-(SWIPE_THRESHOLD + 10), 20, 'left'],
    [10, -(SWIPE_THRESHOLD + 10), 'up'],
  ] as const)('swipes when released past the threshold (%d, %d → %s)', async (dx, dy, dir) => {
    const w = mount(SwipeCard, { props: { card: card(1), active: true } })
    await drag(w.element, dx, dy)
    expect(w.emitted('swipe')).toBeUndefined() // only after the fly-out
    vi.advanceTimersByTime(FLY_MS)
    expect(w.emitted('swipe')).toEqual([[dir]])
  })

  it('swipes on a fast flick shorter than the threshold', async () => {
    const w = mount(SwipeCard, { props: { card: card(1), active: true } })
    await drag(w.element, 60, 0, 50) // 1.2 px/ms
    vi.advanceTimersByTime(FLY_MS)
    expect(w.emitted('swipe')).toEqual([['right']])
  })

  it('ignores drags on a card that is not on top', async () => {
    const w = mount(SwipeCard, { props: { card: card(1), active: false, depth: 1 } })
    await drag(w.element, 200, 0)
    vi.advanceTimersByTime(FLY_MS)
    expect(w.emitted('swipe')).toBeUndefined()
  })

  it('fling() animates out and emits, as buttons and keys use it', async () => {
    const w = mount(SwipeCard, { props: { card: card(1), active: true } })
    ;(w.vm as unknown as { fling: (d: string) => void }).fling('left')
    await w.vm.$nextTick()
    expect((w.get('.stamp.nope').element as HTMLElement).style.opacity).toBe('1')
    vi.advanceTimersByTime(FLY_MS)
    expect(w.emitted('swipe')).toEqual([['left']])
  })
})
