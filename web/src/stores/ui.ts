import { defineStore } from 'pinia'
import { ref } from 'vue'

export type ToastKind = 'success' | 'error' | 'info'

/**
 * App-wide UI state: the polite live region, visible toasts, the VIP upgrade
 * prompt, the offline screen and the "update available" prompt.
 */
export const useUiStore = defineStore('ui', () => {
  const status = ref('')
  /** A visible message (also read out: the toast is a status region). */
  const toast = ref<{ text: string; kind: ToastKind; id: number } | null>(null)
  /** The permission the user lacks, when the upgrade prompt is open. */
  const upgradeFor = ref<string | null>(null)
  /** Count of open modal dialogs: keyboard shortcuts pause while > 0. */
  const dialogs = ref(0)
  /** The browser is offline, or the server could not be reached at all. */
  const offline = ref(typeof navigator !== 'undefined' && navigator.onLine === false)
  /** A new version of the app is waiting; `applyUpdate` activates it. */
  const updateReady = ref(false)
  let applyUpdate: () => void = () => undefined

  let seq = 0
  function announce(msg: string) {
    // Clear first so that the same message twice is still announced.
    const mine = ++seq
    status.value = ''
    queueMicrotask(() => {
      if (mine === seq) status.value = msg
    })
  }

  let toastSeq = 0
  let toastTimer: ReturnType<typeof setTimeout> | null = null
  function notify(text: string, kind: ToastKind = 'success', ms = 4000) {
    const id = ++toastSeq
    toast.value = { text, kind, id }
    if (toastTimer) clearTimeout(toastTimer)
    toastTimer = setTimeout(() => {
      if (toast.value?.id === id) toast.value = null
    }, ms)
  }
  function dismissToast() {
    toast.value = null
  }

  function promptUpgrade(permission: string) {
    upgradeFor.value = permission || 'vipflag'
  }
  function closeUpgrade() {
    upgradeFor.value = null
  }

  function setUpdate(fn: () => void) {
    applyUpdate = fn
    updateReady.value = true
  }
  function runUpdate() {
    updateReady.value = false
    applyUpdate()
  }

  return {
    status, toast, upgradeFor, dialogs, offline, updateReady,
    announce, notify, dismissToast, promptUpgrade, closeUpgrade, setUpdate, runUpdate,
  }
})
