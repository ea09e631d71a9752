import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { mount } from '@vue/test-utils'
import { useCountdown } from '@/composables/useCountdown'

describe('useCountdown', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] }))
  afterEach(() => vi.useRealTimers())

  it('counts down whole seconds to zero and stops', () => {
    let cd!: ReturnType<typeof useCountdown>
    const w = mount(defineComponent({ setup: () => ((cd = useCountdown()), () => h('p')) }))
    cd.start(3)
    expect(cd.remaining.value).toBe(3)
    expect(cd.running.value).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(cd.remaining.value).toBe(2)
    vi.advanceTimersByTime(2000)
    expect(cd.remaining.value).toBe(0)
    expect(cd.running.value).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    cd.start(0)
    expect(cd.running.value).toBe(false)
    w.unmount()
  })

  it('stops its timer on unmount', () => {
    let cd!: ReturnType<typeof useCountdown>
    const w = mount(defineComponent({ setup: () => ((cd = useCountdown()), () => h('p')) }))
    cd.start(60)
    w.unmount()
    expect(vi.getTimerCount()).toBe(0)
  })
})
