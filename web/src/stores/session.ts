import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { endpoints } from '@/api/endpoints'
import { ApiError } from '@/api/client'
import type { Me, Profile } from '@/api/types'

const SETUP_KEY = 'swiper.setup'

function readSetup(): number | null {
  try {
    const v = localStorage.getItem(SETUP_KEY)
    return v && /^\d+$/.test(v) ? Number(v) : null
  } catch {
    return null
  }
}
function writeSetup(id: number | null) {
  try {
    if (id == null) localStorage.removeItem(SETUP_KEY)
    else localStorage.setItem(SETUP_KEY, String(id))
  } catch {
    // Private mode: the prompt simply shows for this visit.
  }
}

/** The logged-in user. Authentication itself is the HttpOnly cookie. */
export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const profile = ref<Profile | null>(null)
  /** True once we asked the server who we are (logged in or not). */
  const checked = ref(false)
  /** The id of a user who registered here and has not set up a profile yet. */
  const setupFor = ref<number | null>(readSetup())
  /** The last login attempt answered 1013. */
  const suspended = ref(false)

  const loggedIn = computed(() => me.value !== null)
  const permissions = computed(() => me.value?.vip.permissions ?? [])
  const needsSetup = computed(() => me.value !== null && setupFor.value === me.value.id)
  function can(permission: string): boolean {
    return permissions.value.includes(permission)
  }

  async function fetchMe(): Promise<Me | null> {
    try {
      me.value = await endpoints.me()
    } catch (e) {
      if (e instanceof ApiError && (e.code === 1010 || e.code === 1013)) me.value = null
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
    suspended.value = false
    if (res.created) {
      setupFor.value = res.user.id
      writeSetup(res.user.id)
    }
    return res
  }

  /** The new user set up their profile, or chose to do it later. */
  function setupDone() {
    setupFor.value = null
    writeSetup(null)
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

  /** Delete the account on the server, then forget everything here. */
  async function deleteAccount() {
    await endpoints.deleteMe()
    setupDone()
    clear()
  }

  async function loadProfile(): Promise<Profile> {
    profile.value = await endpoints.profile()
    return profile.value
  }

  return {
    me, profile, checked, setupFor, suspended, loggedIn, permissions, needsSetup, can, fetchMe, ensureChecked,
    requestCode, login, setupDone, logout, clear, deleteAccount, loadProfile,
  }
})
