import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import { useUiStore } from '@/stores/ui'
import { ApiError } from '@/api/client'
import LoginView from '@/views/LoginView.vue'
import DeckView from '@/views/DeckView.vue'
import MessagesView from '@/views/MessagesView.vue'
import ChatView from '@/views/ChatView.vue'
import UserView from '@/views/UserView.vue'
import LikesView from '@/views/LikesView.vue'
import ProfileView from '@/views/ProfileView.vue'
import VipView from '@/views/VipView.vue'
import RankView from '@/views/RankView.vue'
import SuspendedView from '@/views/SuspendedView.vue'

// `title` is an i18n key.
export const routes = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'login.title' } },
  { path: '/suspended', name: 'suspended', component: SuspendedView, meta: { public: true, title: 'suspended.title' } },
  { path: '/', name: 'deck', component: DeckView, meta: { title: 'nav.discover' } },
  { path: '/messages', name: 'messages', component: MessagesView, meta: { title: 'nav.messages' } },
  { path: '/matches', redirect: '/messages' },
  { path: '/chat/:id', name: 'chat', component: ChatView, meta: { title: 'chat.title' } },
  { path: '/users/:id', name: 'user', component: UserView, meta: { title: 'user.title' } },
  { path: '/likes', name: 'likes', component: LikesView, meta: { title: 'nav.likes' } },
  { path: '/profile', name: 'profile', component: ProfileView, meta: { title: 'profile.title' } },
  { path: '/vip', name: 'vip', component: VipView, meta: { title: 'nav.vip' } },
  { path: '/rank', name: 'rank', component: RankView, meta: { title: 'rank.title' } },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes,
    scrollBehavior: (to) => (to.hash ? { el: to.hash } : { top: 0 }),
  })

  router.beforeEach(async (to) => {
    const session = useSessionStore()
    try {
      await session.ensureChecked()
    } catch (e) {
      // Server unreachable: the offline screen explains and retries.
      if (e instanceof ApiError && e.code === -1) useUiStore().offline = true
      return true
    }
    if (!to.meta.public && !session.loggedIn) {
      return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    }
    if (to.name === 'login' && session.loggedIn) return '/'
    return true
  })

  return router
}
