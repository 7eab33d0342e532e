// "Mine planer": the owner's plan with coordinator, next meeting and recent
// changes; a coordinator's plans with overdue evaluations and measures first.
import { h, append } from '../dom.js'
import { api } from '../api.js'
import { t } from '../i18n.js'
import { contactCard, roleName, flag, formatDate, formatDateTime } from './common.js'

export async function renderHome (main, { app }) {
  main.append(h('h1', { text: t('home.title') }), h('p', { class: 'lead', text: t('home.hello', { name: app.session.name }) }))
  const [{ plans }, asked] = await Promise.all([
    api.get('/api/plans'),
    api.get('/api/guardian-notices').catch(() => ({ notices: [] }))
  ])
  for (const notice of asked.notices) main.append(guardianNotice(notice))
  // The header's links are folded away on a phone: the worklist (and the unit's page)
  // are reached from here too.
  const start = h('p', { class: 'button-row start-plan' },
    h('a', { class: 'button primary', href: '/ny-plan', 'data-link': '', text: t('home.start') }),
    h('a', { class: 'button', href: '/arbeidsliste', 'data-link': '', text: t('home.worklist') }),
    app.session.can?.unit_overview ? h('a', { class: 'button', href: '/enhet', 'data-link': '', text: t('nav.unit') }) : null)
  if (plans.length === 0) {
    main.append(h('p', { text: t('home.none') }), start)
    return t('home.title')
  }
  main.append(start)
  await renderNotices(main, plans)
  const cards = await Promise.all(plans.map((plan) => loadCard(plan)))
  // Overdue first, then by title.
  cards.sort((a, b) => (b.urgent - a.urgent) || a.plan.title.localeCompare(b.plan.title))
  const list = h('ul', { class: 'plan-list' })
  for (const card of cards) list.append(h('li', {}, card.el))
  main.append(list)
  return t('home.title')
}

// Notices of consent changes the owner or a guardian did not make, with a way to the
// consent page (where the change can be undone) and to mark them read.
async function renderNotices (main, plans) {
  const data = await api.get('/api/notifications').catch(() => null)
  const unread = (data?.notifications ?? []).filter((n) => !n.read)
  if (!unread.length) return
  const titleOf = new Map(plans.map((p) => [p.id, p.title]))
  const list = h('ul', { class: 'notice-list' })
  for (const notice of unread) {
    const read = h('button', { type: 'button', class: 'button', text: t('notice.read') })
    const item = h('li', {},
      h('p', { text: notice.kind === 'consent-changed' ? t('notice.consent.changed', { name: notice.actor.name, role: roleName(notice.actor.role), version: notice.version }) : notice.text }),
      h('p', { class: 'meta', text: `${titleOf.get(notice.plan) ?? ''} · ${formatDateTime(notice.at)}` }),
      h('div', { class: 'button-row' },
        h('a', { class: 'button primary', href: `/plan/${notice.plan}/samtykke`, text: t('notice.open') }), read))
    read.addEventListener('click', async () => {
      read.disabled = true
      await api.post(`/api/notifications/${notice.id}/read`).catch(() => { read.disabled = false })
      if (read.disabled) item.remove()
      if (!list.children.length) box.remove()
    })
    list.append(item)
  }
  const box = h('section', { class: 'card notices', 'aria-labelledby': 'notices-title' },
    h('h2', { id: 'notices-title', text: t('notice.title', { count: unread.length }) }), list)
  main.append(box)
}

async function loadCard (plan) {
  const id = plan.id
  const personal = plan.can?.personal_overview === true
  const [overdue, meetings, changes, people] = await Promise.all([
    api.get(`/api/plans/${id}/overdue`).catch(() => null),
    api.get(`/api/plans/${id}/meetings`).catch(() => ({ meetings: [] })),
    personal ? api.get(`/api/plans/${id}/changes`).catch(() => null) : null,
    personal ? api.get(`/api/plans/${id}/participants`).catch(() => null) : null
  ])
  const flagged = overdue?.measures ?? []
  const evalOverdue = overdue?.plan_evaluation_overdue === true
  const urgent = flagged.length + (evalOverdue ? 1 : 0)
  const headingId = `plan-${id}-title`
  const el = h('article', { class: ['card', 'plan-card', urgent ? 'urgent' : ''], 'aria-labelledby': headingId },
    h('h2', { id: headingId }, h('a', { href: `/plan/${id}`, 'data-link': '', text: plan.title })),
    h('p', { class: 'meta', text: `${t('home.role')}: ${roleName(plan.role)}` })
  )
  if (urgent) {
    const items = h('ul', { class: 'overdue-list' })
    if (evalOverdue) items.append(h('li', {}, flag(t('overdue.plan', { date: formatDate(overdue.next_evaluation) }))))
    for (const m of flagged) {
      items.append(h('li', {},
        h('span', { text: m.title }), ' ',
        m.overdue.map((reason) => flag(t(`overdue.${reason}`)))))
    }
    append(el, [h('h3', { text: t('home.overdue') }), items])
  } else if (overdue) {
    el.append(h('p', { text: t('home.overdue.none') }),
      h('p', { text: t('home.next.evaluation', { date: formatDate(overdue.next_evaluation) }) }))
  }
  const next = nextMeeting(meetings.meetings)
  el.append(h('h3', { text: t('home.next.meeting') }))
  if (next) {
    el.append(h('p', {},
      h('a', { href: `/mote/${next.id}`, 'data-link': '', text: `${next.title}, ${formatDateTime(next.starts_at)}` }),
      next.place ? ` – ${next.place}` : '',
      next.status === 'live' ? [' ', flag(t('meeting.status.live'), 'live')] : null))
  } else {
    el.append(h('p', { text: t('home.no.meeting') }))
  }
  if (people) {
    const coordinator = people.participants.find((p) => p.contact_person)
    if (coordinator) el.append(h('h3', { text: t('home.coordinator') }), contactCard(coordinator))
  }
  if (changes) {
    el.append(h('h3', { text: t('home.changes') }))
    const recent = changes.changes.slice(-8).reverse()
    if (recent.length === 0) el.append(h('p', { text: t('home.changes.none') }))
    else {
      el.append(h('ul', { class: 'changes' }, recent.map((c) => h('li', {},
        h('span', { text: `${t(`entity.${c.entity}`)}: ${c.title}` }), ' ',
        h('span', { class: 'meta', text: `${t(`change.${c.change}`)}, ${formatDateTime(c.at)}` })))))
    }
  }
  el.append(h('p', { class: 'button-row' },
    h('a', { class: 'button primary', href: `/plan/${id}`, 'data-link': '', text: t('home.open') }),
    h('a', { class: 'button', href: `/plan/${id}/moter`, 'data-link': '', text: t('nav.meetings') })))
  return { el, urgent, plan }
}

function nextMeeting (meetings) {
  const soon = Date.now() - 6 * 3600 * 1000
  const open = meetings.filter((m) => m.status === 'live' || (m.status === 'scheduled' && Date.parse(m.starts_at) >= soon))
  open.sort((a, b) => (a.status === 'live' ? -1 : 0) - (b.status === 'live' ? -1 : 0) || Date.parse(a.starts_at) - Date.parse(b.starts_at))
  return open[0] ?? null
}

/**
 * Before a guardian's full access ends (the owner's 18th birthday, or a date the
 * owner chose), the owner is asked what the guardian keeps: full access for
 * another year, what the owner grants in the consent, or nothing.
 */
export function guardianNotice (notice) {
  const headingId = `guardian-${notice.participant}-title`
  const status = h('p', { role: 'status', class: 'meta' })
  const answer = (keep) => async () => {
    const body = keep === 'full' ? { keep, months: 12 } : { keep }
    await api.post(`/api/plans/${notice.plan}/guardians/${notice.participant}/answer`, body)
    buttons.replaceChildren()
    status.textContent = t('guardian.answered')
    if (keep === 'consent') {
      buttons.append(h('a', { class: 'button', href: `/plan/${notice.plan}/samtykke`, 'data-link': '', text: t('nav.consent') }))
    }
  }
  const buttons = h('p', { class: 'button-row' },
    h('button', { type: 'button', class: 'button', onclick: answer('full'), text: t('guardian.keep.full') }),
    h('button', { type: 'button', class: 'button', onclick: answer('consent'), text: t('guardian.keep.consent') }),
    h('button', { type: 'button', class: 'button', onclick: answer('none'), text: t('guardian.keep.none') }))
  return h('section', { class: 'notice guardian-notice', 'aria-labelledby': headingId },
    h('h2', { id: headingId, text: t('guardian.notice.title', { name: notice.name }) }),
    h('p', {
      text: t('guardian.notice.text', {
        name: notice.name, plan: notice.plan_title, date: formatDate(notice.ends), days: notice.days_left
      })
    }),
    buttons, status)
}
