// Deterministic illustrations for people without a photo: the same id always
// gives the same picture, drawn in the browser (nothing is fetched from
// outside). Style: DiceBear "Notionists" by Zoish, CC0 1.0; code MIT.
// The drawing code is large (~130 KB gzipped), so it is a separate chunk
// loaded after the app shell; until then a plain silhouette shows.
import { ref } from 'vue'

/** Soft backgrounds in the brand's family; the drawing itself is dark ink. */
export const BACKGROUNDS = ['ffd6e2', 'ffe8c2', 'd9ecff', 'dff5e3', 'ebe0ff', 'fde2d4']

/** Shown while the illustrations load: a neutral silhouette. */
export const PLACEHOLDER =
  'data:image/svg+xml;utf8,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#f6dde5"/>' +
      '<circle cx="32" cy="25" r="11" fill="#e9b8c8"/><path d="M12 60c2-12 10-18 20-18s18 6 20 18z" fill="#e9b8c8"/></svg>',
  )

const ready = ref(false)
let draw: ((seed: string) => string) | null = null
let loading: Promise<void> | null = null
const cache = new Map<number, string>()

/** Load the drawing code once; resolves when illustrations can be drawn. */
export function loadIllustrations(): Promise<void> {
  if (!loading) {
    loading = Promise.all([import('@dicebear/core'), import('@dicebear/notionists')]).then(([core, style]) => {
      draw = (seed) => core.createAvatar(style, { seed, backgroundColor: BACKGROUNDS, radius: 0 }).toDataUri()
      ready.value = true
    })
  }
  return loading
}

/**
 * A data: URI of the illustration for a user id (reactive: components show
 * the placeholder first and the illustration once it is loaded).
 */
export function illustration(id: number): string {
  if (!ready.value || !draw) {
    void loadIllustrations()
    return PLACEHOLDER
  }
  let uri = cache.get(id)
  if (!uri) {
    uri = draw(`swiper-${id}`)
    if (cache.size > 500) cache.clear()
    cache.set(id, uri)
  }
  return uri
}
