// Pure swipe-gesture maths, shared by the card component and its unit tests.

export type Direction = 'left' | 'right' | 'up'

/** Distance (px) past which a release commits a swipe. */
export const SWIPE_THRESHOLD = 100
/** A flick faster than this (px/ms) commits even below the threshold... */
export const FLICK_VELOCITY = 0.6
/** ...provided it travelled at least this far (px). */
export const FLICK_MIN_DISTANCE = 30
/** Rotation per horizontal px, in degrees, capped at MAX_ROTATION. */
export const ROTATION_PER_PX = 0.06
export const MAX_ROTATION = 20
/** Movement below this (px) is a tap, not a drag. */
export const TAP_SLOP = 5

/** The direction a drag points to, or null when it has barely moved. */
export function dragDirection(dx: number, dy: number): Direction | null {
  if (Math.abs(dx) < TAP_SLOP && Math.abs(dy) < TAP_SLOP) return null
  if (dy < 0 && -dy > Math.abs(dx)) return 'up'
  if (dx > 0) return 'right'
  if (dx < 0) return 'left'
  return null
}

/**
 * Whether a release at (dx, dy) with the given velocity (px/ms, along the
 * drag direction) commits a swipe, and in which direction.
 */
export function releaseDecision(dx: number, dy: number, velocity = 0): Direction | null {
  const dir = dragDirection(dx, dy)
  if (!dir) return null
  const dist = dir === 'up' ? -dy : Math.abs(dx)
  if (dist >= SWIPE_THRESHOLD) return dir
  if (dist >= FLICK_MIN_DISTANCE && velocity > FLICK_VELOCITY) return dir
  return null
}

export function rotationFor(dx: number): number {
  const r = dx * ROTATION_PER_PX
  return Math.max(-MAX_ROTATION, Math.min(MAX_ROTATION, r))
}

/** Opacity (0..1) of the stamp for the current drag. */
export function stampOpacity(dx: number, dy: number): number {
  const dir = dragDirection(dx, dy)
  if (!dir) return 0
  const dist = dir === 'up' ? -dy : Math.abs(dx)
  return Math.min(1, dist / SWIPE_THRESHOLD)
}

export function actionFor(dir: Direction): 'like' | 'dislike' | 'superlike' {
  return dir === 'right' ? 'like' : dir === 'left' ? 'dislike' : 'superlike'
}

/** Fly-out animation length (ms); 0 under prefers-reduced-motion. */
export const FLY_MS = 250
