// Planrom's browser client: the app shell (header, save status, language),
// History API routing and sign-in state. Screens live in ./views/.
import { h, clear, options } from './dom.js'
import { api, setCsrf, ApiError } from './api.js'
import { t, initLanguage, setLanguage, language, onLanguage, LANGUAGES } from './i18n.js'
import { events, getSocket, overallStatus, hasUnsaved, closeSocket } from './realtime.js'
import { Scope } from './scope.js'
import { renderSignIn } from './views/signin.js'
import { renderHome } from './views/home.js'
import { renderPlan } from './views/plan.js'
import { renderMeeting } from './views/meeting.js'
import { renderConsent } from './views/consent.js'
import { renderAccessLog } from './views/accesslog.js'
import { renderMeetings, renderMinutes } from './views/meetings.js'
import { renderWorklist } from './views/worklist.js'
import { renderUnit } from './views/unit.js'
import { renderBuild } from './views/build.js'
import { renderNewPlan } from './views/newplan.js'
import { renderGroup } from './views/group.js'

const ROUTES = [
  [/^\/$/, renderHome, true],
  [/^\/logg-inn$/, renderSignIn, false],
  [/^\/arbeidsliste$/, renderWorklist, true],
  [/^\/enhet$/, renderUnit, true],
  [/^\/ny-plan$/, renderNewPlan, true],
  [/^\/plan\/([a-z0-9]{4,32})$/, renderPlan, true],
  [/^\/plan\/([a-z0-9]{4,32})\/gruppe$/, renderGroup, true],
  [/^\/plan\/([a-z0-9]{4,32})\/bygg$/, renderBuild, true],
  [/^\/plan\/([a-z0-9]{4,32})\/samtykke$/, renderConsent, true],
  [/^\/plan\/([a-z0-9]{4,32})\/innsyn$/, renderAccessLog, true],
  [/^\/plan\/([a-z0-9]{4,32})\/moter$/, renderMeetings, true],
  [/^\/mote\/([a-z0-9]{4,32})$/, renderMeeting, true],
  // Calendar invitations sent before the link pointed at /mote/<id> (server/ics.py).
  [/^\/meetings\/([a-z0-9]{4,32})$/, renderMeeting, true],
  [/^\/mote\/([a-z0-9]{4,32})\/referat$/, renderMinutes, true]
]

export const app = {
  session: null,
  main: null,
  scope: null,
  navigate,
  refresh: () => route(),
  announce
}

function announce (message) {
  const region = document.getElementById('announcer')
  if (!region) return
  region.textContent = ''
  setTimeout(() => { region.textContent = message }, 50)
}

export function navigate (path, { replace = false } = {}) {
  if (replace) history.replaceState({}, '', path)
  else history.pushState({}, '', path)
  route()
}

function statusText (status) {
  return t(`status.${status}`)
}

function renderStatus () {
  const el = document.getElementById('save-status')
  if (!el) return
  const status = app.session ? overallStatus() : 'saved'
  const key = status === 'offline-unsaved' ? 'offline' : status
  el.dataset.status = key
  const text = statusText(key)
  if (el.textContent !== text) el.textContent = text
}

function shell () {
  const root = document.getElementById('app')
  clear(root)
  const langSelect = h('select', {
    id: 'lang',
    onchange: (e) => setLanguage(e.target.value)
  }, options(Object.keys(LANGUAGES).map((k) => [k, LANGUAGES[k]['lang.name']]), language()))
  const signedIn = app.session !== null
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '/', 'data-link': '' }, t('app.name')),
    signedIn ? h('nav', { 'aria-label': t('nav.label') },
      h('a', { href: '/', 'data-link': '', text: t('nav.home') }),
      h('a', { href: '/arbeidsliste', 'data-link': '', text: t('nav.worklist') }),
      app.session.can?.unit_overview ? h('a', { href: '/enhet', 'data-link': '', text: t('nav.unit') }) : null) : null,
    signedIn ? h('p', { id: 'save-status', class: 'save-status', role: 'status', 'aria-live': 'polite' }) : null,
    h('div', { class: 'topbar-tools' },
      h('label', { for: 'lang', class: 'visually-hidden', text: t('lang.choose') }),
      langSelect,
      signedIn ? h('span', { class: 'who', text: app.session.name }) : null,
      signedIn ? h('button', { type: 'button', class: 'link-button', onclick: logout, text: t('nav.logout') }) : null
    )
  )
  const main = h('main', { id: 'main', tabindex: '-1' })
  root.append(
    h('a', { class: 'skip-link', href: '#main', text: t('nav.skip') }),
    header,
    main
  )
  if (!document.getElementById('announcer')) {
    // Outside #app, so that a message survives the re-render that often follows it.
    document.body.append(h('div', { id: 'announcer', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' }))
  }
  app.main = main
  renderStatus()
}

async function logout () {
  try {
    await api.post('/api/session/logout', {})
  } catch {}
  closeSocket()
  app.session = null
  navigate('/logg-inn')
}

async function loadSession () {
  try {
    const session = await api.get('/api/session')
    setCsrf(session.csrf)
    app.session = session
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err
    app.session = null
  }
}

let routeToken = 0

async function route () {
  const token = ++routeToken
  if (app.scope) app.scope.dispose()
  const path = location.pathname.replace(/\/+$/, '') || '/'
  let match = null
  let view = null
  let needsAuth = true
  for (const [pattern, fn, auth] of ROUTES) {
    match = path.match(pattern)
    if (match) { view = fn; needsAuth = auth; break }
  }
  if (needsAuth && app.session === null) {
    history.replaceState({}, '', '/logg-inn')
    view = renderSignIn
    match = ['/logg-inn']
  }
  shell()
  const scope = new Scope()
  app.scope = scope
  if (app.session) {
    getSocket()
    scope.listen(events, 'status', renderStatus)
    scope.listen(events, 'connection', renderStatus)
    scope.listen(events, 'unauthenticated', () => { app.session = null; navigate('/logg-inn', { replace: true }) })
  }
  if (view === null) {
    app.main.append(h('h1', { text: t('notfound.title') }), h('p', {}, h('a', { href: '/', 'data-link': '', text: t('nav.home') })))
    document.title = `${t('notfound.title')} – ${t('app.name')}`
    return
  }
  try {
    const title = await view(app.main, { params: match.slice(1), scope, app })
    if (token !== routeToken) return
    document.title = title ? `${title} – ${t('app.name')}` : t('app.name')
  } catch (err) {
    if (token !== routeToken) return
    console.error(err)
    clear(app.main)
    const notFound = err instanceof ApiError && (err.status === 404 || err.status === 403)
    app.main.append(
      h('h1', { text: notFound ? t('notfound.title') : t('error.title') }),
      h('p', { text: notFound ? t('notfound.text') : t('error.text') }),
      h('p', {}, h('a', { href: '/', 'data-link': '', text: t('nav.home') }))
    )
    document.title = `${t('error.title')} – ${t('app.name')}`
  }
  const heading = app.main.querySelector('h1')
  // A screen that has already put the focus somewhere on purpose (a measure a worklist
  // row asked for) keeps it; otherwise the new screen's heading takes it.
  const placed = app.main.contains(document.activeElement) && document.activeElement !== app.main
  if (heading && routed && !placed) {
    heading.setAttribute('tabindex', '-1')
    heading.focus({ preventScroll: false })
  }
  routed = true
}

let routed = false

function onClick (event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const link = event.target.closest('a[data-link]')
  if (!link || link.target || link.hasAttribute('download')) return
  const url = new URL(link.href)
  if (url.origin !== location.origin) return
  event.preventDefault()
  if (url.pathname !== location.pathname) navigate(url.pathname + url.search)
}

async function boot () {
  initLanguage()
  document.addEventListener('click', onClick)
  window.addEventListener('popstate', () => route())
  window.addEventListener('beforeunload', (event) => {
    if (hasUnsaved()) {
      event.preventDefault()
      event.returnValue = ''
    }
  })
  onLanguage(() => route())
  await loadSession()
  await route()
}

boot()
