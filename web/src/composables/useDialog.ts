import { onBeforeUnmount, onMounted, nextTick, type Ref } from 'vue'
import { useUiStore } from '@/stores/ui'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

/**
 * Modal dialog behaviour: focus the initial element, trap Tab inside, close
 * on Escape and give focus back to what had it before.
 */
export function useDialog(root: Ref<HTMLElement | null>, initial: Ref<HTMLElement | null>, close: () => void) {
  const ui = useUiStore()
  let previous: HTMLElement | null = null

  function onKey(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close()
      return
    }
    if (e.key !== 'Tab' || !root.value) return
    const items = Array.from(root.value.querySelectorAll<HTMLElement>(FOCUSABLE))
    if (items.length === 0) return
    const first = items[0]
    const last = items[items.length - 1]
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault()
      last.focus()
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault()
      first.focus()
    }
  }

  onMounted(async () => {
    ui.dialogs++
    previous = document.activeElement as HTMLElement | null
    document.addEventListener('keydown', onKey, true)
    await nextTick()
    initial.value?.focus()
  })
  onBeforeUnmount(() => {
    ui.dialogs = Math.max(0, ui.dialogs - 1)
    document.removeEventListener('keydown', onKey, true)
    if (previous && document.contains(previous)) previous.focus()
  })
}
