// Pieces several screens share.
import { h, uid } from '../dom.js'
import { t, formatDate, formatDateTime } from '../i18n.js'

// `can` is the plan's capabilities (GET /api/plans/{p}): the screens compare no roles.
export function planNav (planId, current, can) {
  const full = can?.read_access_log === true
  const links = [
    ['plan', `/plan/${planId}`, t('nav.plan')],
    ['group', `/plan/${planId}/gruppe`, t('nav.group')],
    can?.manage_plan ? ['build', `/plan/${planId}/bygg`, t('nav.build')] : null,
    ['meetings', `/plan/${planId}/moter`, t('nav.meetings')],
    ['consent', `/plan/${planId}/samtykke`, t('nav.consent')],
    full ? ['log', `/plan/${planId}/innsyn`, t('nav.log')] : null
  ].filter(Boolean)
  return h('nav', { class: 'subnav', 'aria-label': t('nav.plan.label') },
    h('ul', {}, links.map(([key, href, label]) => h('li', {},
      h('a', { href, 'data-link': '', 'aria-current': key === current ? 'page' : false, text: label })))))
}

export function roleName (role) {
  return t(`role.${role}`)
}

export function participantLabel (p) {
  const org = p.service || p.organisation
  return org ? `${p.name} (${org})` : p.name
}

export function contactCard (p) {
  return h('div', { class: 'contact' },
    h('p', { class: 'contact-name', text: p.name }),
    p.title || p.service || p.organisation
      ? h('p', { text: [p.title, p.service || p.organisation].filter(Boolean).join(', ') })
      : null,
    p.phone ? h('p', {}, `${t('contact.phone')}: `, h('a', { href: `tel:${p.phone.replace(/\s+/g, '')}`, text: p.phone })) : null,
    p.email ? h('p', {}, `${t('contact.email')}: `, h('a', { href: `mailto:${p.email}`, text: p.email })) : null
  )
}

export function today () {
  const d = new Date()
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** Overdue reasons for a measure record, as the client sees it. */
export function overdueReasons (measure) {
  if (measure.status === 'done' || measure.status === 'stopped') return []
  const now = today()
  const out = []
  if (measure.evaluate_by && measure.evaluate_by < now) out.push('evaluation')
  if (measure.ends && measure.ends < now) out.push('ended')
  return out
}

export function flag (text, kind = 'warn') {
  return h('span', { class: `flag flag-${kind}`, text })
}

export function loading () {
  return h('p', { class: 'loading', role: 'status', text: t('loading') })
}

export function errorText (err) {
  if (err && err.code === 'offline') return t('error.offline')
  if (err && err.message) return `${t('error.failed')} ${err.message}`
  return t('error.failed')
}

export function meetingWhen (m) {
  return formatDateTime(m.starts_at)
}

export { formatDate, formatDateTime }

// A refusal shown where it belongs: beside the form field the server named (in the
// error colour, tied to the field for screen readers), otherwise in `fallback`.
export function showError (form, err, fallback) {
  clearFieldErrors(form)
  const name = err?.field ? String(err.field).split('.').pop() : null
  const field = err?.field
    ? form.querySelector(`[name="${CSS.escape(String(err.field))}"]`) ?? form.querySelector(`[name="${CSS.escape(name)}"]`)
    : null
  if (!field || !err.message) {
    fallback.textContent = errorText(err)
    return
  }
  const note = h('p', { class: 'field-error', id: `${field.id || uid('f')}-error`, text: err.message })
  field.setAttribute('aria-invalid', 'true')
  field.dataset.describedBefore = field.getAttribute('aria-describedby') || ''
  field.setAttribute('aria-describedby', `${field.dataset.describedBefore} ${note.id}`.trim())
  field.insertAdjacentElement('afterend', note)
  field.focus()
}

export function clearFieldErrors (form) {
  for (const note of form.querySelectorAll('.field-error')) note.remove()
  for (const field of form.querySelectorAll('[aria-invalid="true"]')) {
    field.removeAttribute('aria-invalid')
    const before = field.dataset.describedBefore
    if (before) field.setAttribute('aria-describedby', before)
    else field.removeAttribute('aria-describedby')
    delete field.dataset.describedBefore
  }
}
