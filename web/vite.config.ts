import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { VitePWA } from 'vite-plugin-pwa'

// The build must be deterministic: `npm run check:dist` rebuilds into a temp
// dir and diffs it against the committed web/dist.
export default defineConfig({
  plugins: [
    vue(),
    VitePWA({
      // The app asks before it switches to a new version ("update available").
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['favicon.svg', 'icon.svg', 'apple-touch-icon.png'],
      manifest: {
        id: '/',
        name: 'Swiper',
        short_name: 'Swiper',
        description: 'Swipe, match, chat. 滑动、配对、聊天。',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#c8174f',
        categories: ['social', 'lifestyle'],
        icons: [
          { src: '/pwa-192x192.png', sizes: '192x192', type: 'image/png' },
          { src: '/pwa-512x512.png', sizes: '512x512', type: 'image/png' },
          { src: '/maskable-512x512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // The app shell only: the built JS, CSS, HTML and icons.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: '/index.html',
        // Navigations to the API, media and operational routes never get the shell.
        navigateFallbackDenylist: [/^\/api\//, /^\/media\//, /^\/healthz/, /^\/readyz/, /^\/metrics/],
        // No runtime caching at all: API answers and other people's photos
        // are never stored by the service worker.
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        clientsClaim: false,
        skipWaiting: false,
        sourcemap: false,
        inlineWorkboxRuntime: true,
      },
      devOptions: { enabled: false },
    }),
  ],
  base: '/',
  // vue-i18n build flags: Composition API only, no devtools hooks in production.
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    assetsInlineLimit: 4096,
    reportCompressedSize: false,
    // The timing report varies from run to run and is noise in CI logs.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/media': 'http://127.0.0.1:8080',
    },
  },
})
