import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import UserAvatar from '@/components/UserAvatar.vue'
import { illustration, loadIllustrations, PLACEHOLDER } from '@/lib/avatar'
import { setLocale } from '@/i18n'

function decode(uri: string): string {
  return decodeURIComponent(uri.replace(/^data:image\/svg\+xml;utf8,/, ''))
}

describe('avatar illustrations', () => {
  it('are drawn from the user id: the same id gives the same picture, another id another', async () => {
    await loadIllustrations()
    const a = illustration(7)
    expect(a).toMatch(/^data:image\/svg\+xml/)
    expect(a).not.toBe(PLACEHOLDER)
    expect(decode(a)).toContain('<svg')
    expect(illustration(7)).toBe(a)
    const others = new Set([8, 9, 10, 11, 12].map(illustration))
    expect(others.has(a)).toBe(false)
    expect(others.size).toBe(5)
  })
})

describe('UserAvatar', () => {
  it('shows the uploaded image when there is one', () => {
    const w = mount(UserAvatar, { props: { id: 3, name: 'Alice', src: '/media/a.jpg' } })
    expect(w.attributes('src')).toBe('/media/a.jpg')
    expect(w.attributes('alt')).toBe('Avatar of Alice')
    expect(w.attributes('data-avatar')).toBe('image')
  })

  it('shows the illustration of the id when there is no image, never a letter', async () => {
    await loadIllustrations()
    const w = mount(UserAvatar, { props: { id: 3, name: 'Alice' } })
    expect(w.element.tagName).toBe('IMG')
    expect(w.attributes('src')).toBe(illustration(3))
    expect(w.attributes('data-avatar')).toBe('illustration')
    expect(w.text()).toBe('')
    const other = mount(UserAvatar, { props: { id: 4, name: 'Alice' } })
    expect(other.attributes('src')).not.toBe(w.attributes('src'))
  })

  it('falls back to the illustration when the image is broken', async () => {
    await loadIllustrations()
    const w = mount(UserAvatar, { props: { id: 5, name: 'Bo', src: '/media/broken.txt' } })
    await w.trigger('error')
    expect(w.attributes('src')).toBe(illustration(5))
    expect(w.attributes('alt')).toBe('Avatar of Bo')
    // A new image is tried again.
    await w.setProps({ src: '/media/new.jpg' })
    expect(w.attributes('src')).toBe('/media/new.jpg')
  })

  it('is decorative with alt="" and localised otherwise', async () => {
    expect(mount(UserAvatar, { props: { id: 1, name: 'A', alt: '' } }).attributes('alt')).toBe('')
    setLocale('zh-CN', false)
    const w = mount(UserAvatar, { props: { id: 1, name: '小红' } })
    await flushPromises()
    expect(w.attributes('alt')).toBe('小红的头像')
  })
})
