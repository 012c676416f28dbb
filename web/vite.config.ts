// The web app is served by the server under /app/; `@insurge/client` is used from its TypeScript source.
import { defineConfig } from 'vite'

export default defineConfig({
  base: '/app/',
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://localhost:8000', '/ws': { target: 'ws://localhost:8000', ws: true } } },
})
