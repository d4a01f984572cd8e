import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// One renderer for both hosts: relative asset paths so Electron can load it from file:// and the web host from /.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
});
