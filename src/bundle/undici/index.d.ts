// The types are undici's own: index.cjs hands out undici's classes unchanged.
export * from 'undici/types/index.js'
