// The coordinating unit's page (koordinerende enhet): every plan's status without its
// content (GET /api/unit), the caseload per coordinator, counts and monthly trends, and
// the same as CSV for internal control. Plans are named by a neutral reference only.
import { h, uid } from '../dom.js'
import { api, ApiError } from '../api.js'
import { t, formatDate, locale } from '../i18n.js'
import { flag } from './common.js'

const COUNTS = ['active', 'evaluated_on_time', 'evaluation_overdue', 'sleeping', 'without_coordinator', 'closed']

function table (caption, columns, rows, cls = '') {
  return h('div', { class: 'stack-table' },
    h('table', { class: ['unit-table', cls] },
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, i) =>
        h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, 'data-label': columns[i] }, cell)))))))
}

export function monthName (month) {
  const [year, m] = month.split('-').map(Number)
  return new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(year, m - 1, 15)))
}

export async function renderUnit (main) {
  main.append(h('h1', { text: t('unit.title') }), h('p', { class: 'lead', text: t('unit.lead') }))
  const page = await api.get('/api/unit')
  main.append(h('ul', { class: 'unit-counts' }, COUNTS.map((key) => h('li', { class: 'card' },
    h('span', { class: 'unit-count', text: String(page.counts[key]) }),
    h('span', { text: t(`unit.count.${key}`) })))))
  main.append(h('p', {}, h('a', { class: 'button', href: '/api/unit/export', download: '', text: t('unit.csv') })))

  main.append(h('h2', { text: t('unit.plans') }))
  const dash = t('unit.none')
  main.append(table(t('unit.plans.caption'),
    [t('unit.col.plan'), t('unit.col.coordinator'), t('unit.col.period'), t('unit.col.evaluation'), t('unit.col.meeting'), t('unit.col.overdue'), t('unit.col.status')],
    page.rows.map((r) => [
      r.ref,
      r.coordinators.length ? r.coordinators.join(', ') : flag(t('unit.no.coordinator')),
      `${formatDate(r.period_from)} – ${r.period_to ? formatDate(r.period_to) : t('unit.open.ended')}`,
      r.evaluation_overdue ? flag(t('unit.overdue', { date: formatDate(r.next_evaluation) })) : formatDate(r.next_evaluation),
      r.last_meeting ? formatDate(r.last_meeting) : dash,
      String(r.overdue_measures),
      r.status === 'closed' ? t('unit.status.closed') : r.sleeping ? flag(t('unit.status.sleeping')) : t('unit.status.active')
    ])))

  main.append(appointForm(page.rows))

  main.append(h('h2', { text: t('unit.caseload') }))
  main.append(page.caseload.length
    ? table(t('unit.caseload.caption'), [t('unit.col.coordinator'), t('unit.col.plans')], page.caseload.map((c) => [c.coordinator, String(c.plans)]), 'narrow')
    : h('p', { text: dash }))

  const verdict = await api.get('/api/unit/survey').catch(() => null)
  if (verdict) {
    main.append(h('h2', { text: t('unit.survey') }))
    main.append(verdict.hidden
      ? h('p', { text: t('unit.survey.hidden', { count: verdict.answers }) })
      : table(t('unit.survey.caption', { count: verdict.answers }), [t('unit.col.question'), ...['yes', 'partly', 'no', 'unsure'].map((a) => t(`survey.a.${a}`))],
        Object.entries(verdict.questions).map(([q, counts]) => [t(`survey.q.${q}`), ...['yes', 'partly', 'no', 'unsure'].map((a) => String(counts[a]))])))
  }
  main.append(h('h2', { text: t('unit.trends') }))
  main.append(table(t('unit.trends.caption'), [t('unit.col.month'), t('unit.col.started'), t('unit.col.held')],
    page.trends.map((m) => [monthName(m.month), String(m.plans_started), String(m.meetings_held)]), 'narrow'))
  return t('unit.title')
}

// Appoint a plan's coordinator (the one there is leaves the group; the owner is told),
// recording what the owner wished for.
function appointForm (rows) {
  const active = rows.filter((r) => r.status === 'active')
  const ids = { plan: uid('plan'), name: uid('name'), org: uid('org'), email: uid('email'), wish: uid('wish') }
  const status = h('p', { role: 'status' })
  const form = h('form', { class: 'card appoint-form', 'aria-labelledby': 'appoint-title' },
    h('h2', { id: 'appoint-title', text: t('unit.appoint') }),
    h('p', { class: 'hint', text: t('unit.appoint.hint') }),
    h('div', { class: 'field' }, h('label', { for: ids.plan, text: t('unit.col.plan') }),
      h('select', { id: ids.plan, name: 'plan' }, active.map((r) =>
        h('option', { value: r.plan, text: `${r.ref} – ${r.coordinators.join(', ') || t('unit.no.coordinator')}` })))),
    h('div', { class: 'field' }, h('label', { for: ids.name, text: t('unit.appoint.name') }), h('input', { id: ids.name, name: 'name', required: true, maxlength: '200' })),
    h('div', { class: 'field' }, h('label', { for: ids.org, text: t('unit.appoint.org') }), h('input', { id: ids.org, name: 'organisation', maxlength: '200' })),
    h('div', { class: 'field' }, h('label', { for: ids.email, text: t('unit.appoint.email') }), h('input', { id: ids.email, name: 'email', type: 'email', maxlength: '320' })),
    h('div', { class: 'field' }, h('label', { for: ids.wish, text: t('unit.appoint.wish') }), h('textarea', { id: ids.wish, name: 'owner_wish', rows: '3', maxlength: '1000' })),
    h('p', { class: 'button-row' }, h('button', { type: 'submit', class: 'button primary', text: t('unit.appoint.send') })),
    status)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const data = Object.fromEntries(new FormData(form).entries())
    const plan = data.plan
    delete data.plan
    if (!data.email) delete data.email
    if (!data.organisation) delete data.organisation
    try {
      const done = await api.post(`/api/unit/plans/${plan}/coordinator`, data)
      status.textContent = t('unit.appoint.done', { name: done.coordinator, ref: done.ref })
    } catch (err) {
      status.replaceChildren(h('span', { class: 'field-error', text: err instanceof ApiError ? err.message : t('error.text') }))
    }
  })
  return form
}
