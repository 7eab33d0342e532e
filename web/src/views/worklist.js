// "Å følge opp": what needs doing across every plan I take part in (GET /api/worklist),
// most urgent first. Each row is one link to the place to act. Rows are facts from the
// server (kind, plan, title, date, who); the words are the reader's language.
import { h } from '../dom.js'
import { api } from '../api.js'
import { t, formatDate, formatDateTime } from '../i18n.js'

export function rowText (row) {
  const date = row.date ? (row.date.length > 10 ? formatDateTime(row.date) : formatDate(row.date)) : ''
  const facts = { title: row.title, who: row.who ?? t('worklist.someone'), date }
  if (row.kind === 'measure-overdue') {
    const key = row.reasons.includes('evaluation') ? 'worklist.measure-overdue.evaluation' : 'worklist.measure-overdue.ended'
    return t(key, facts)
  }
  if (row.kind === 'sleeping' && !row.date) return t('worklist.sleeping.never')
  if (row.kind === 'transition-review') return t('worklist.transition-review', { ...facts, title: t(`transition.kind.${row.title}`) })
  return t(`worklist.${row.kind}`, facts)
}

export async function renderWorklist (main) {
  main.append(h('h1', { text: t('worklist.title') }))
  const [{ rows, plans }, inbox] = await Promise.all([
    api.get('/api/worklist'),
    api.get('/api/inbox').catch(() => null)
  ])
  if (inbox) main.append(inboxView(inbox))
  const plansWith = new Set(rows.map((r) => r.plan))
  main.append(h('p', { class: 'lead', text: t('worklist.summary', { count: rows.length, plans, busy: plansWith.size }) }))
  if (!rows.length) {
    main.append(h('p', { text: t('worklist.empty') }))
    return t('worklist.title')
  }
  // Filter by plan: a coordinator with 30 plans narrows the list to one.
  const titles = new Map(rows.map((r) => [r.plan, r.plan_title]))
  const select = h('select', { id: 'worklist-plan' },
    h('option', { value: '', text: t('worklist.filter.all') }),
    [...titles].sort((a, b) => a[1].localeCompare(b[1])).map(([id, title]) => h('option', { value: id, text: title })))
  main.append(h('div', { class: 'field worklist-filter' },
    h('label', { for: 'worklist-plan', text: t('worklist.filter') }), select))
  const urgentOnly = h('input', { type: 'checkbox', id: 'worklist-urgent' })
  main.append(h('div', { class: 'field checkbox' }, urgentOnly,
    h('label', { for: 'worklist-urgent', text: t('worklist.filter.urgent') })))
  const lists = h('div', { class: 'worklist' })
  main.append(lists)
  // One card per plan, the plans with the most urgent rows first (the server sends the
  // rows most urgent first, so a plan's place is that of its first row).
  const draw = () => {
    lists.replaceChildren()
    const shown = rows.filter((r) => (!select.value || r.plan === select.value) && (!urgentOnly.checked || r.urgency === 2))
    const byPlan = new Map()
    for (const row of shown) {
      if (!byPlan.has(row.plan)) byPlan.set(row.plan, [])
      byPlan.get(row.plan).push(row)
    }
    for (const [plan, planRows] of byPlan) {
      const id = `worklist-${plan}`
      const urgent = planRows.filter((r) => r.urgency === 2).length
      lists.append(h('section', { class: ['card', 'worklist-plan', urgent ? 'urgent' : ''], 'aria-labelledby': id },
        h('h2', { id }, h('a', { href: `/plan/${plan}`, 'data-link': '', text: planRows[0].plan_title })),
        h('p', { class: 'meta', text: t('worklist.plan.count', { count: planRows.length, urgent }) }),
        h('ul', { class: 'worklist-rows' }, planRows.map((row) => h('li', { class: ['worklist-row', `urgency-${row.urgency}`] },
          h('a', { href: row.href, 'data-link': '' },
            h('span', { class: 'worklist-what', text: rowText(row) }),
            h('span', { class: 'worklist-kind meta', text: t(`worklist.group.${row.urgency === 2 ? 'now' : 'soon'}`) })))))))
    }
    if (!byPlan.size) lists.append(h('p', { text: t('worklist.empty.filtered') }))
  }
  urgentOnly.addEventListener('change', draw)
  select.addEventListener('change', draw)
  draw()
  return t('worklist.title')
}

// Reminders (server/reminders.py): the unread ones, each a link and "read", and how the
// person wants them (an e-mail digest as well, or in the app only).
function inboxView (inbox) {
  const box = h('section', { class: 'card inbox', 'aria-labelledby': 'inbox-title' })
  const unread = inbox.items.filter((i) => !i.read && i.href)
  const heading = h('h2', { id: 'inbox-title', text: t('inbox.title', { count: unread.length }) })
  const list = h('ul', { class: 'inbox-list' })
  for (const item of unread) {
    const read = h('button', { type: 'button', class: 'button', text: t('inbox.read') })
    const li = h('li', {},
      h('a', { href: item.href, 'data-link': '', text: t(`inbox.kind.${item.kind}`) }),
      h('span', { class: 'meta', text: ` – ${item.plan_title}, ${formatDateTime(item.at)}` }), ' ', read)
    read.addEventListener('click', async () => {
      read.disabled = true
      try {
        await api.post(`/api/inbox/${item.id}/read`)
        li.remove()
        heading.textContent = t('inbox.title', { count: list.children.length })
      } catch { read.disabled = false }
    })
    list.append(li)
  }
  const status = h('p', { role: 'status', class: 'meta' })
  const choice = h('fieldset', { class: 'inbox-channel' },
    h('legend', { text: t('inbox.channel') }),
    ['email', 'in-app'].map((value) => {
      const id = `channel-${value}`
      const input = h('input', { type: 'radio', name: 'channel', id, value, checked: inbox.channel === value })
      input.addEventListener('change', async () => {
        await api.put('/api/reminder-channel', { channel: value })
        status.textContent = t('inbox.channel.saved')
      })
      return h('div', { class: 'field checkbox' }, input, h('label', { for: id, text: t(`inbox.channel.${value}`) }))
    }), status)
  box.append(heading, unread.length ? list : h('p', { text: t('inbox.none') }), choice)
  return box
}
