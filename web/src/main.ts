import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { createAppRouter } from './router'
import { onSuspended, onUnauthorized } from './api/client'
import { useSessionStore } from './stores/session'
import { useDeckStore } from './stores/deck'
import { useChatStore } from './stores/chat'
import { useUiStore } from './stores/ui'
import { applyDocumentLocale, i18n } from './i18n'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
const router = createAppRouter()
app.use(router)
applyDocumentLocale()

function forget() {
  useSessionStore(pinia).clear()
  useDeckStore(pinia).reset()
  useChatStore(pinia).reset()
}

// A 401 (code 1010) anywhere sends the user to the login page.
onUnauthorized(() => {
  forget()
  const here = router.currentRoute.value
  if (!here.meta.public) void router.replace({ path: '/login', query: here.fullPath !== '/' ? { next: here.fullPath } : {} })
})
// 1013: the account is suspended.
onSuspended(() => {
  forget()
  useSessionStore(pinia).suspended = true
  void router.replace('/suspended')
})

const ui = useUiStore(pinia)
// Offline: the socket is closed at once; back online, it reconnects with
// `since` and the session is checked again.
window.addEventListener('offline', () => {
  ui.offline = true
  useChatStore(pinia).disconnect()
})
window.addEventListener('online', async () => {
  ui.offline = false
  const session = useSessionStore(pinia)
  await session.fetchMe().catch(() => undefined)
  if (session.loggedIn) useChatStore(pinia).connect()
})

app.mount('#app')

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void import('./pwa').then((m) => m.registerServiceWorker(ui))
}
