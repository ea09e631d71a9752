import { describe, expect, it } from 'vitest'
import {
  FLICK_VELOCITY, MAX_ROTATION, SWIPE_THRESHOLD, actionFor, dragDirection, releaseDecision, rotationFor, stampOpacity,
} from '@/lib/gesture'

describe('gesture maths', () => {
  it('reads the drag direction', () => {
    expect(dragDirection(2, -3)).toBeNull()
    expect(dragDirection(40, 10)).toBe('right')
    expect(dragDirection(-40, -10)).toBe('left')
    expect(dragDirection(20, -60)).toBe('up')
    // Downward drags are horizontal or nothing: there is no "down" swipe.
    expect(dragDirection(10, 80)).toBe('right')
  })

  it('commits only past the threshold', () => {
    expect(releaseDecision(SWIPE_THRESHOLD - 1, 0)).toBeNull()
    expect(releaseDecision(SWIPE_THRESHOLD, 0)).toBe('right')
    expect(releaseDecision(-SWIPE_THRESHOLD - 20, 10)).toBe('left')
    expect(releaseDecision(0, -SWIPE_THRESHOLD)).toBe('up')
    expect(releaseDecision(0, -SWIPE_THRESHOLD + 1)).toBeNull()
  })

  it('commits a fast flick below the threshold, but not a tiny one', () => {
    expect(releaseDecision(50, 0, FLICK_VELOCITY + 0.1)).toBe('right')
    expect(releaseDecision(50, 0, FLICK_VELOCITY - 0.1)).toBeNull()
    expect(releaseDecision(10, 0, 5)).toBeNull()
  })

  it('rotates with the drag, capped', () => {
    expect(rotationFor(0)).toBe(0)
    expect(rotationFor(150)).toBeCloseTo(9)
    expect(rotationFor(-150)).toBeCloseTo(-9)
    expect(rotationFor(10_000)).toBe(MAX_ROTATION)
  })

  it('fades the stamp in up to the threshold', () => {
    expect(stampOpacity(0, 0)).toBe(0)
    expect(stampOpacity(SWIPE_THRESHOLD / 2, 0)).toBeCloseTo(0.5)
    expect(stampOpacity(SWIPE_THRESHOLD * 3, 0)).toBe(1)
  })

  it('maps directions to swipe actions', () => {
    expect(actionFor('right')).toBe('like')
    expect(actionFor('left')).toBe('dislike')
    expect(actionFor('up')).toBe('superlike')
  })
})
