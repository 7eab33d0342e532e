// Meetings of a plan: schedule one, go to the meeting room, and the minutes
// (read in the page, open as HTML, download as PDF).
import { h, clear, uid } from '../dom.js'
import { surveyCard } from './survey.js'
import { api } from '../api.js'
import { t, language, formatDate, formatDateTime, osloMoment } from '../i18n.js'
import { planNav, roleName, flag, showError, errorText } from './common.js'

export async function renderMeetings (main, { params: [planId], app }) {
  const [plan, { meetings }] = await Promise.all([
    api.get(`/api/plans/${planId}`),
    api.get(`/api/plans/${planId}/meetings`)
  ])
  main.append(h('h1', { text: t('meetings.title') }), planNav(planId, 'meetings', plan.can))
  const sorted = [...meetings].sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at))
  const list = h('ul', { class: 'meeting-list' })
  if (sorted.length === 0) list.append(h('li', { class: 'meta', text: t('meetings.none') }))
  for (const m of sorted) {
    const links = []
    if (m.status === 'final') {
      links.push(h('a', { class: 'button primary', href: `/mote/${m.id}/referat`, 'data-link': '', text: t('minutes.read') }))
      links.push(h('a', { class: 'button', href: `/api/meetings/${m.id}/minutes?format=pdf&lang=${language()}`, download: '', text: t('minutes.pdf') }))
    } else if (m.status !== 'cancelled') {
      links.push(h('a', { class: 'button primary', href: `/mote/${m.id}`, 'data-link': '', text: m.status === 'scheduled' ? t('meetings.open') : t('meetings.room') }))
      links.push(h('a', { class: 'button', href: `/api/meetings/${m.id}/invite.ics`, download: '', text: t('meetings.calendar') }))
    }
    const id = uid('m')
    const change = m.status === 'scheduled' && plan.can?.schedule_meeting ? changeMeeting(m, app) : null
    list.append(h('li', {}, h('article', { class: 'card meeting-card', 'aria-labelledby': id },
      h('h2', { id, text: m.title }),
      h('p', {}, formatDateTime(m.starts_at), m.place ? ` · ${m.place}` : '', ' ', flag(t(`meeting.status.${statusOf(m)}`), m.status === 'live' ? 'live' : 'info')),
      h('div', { class: 'button-row' }, links), change)))
  }
  main.append(list)

  if (plan.can?.schedule_meeting) main.append(scheduleForm(plan, app))
  // The owner's verdict on the latest meeting comes before the list (one tap on a phone).
  const verdict = await surveyCard(planId)
  if (verdict) main.insertBefore(verdict, list)
  return t('meetings.title')
}

function scheduleForm (plan, app) {
  const title = h('input', { type: 'text', id: uid('title'), name: 'title', value: t('meetings.default.title'), maxlength: '200', required: true })
  const when = h('input', { type: 'datetime-local', id: uid('when'), name: 'starts_at', required: true })
  const place = h('input', { type: 'text', id: uid('place'), name: 'place', maxlength: '300' })
  const invitees = plan.participants.filter((p) => !p.in_every_meeting && p.active)
  const checks = invitees.map((p) => {
    const box = h('input', { type: 'checkbox', id: uid('inv'), value: p.id, checked: true })
    return h('div', { class: 'check' }, box, h('label', { for: box.id, text: `${p.name} (${p.service || roleName(p.role)})` }))
  })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button big primary', text: t('meetings.schedule') })
  const form = h('form', { class: 'card schedule-form', 'aria-labelledby': 'schedule-title' },
    h('h2', { id: 'schedule-title', text: t('meetings.new') }),
    h('div', { class: 'field' }, h('label', { for: title.id, text: t('meetings.field.title') }), title),
    h('div', { class: 'field' }, h('label', { for: when.id, text: t('decision.when') }), when),
    h('div', { class: 'field' }, h('label', { for: place.id, text: t('meeting.place') }), place),
    h('fieldset', {}, h('legend', { text: t('meetings.invite') }), checks),
    h('p', { class: 'hint', text: t('meetings.agenda.hint') }),
    error, h('div', { class: 'button-row' }, submit))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    const starts = osloMoment(when.value)
    if (Number.isNaN(starts.getTime())) { error.textContent = t('decision.when.invalid'); when.focus(); return }
    const invited = [...form.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value)
    submit.disabled = true
    try {
      const made = await api.post(`/api/plans/${plan.id}/meetings`, {
        title: title.value.trim() || t('meetings.default.title'),
        starts_at: starts.toISOString(),
        ends_at: new Date(starts.getTime() + 3600 * 1000).toISOString(),
        place: place.value.trim(),
        invited,
        agenda: 'draft'
      })
      app.navigate(`/mote/${made.id}`)
    } catch (err) {
      showError(form, err, error)
      submit.disabled = false
    }
  })
  return form
}

export async function renderMinutes (main, { params: [meetingId] }) {
  const minutes = await api.get(`/api/meetings/${meetingId}/minutes`)
  const m = minutes.meeting
  const lang = language()
  main.append(
    h('h1', { text: t('minutes.title', { title: m.title }) }),
    h('p', { class: 'meta' }, `${m.plan_title} · ${formatDateTime(m.starts_at)}`, m.place ? ` · ${m.place}` : ''),
    planNav(m.plan_id, 'meetings', null),
    h('div', { class: 'button-row' },
      h('a', { class: 'button primary', href: `/api/meetings/${meetingId}/minutes?format=pdf&lang=${lang}`, download: '', text: t('minutes.pdf') }),
      h('a', { class: 'button', href: `/api/meetings/${meetingId}/minutes?format=html&lang=${lang}`, target: '_blank', rel: 'noopener', text: t('minutes.html') })))
  const article = h('article', { class: 'minutes card' })
  article.append(h('p', { text: t('minutes.version', { version: minutes.version }) }),
    minutes.approved_by ? h('p', { text: t('minutes.approved', { name: minutes.approved_by, date: formatDateTime(minutes.approved_at) }) }) : '',
    minutes.finalised_by ? h('p', { text: t('minutes.finalised', { name: minutes.finalised_by, date: formatDateTime(minutes.finalised_at) }) }) : '')
  article.append(h('h2', { text: t('minutes.attendance') }),
    h('ul', { class: 'plain-list' }, minutes.attendance.map((a) => h('li', { text: `${a.name} (${a.service || a.organisation || roleName(a.role)}) – ${t(`attendance.${a.attendance}`)}` }))))
  article.append(h('h2', { text: t('minutes.items') }))
  if (minutes.items.length === 0) article.append(h('p', { text: t('minutes.items.none') }))
  for (const item of minutes.items) {
    const section = h('section', { class: 'minutes-item' },
      h('h3', { text: item.title }),
      item.section_title ? h('p', { class: 'meta', text: item.section_title }) : null,
      h('div', { class: 'notes-text', text: item.notes || t('minutes.notes.none') }))
    if (item.decisions.length) {
      section.append(h('h4', { text: t('meeting.decisions') }), h('ul', {}, item.decisions.map((d) => h('li', {},
        h('strong', { text: `${t(`decision.kind.${d.kind}`)}: ` }), d.text ?? d.summary,
        d.responsible_name ? ` ${t('minutes.responsible', { name: d.responsible_name })}` : '',
        d.due ? ` ${t('minutes.due', { date: formatDate(d.due) })}` : ''))))
    }
    article.append(section)
  }
  if (minutes.next_meeting) article.append(h('p', { text: t('minutes.next.meeting', { date: formatDateTime(minutes.next_meeting.starts_at) }) }))
  if (minutes.next_evaluation) article.append(h('p', { text: t('minutes.next.evaluation', { date: formatDate(minutes.next_evaluation) }) }))
  main.append(article)
  return t('minutes.title', { title: m.title })
}

// A scheduled meeting whose time has passed was never held; it does not say "Ikke startet".
export function statusOf (m, now = Date.now()) {
  const over = Date.parse(m.ends_at ?? m.starts_at) < now
  return m.status === 'scheduled' && over ? 'unheld' : m.status
}

// Moving a scheduled meeting (new time or place: invitations go out again) or cancelling
// it (a CANCEL goes to every invitee), each a deliberate second step.
function changeMeeting (m, app) {
  const when = h('input', { type: 'datetime-local', id: uid('when'), name: 'starts_at', required: true })
  const place = h('input', { type: 'text', id: uid('place'), name: 'place', maxlength: '300', value: m.place ?? '' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const form = h('form', { class: 'change-meeting' },
    h('div', { class: 'field' }, h('label', { for: when.id, text: t('meetings.change.when') }), when),
    h('div', { class: 'field' }, h('label', { for: place.id, text: t('meeting.place') }), place),
    error,
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'button primary', text: t('meetings.change.save') })))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    const starts = osloMoment(when.value)
    if (Number.isNaN(starts.getTime())) { error.textContent = t('decision.when.invalid'); when.focus(); return }
    const length = Date.parse(m.ends_at) - Date.parse(m.starts_at) || 3600 * 1000
    try {
      await api.patch(`/api/meetings/${m.id}`, {
        starts_at: starts.toISOString(),
        ends_at: new Date(starts.getTime() + length).toISOString(),
        place: place.value.trim()
      })
      app.announce(t('meetings.change.saved'))
      app.refresh()
    } catch (err) { showError(form, err, error) }
  })
  const cancel = h('button', { type: 'button', class: 'button danger', text: t('meetings.cancel') })
  cancel.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'button danger', text: t('meetings.cancel.yes') })
    yes.addEventListener('click', async () => {
      try {
        await api.post(`/api/meetings/${m.id}/cancel`, {})
        app.announce(t('meetings.cancelled'))
        app.refresh()
      } catch (err) { error.textContent = errorText(err) }
    })
    cancel.replaceWith(h('span', { class: 'confirm-inline' }, h('span', { text: t('meetings.cancel.sure') }), yes))
    yes.focus()
  })
  return h('details', { class: 'meeting-change' }, h('summary', { text: t('meetings.change') }), form, h('p', {}, cancel))
}
