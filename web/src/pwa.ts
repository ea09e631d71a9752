// The service worker (vite-plugin-pwa, workbox): it precaches the app shell
// only. API answers and media are never cached (see vite.config.ts).
import { registerSW } from 'virtual:pwa-register'
import { t } from '@/i18n'

interface Ui {
  setUpdate: (fn: () => void) => void
  announce: (msg: string) => void
}

export function registerServiceWorker(ui: Ui) {
  const update = registerSW({
    onNeedRefresh() {
      ui.setUpdate(() => void update(true))
    },
    onOfflineReady() {
      ui.announce(t('pwa.offlineReady'))
    },
  })
}
