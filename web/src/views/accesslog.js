// "Hvem har sett planen min": the access log in plain words.
import { h } from '../dom.js'
import { api } from '../api.js'
import { t, formatDate, formatDateTime } from '../i18n.js'
import { planNav } from './common.js'

export async function renderAccessLog (main, { params: [planId] }) {
  const [plan, log] = await Promise.all([
    api.get(`/api/plans/${planId}`),
    api.get(`/api/plans/${planId}/access-log?limit=500`)
  ])
  const sections = new Map(plan.sections.map((s) => [s.id, s.title]))
  const measures = new Map(plan.measures.map((m) => [m.id, m.title]))
  main.append(h('h1', { text: t('log.title') }), planNav(planId, 'log', plan.me.role),
    h('p', { class: 'lead', text: t('log.lead') }))

  const filter = h('select', { id: 'log-filter' }, [
    h('option', { value: '', text: t('log.filter.all') }),
    ...[...new Set(log.entries.map((e) => e.actor))].sort().map((name) => h('option', { value: name, text: name }))
  ])
  main.append(h('div', { class: 'field inline-field' }, h('label', { for: 'log-filter', text: t('log.filter') }), filter))

  const body = h('tbody')
  const table = h('table', { class: 'log-table' },
    h('caption', { class: 'visually-hidden', text: t('log.title') }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: t('log.when') }),
      h('th', { scope: 'col', text: t('log.who') }),
      h('th', { scope: 'col', text: t('log.what') }),
      h('th', { scope: 'col', text: t('log.which') }))),
    body)
  const render = () => {
    body.replaceChildren()
    const rows = log.entries.filter((e) => !filter.value || e.actor === filter.value)
    if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: '4', text: t('log.empty') })))
    for (const e of rows) {
      body.append(h('tr', { class: `log-${e.action}${e.refusals ? ' log-counted' : ''}` },
        h('td', { text: formatDateTime(e.at) }),
        h('td', { text: e.actor || t('log.someone') }),
        h('td', { text: actionText(e) }),
        h('td', { text: describe(e.target, sections, measures) })))
    }
  }
  filter.addEventListener('change', render)
  render()
  main.append(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': t('log.title') }, table))
  return t('log.title')
}

/**
 * What happened, in words. Refusals are counted per person and day: someone
 * with no role in the plan gets one entry with the day's count ("12 avviste
 * forsøk av X 1. desember"); a participant's first entry of the day says how
 * many more there were than the entries listed.
 */
export function actionText (e) {
  const counted = e.refusals
  if (e.action === 'denied' && counted) {
    if (counted.outsider) {
      return t('log.denied.summary', { count: counted.count, name: e.actor || t('log.someone'), date: formatDate(counted.day) })
    }
    if (counted.count > counted.listed) {
      return `${t('log.action.denied')} (${t('log.denied.more', { count: counted.count, hidden: counted.count - counted.listed })})`
    }
  }
  return t(`log.action.${e.action}`)
}

export function describe (target, sections, measures) {
  if (!target) return ''
  const parts = target.split(':')
  if (target === 'plan') return t('log.target.plan')
  if (target === 'consent') return t('log.target.consent')
  if (target === 'access-log') return t('log.target.log')
  if (parts[0] === 'doc' && parts[1] === 'plan') {
    if (parts[3] === 'section') return t('log.target.section', { title: sections.get(parts[4]) ?? t('log.hidden') })
    if (parts[3] === 'measure') return t('log.target.measure', { title: measures.get(parts[4]) ?? t('log.hidden') })
  }
  if (parts[0] === 'doc' && parts[1] === 'meeting') return t('log.target.minutes.item')
  if (parts[0] === 'section') return t('log.target.section', { title: sections.get(parts[1]) ?? t('log.hidden') })
  if (parts[0] === 'measure') return t('log.target.measure', { title: measures.get(parts[1]) ?? t('log.hidden') })
  if (parts[0] === 'meeting') return t('log.target.meeting')
  if (parts[0] === 'minutes') return t('log.target.minutes')
  if (parts[0] === 'participant') return t('log.target.participant')
  return t(`log.target.other`)
}
