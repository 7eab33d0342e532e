// Sign in: the identity providers that are set up, and in demo mode a list of demo
// people to sign in as (the server refuses that list and that sign-in outside demo mode).
import { h } from '../dom.js'
import { api } from '../api.js'
import { t } from '../i18n.js'
import { roleName, errorText } from './common.js'

const PROVIDERS = ['citizen', 'staff']

async function demoOptions () {
  try {
    return await api.get('/api/demo/people')
  } catch {
    return null // not demo mode (or not reachable): no demo sign-in
  }
}

function demoSection (demo) {
  const error = h('p', { class: 'form-error', role: 'alert' })
  const list = h('ul', { class: 'demo-people plain-list' })
  for (const person of demo.people) {
    const parts = [...person.parts.map((p) => t('signin.demo.part', { role: roleName(p.role), plan: p.plan })),
      person.unit ? t('nav.unit') : null].filter(Boolean).join(' · ')
    const button = h('button', {
      type: 'button',
      class: 'button demo-person',
      'data-person': person.person,
      onclick: async () => {
        button.disabled = true
        error.textContent = ''
        try {
          await api.post('/api/demo/sign-in', { person: person.person })
          location.assign('/') // a fresh start with the new session
        } catch (err) {
          error.textContent = errorText(err)
          button.disabled = false
        }
      }
    }, h('span', { class: 'demo-name', text: person.name }), h('span', { class: 'demo-parts', text: parts }))
    list.append(h('li', {}, button))
  }
  return h('section', { class: 'demo-signin', 'aria-labelledby': 'demo-title' },
    h('h2', { id: 'demo-title', text: t('signin.demo.title') }),
    h('p', { text: demo.people.length ? t('signin.demo.pick') : t('signin.demo.none') }),
    list, error)
}

export async function renderSignIn (main, { app }) {
  if (app.session) {
    app.navigate('/', { replace: true })
    return t('home.title')
  }
  const demo = await demoOptions()
  // In demo mode only the providers that are set up are offered; otherwise both.
  const providers = demo ? PROVIDERS.filter((p) => demo.providers.includes(p)) : PROVIDERS
  const card = h('section', { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: t('signin.title') }),
    h('p', { class: 'lead', text: t('signin.lead') }))
  if (demo) card.append(demoSection(demo))
  if (providers.length) {
    card.append(
      h('h2', { text: t('signin.how') }),
      h('ul', { class: 'plain-list' }, providers.map((p) => h('li', { text: t(`signin.${p}.text`) }))),
      h('div', { class: 'button-row' }, providers.map((p, n) =>
        h('a', { class: n === 0 && !demo ? 'button primary' : 'button', href: `/auth/login/${p}`, text: t(`signin.${p}`) }))))
  }
  card.append(h('p', { class: 'hint', text: t('signin.privacy') }))
  main.append(card)
  return t('signin.title')
}
