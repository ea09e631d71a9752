import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import LoginView from '@/views/LoginView.vue'
import DeckView from '@/views/DeckView.vue'
import MatchesView from '@/views/MatchesView.vue'
import UserView from '@/views/UserView.vue'
import LikesView from '@/views/LikesView.vue'
import ProfileView from '@/views/ProfileView.vue'
import VipView from '@/views/VipView.vue'
import RankView from '@/views/RankView.vue'

export const routes = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'Log in' } },
  { path: '/', name: 'deck', component: DeckView, meta: { title: 'Discover' } },
  { path: '/matches', name: 'matches', component: MatchesView, meta: { title: 'Matches' } },
  { path: '/users/:id', name: 'user', component: UserView, meta: { title: 'Profile' } },
  { path: '/likes', name: 'likes', component: LikesView, meta: { title: 'Likes you' } },
  { path: '/profile', name: 'profile', component: ProfileView, meta: { title: 'Your profile' } },
  { path: '/vip', name: 'vip', component: VipView, meta: { title: 'VIP' } },
  { path: '/rank', name: 'rank', component: RankView, meta: { title: 'Hot rank' } },
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
    } catch {
      // Server unreachable: let the page show its own error.
      return true
    }
    if (!to.meta.public && !session.loggedIn) {
      return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    }
    if (to.name === 'login' && session.loggedIn) return '/'
    return true
  })

  router.afterEach((to) => {
    const t = to.meta.title as string | undefined
    document.title = t ? `${t} · Swiper` : 'Swiper'
  })

  return router
}
