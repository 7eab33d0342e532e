// "Hvem har sett planen min": the access log in plain words. The server groups
// edits per person, document and hour ("Siw Nilsen endret «Arbeid og aktivitet»
// 14 ganger"), names only what the reader may see, and says why each access was
// allowed; this screen shows its lines, folds the reader's own views away unless
// asked, filters by person and period, pages with "Vis flere", and links the
// CSV and PDF exports of the same lines.
import { h } from '../dom.js'
import { api } from '../api.js'
import { t, language } from '../i18n.js'
import { planNav } from './common.js'

export const PAGE_SIZE = 30

/** The query string for the lines or an export, from the screen's filters. */
export function logQuery ({ person = '', from = '', to = '', own = false, page = 1, size = PAGE_SIZE, lang = 'nb', format = '' }) {
  const q = new URLSearchParams()
  if (format) q.set('format', format)
  else {
    q.set('page', String(page))
    q.set('size', String(size))
  }
  if (person) q.set('person', person)
  if (from) q.set('from', from)
  if (to) q.set('to', to)
  if (own) q.set('own', '1')
  q.set('lang', lang)
  return q.toString()
}

/** The small print under a line: when (Norwegian time), and why access was allowed. */
export function lineMeta (line) {
  return [line.when, line.why, line.refusals?.text].filter(Boolean).join(' · ')
}

export async function renderAccessLog (main, { params: [planId] }) {
  const plan = await api.get(`/api/plans/${planId}`)
  main.append(h('h1', { text: t('log.title') }), planNav(planId, 'log', plan.can),
    h('p', { class: 'lead', text: t('log.lead') }))

  const state = { person: '', from: '', to: '', own: false, page: 1 }
  const person = h('select', { id: 'log-person' }, h('option', { value: '', text: t('log.filter.all') }))
  const from = h('input', { id: 'log-from', type: 'date' })
  const to = h('input', { id: 'log-to', type: 'date' })
  const own = h('input', { id: 'log-own', type: 'checkbox' })
  const filters = h('form', { class: 'log-controls', 'aria-label': t('log.filters') },
    h('div', { class: 'field' }, h('label', { for: 'log-person', text: t('log.filter') }), person),
    h('div', { class: 'field' }, h('label', { for: 'log-from', text: t('log.from') }), from),
    h('div', { class: 'field' }, h('label', { for: 'log-to', text: t('log.to') }), to),
    h('div', { class: 'field check-field' }, own, h('label', { for: 'log-own', text: t('log.own') })))
  const folded = h('p', { class: 'meta log-folded', role: 'status' })
  const list = h('ol', { class: 'log-lines', 'aria-label': t('log.title') })
  const more = h('button', { type: 'button', class: 'button', text: t('log.more') })
  const csv = h('a', { class: 'button', download: '', text: t('log.export.csv') })
  const pdf = h('a', { class: 'button', download: '', text: t('log.export.pdf') })
  main.append(filters, folded, list, h('p', { class: 'button-row' }, more),
    h('h2', { text: t('log.export') }),
    h('p', { class: 'meta', text: t('log.export.note') }),
    h('p', { class: 'button-row' }, csv, pdf))

  let peopleFilled = false
  const load = async (append) => {
    const lang = language()
    const data = await api.get(`/api/plans/${planId}/access-log/lines?${logQuery({ ...state, lang })}`)
    if (!peopleFilled) {
      for (const p of data.people) person.append(h('option', { value: p.id, text: p.name }))
      peopleFilled = true
    }
    if (!append) list.replaceChildren()
    for (const line of data.lines) {
      list.append(h('li', { class: ['log-line', `log-${line.action}`, line.own ? 'log-own' : ''] },
        h('p', { class: 'log-text', text: line.text }),
        h('p', { class: 'meta', text: lineMeta(line) })))
    }
    if (!list.children.length) list.append(h('li', { class: 'log-line', text: t('log.empty') }))
    folded.textContent = data.folded ? t('log.folded', { count: data.folded }) : ''
    more.hidden = !data.more
    const exportQuery = (format) => logQuery({ ...state, lang, format })
    csv.href = `/api/plans/${planId}/access-log/export?${exportQuery('csv')}`
    pdf.href = `/api/plans/${planId}/access-log/export?${exportQuery('pdf')}`
  }
  const refilter = () => {
    Object.assign(state, { person: person.value, from: from.value, to: to.value, own: own.checked, page: 1 })
    return load(false)
  }
  filters.addEventListener('change', refilter)
  filters.addEventListener('submit', (event) => { event.preventDefault(); refilter() })
  more.addEventListener('click', () => {
    state.page += 1
    return load(true)
  })
  await load(false)
  return t('log.title')
}
