import { computed, onBeforeUnmount, ref } from 'vue'

/**
 * A seconds countdown, e.g. for the SMS resend interval the API returns.
 * Based on the wall clock, so a throttled background tab stays correct.
 */
export function useCountdown() {
  const remaining = ref(0)
  let deadline = 0
  let timer: ReturnType<typeof setInterval> | null = null

  function tick() {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000))
    remaining.value = left
    if (left === 0) stop()
  }

  function start(seconds: number) {
    stop()
    if (!(seconds > 0)) {
      remaining.value = 0
      return
    }
    deadline = Date.now() + seconds * 1000
    remaining.value = Math.ceil(seconds)
    timer = setInterval(tick, 250)
  }

  function stop() {
    if (timer) clearInterval(timer)
    timer = null
  }

  onBeforeUnmount(stop)

  const running = computed(() => remaining.value > 0)
  return { remaining, running, start, stop }
}
