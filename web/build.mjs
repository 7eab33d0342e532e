// Builds the web client into dist/ (served by the server under /static/):
//   - src/main.js bundled into dist/app.js (ES2020, minified, with a source map)
//   - every file in static/ (index.html, app.css, icons) copied alongside, app.css minified
// and prints the bundle size. Run with `npm run build` from web/.
import { build } from 'esbuild'
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = dirname(fileURLToPath(import.meta.url))
const dist = join(root, 'dist')
const outfile = join(dist, 'app.js')

mkdirSync(dist, { recursive: true })
await build({
  entryPoints: [join(root, 'src', 'main.js')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning'
})

const staticDir = join(root, 'static')
if (existsSync(staticDir)) cpSync(staticDir, dist, { recursive: true })
// The stylesheet is minified over its copy (served as /static/app.css; the CSP allows
// only stylesheets from 'self').
const css = join(staticDir, 'app.css')
if (existsSync(css)) {
  await build({ entryPoints: [css], outfile: join(dist, 'app.css'), bundle: true, minify: true, logLevel: 'warning' })
}

console.log(`dist/app.js: ${statSync(outfile).size} bytes`)
