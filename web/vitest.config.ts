import { defineConfig, mergeConfig, configDefaults } from 'vitest/config'
import viteConfig from './vite.config.ts'

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      environment: 'happy-dom',
      include: ['tests/**/*.spec.ts'],
      setupFiles: ['./tests/setup.ts'],
      exclude: [...configDefaults.exclude, 'e2e/**', 'dist/**'],
      reporters: ['default', './tests/summary-reporter.ts'],
    },
  }),
)
