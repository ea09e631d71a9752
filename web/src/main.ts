import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { createAppRouter } from './router'
import { onUnauthorized } from './api/client'
import { useSessionStore } from './stores/session'
import { useDeckStore } from './stores/deck'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const router = createAppRouter()
app.use(router)

// A 401 (code 1010) anywhere sends the user to the login page.
onUnauthorized(() => {
  const session = useSessionStore(pinia)
  session.clear()
  useDeckStore(pinia).reset()
  const here = router.currentRoute.value
  if (here.name !== 'login') void router.replace({ path: '/login', query: here.fullPath !== '/' ? { next: here.fullPath } : {} })
})

app.mount('#app')
