import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { endpoints } from '@/api/endpoints'
import { ApiError } from '@/api/client'
import type { Me, Profile } from '@/api/types'

/** The logged-in user. Authentication itself is the HttpOnly cookie. */
export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const profile = ref<Profile | null>(null)
  /** True once we asked the server who we are (logged in or not). */
  const checked = ref(false)

  const loggedIn = computed(() => me.value !== null)
  const permissions = computed(() => me.value?.vip.permissions ?? [])
  function can(permission: string): boolean {
    return permissions.value.includes(permission)
  }

  async function fetchMe(): Promise<Me | null> {
    try {
      me.value = await endpoints.me()
    } catch (e) {
      if (e instanceof ApiError && e.code === 1010) me.value = null
      else throw e
    } finally {
      checked.value = true
    }
    return me.value
  }

  async function ensureChecked(): Promise<void> {
    if (!checked.value) await fetchMe()
  }

  async function requestCode(phone: string) {
    return endpoints.requestCode(phone)
  }

  async function login(phone: string, code: string) {
    const res = await endpoints.login(phone, code)
    me.value = res.user
    checked.value = true
    profile.value = null
    return res
  }

  async function logout() {
    try {
      await endpoints.logout()
    } catch {
      // The cookie may already be gone; we are logged out either way.
    }
    clear()
  }

  function clear() {
    me.value = null
    profile.value = null
    checked.value = true
  }

  async function loadProfile(): Promise<Profile> {
    profile.value = await endpoints.profile()
    return profile.value
  }

  return { me, profile, checked, loggedIn, permissions, can, fetchMe, ensureChecked, requestCode, login, logout, clear, loadProfile }
})
