// Sign in: how to get in (demo links for now, or the identity providers).
import { h } from '../dom.js'
import { t } from '../i18n.js'

export async function renderSignIn (main, { app }) {
  if (app.session) {
    app.navigate('/', { replace: true })
    return t('home.title')
  }
  main.append(
    h('section', { class: 'card narrow', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title', text: t('signin.title') }),
      h('p', { class: 'lead', text: t('signin.lead') }),
      h('h2', { text: t('signin.how') }),
      h('ul', { class: 'plain-list' },
        h('li', { text: t('signin.citizen.text') }),
        h('li', { text: t('signin.staff.text') })
      ),
      h('div', { class: 'button-row' },
        h('a', { class: 'button primary', href: '/auth/login/citizen', text: t('signin.citizen') }),
        h('a', { class: 'button', href: '/auth/login/staff', text: t('signin.staff') })
      ),
      h('h2', { text: t('signin.demo.title') }),
      h('p', { text: t('signin.demo.text') }),
      h('p', { class: 'hint', text: t('signin.privacy') })
    )
  )
  return t('signin.title')
}
