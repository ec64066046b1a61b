import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    setupFiles: ['__tests__/setup/quiet.ts'],
    // Process-level tests spawn node and loopback servers; two cores are shared.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks'
  }
})
