import { defineStore } from 'pinia'
import { ref } from 'vue'

/** App-wide UI state: the polite live region and the VIP upgrade prompt. */
export const useUiStore = defineStore('ui', () => {
  const status = ref('')
  /** The permission the user lacks, when the upgrade prompt is open. */
  const upgradeFor = ref<string | null>(null)
  /** Count of open modal dialogs: keyboard shortcuts pause while > 0. */
  const dialogs = ref(0)

  let seq = 0
  function announce(msg: string) {
    // Clear first so that the same message twice is still announced.
    const mine = ++seq
    status.value = ''
    queueMicrotask(() => {
      if (mine === seq) status.value = msg
    })
  }

  function promptUpgrade(permission: string) {
    upgradeFor.value = permission || 'vipflag'
  }
  function closeUpgrade() {
    upgradeFor.value = null
  }

  return { status, upgradeFor, dialogs, announce, promptUpgrade, closeUpgrade }
})
