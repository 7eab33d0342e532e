// Continuity on the group screen: the handover note between coordinators, a deputy who
// stands in for the coordinator for a period (the owner's choice), and transitions in
// the plan's life that call for a review of consent and the group. What a person may do
// comes from the server (can_* flags); the server decides every request.
import { h, uid } from '../dom.js'
import { api, ApiError } from '../api.js'
import { t, formatDate, formatDateTime } from '../i18n.js'
import { flag } from './common.js'

function errorNote (err) {
  return h('p', { class: 'field-error', role: 'alert', text: err instanceof ApiError ? err.message : t('error.text') })
}

function handoverCard (planId, data, app) {
  const box = h('section', { class: 'card handover', 'aria-labelledby': 'handover-title' },
    h('h2', { id: 'handover-title', text: t('handover.title') }))
  const ho = data.handover
  if (ho && ho.to) {
    box.append(h('p', { text: t('handover.from.to', { from: ho.from, to: ho.to, date: formatDateTime(ho.handed_at) }) }))
    box.append(h('blockquote', { class: 'handover-note', text: ho.note || t('handover.empty') }))
    if (ho.accepted_at) box.append(h('p', {}, flag(t('handover.accepted', { date: formatDate(ho.accepted_at) }), 'ok')))
    if (data.can_accept) {
      const accept = h('button', { type: 'button', class: 'button primary', text: t('handover.accept') })
      accept.addEventListener('click', async () => {
        accept.disabled = true
        try {
          await api.post(`/api/plans/${planId}/handover/accept`)
          app.announce(t('handover.accepted.now'))
          box.replaceWith(handoverCard(planId, { ...data, can_accept: false, handover: { ...ho, accepted_at: new Date().toISOString() } }, app))
        } catch (err) { accept.disabled = false; box.append(errorNote(err)) }
      })
      box.append(h('p', { class: 'button-row' }, accept))
    }
  }
  if (data.can_write) {
    const id = uid('handover')
    const area = h('textarea', { id, rows: '5', maxlength: '5000', class: 'text' })
    area.value = ho && !ho.to ? ho.note : ''
    const status = h('p', { role: 'status', class: 'inline-note' })
    const save = h('button', { type: 'submit', class: 'button', text: t('handover.save') })
    const form = h('form', { class: 'handover-form' },
      h('div', { class: 'field' }, h('label', { for: id, text: t('handover.note') }),
        h('p', { class: 'hint', text: t('handover.hint') }), area),
      h('p', { class: 'button-row' }, save), status)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      save.disabled = true
      try {
        await api.put(`/api/plans/${planId}/handover`, { note: area.value })
        status.textContent = t('handover.saved')
      } catch (err) { status.replaceChildren(errorNote(err)) } finally { save.disabled = false }
    })
    box.append(form)
  }
  return box.children.length > 1 ? box : null
}

function standInCard (planId, data, group) {
  const box = h('section', { class: 'card stand-ins', 'aria-labelledby': 'stand-in-title' },
    h('h2', { id: 'stand-in-title', text: t('standin.title') }),
    h('p', { class: 'hint', text: t('standin.hint') }))
  const list = h('ul', { class: 'plain-list' })
  for (const s of data.stand_ins) {
    const end = data.can_set && s.active
      ? h('button', { type: 'button', class: 'button', text: t('standin.end') })
      : null
    end?.addEventListener('click', async () => {
      end.disabled = true
      try {
        await api.del(`/api/plans/${planId}/stand-ins/${s.id}`)
        end.replaceWith(flag(t('standin.ended'), 'info'))
      } catch (err) { end.disabled = false; box.append(errorNote(err)) }
    })
    list.append(h('li', {},
      h('span', { text: t('standin.period', { name: s.name ?? t('worklist.someone'), from: formatDate(s.starts), to: formatDate(s.ends) }) }), ' ',
      s.active ? flag(t('standin.active'), 'ok') : null, ' ', end))
  }
  box.append(data.stand_ins.length ? list : h('p', { text: t('standin.none') }))
  if (data.can_set) {
    const candidates = group.participants.filter((p) => p.can?.stand_in)
    if (candidates.length) {
      const who = uid('deputy'); const from = uid('from'); const to = uid('to')
      const status = h('p', { role: 'status' })
      const form = h('form', { class: 'stand-in-form' },
        h('div', { class: 'field' }, h('label', { for: who, text: t('standin.who') }),
          h('select', { id: who, name: 'participant' }, candidates.map((p) => h('option', { value: p.id, text: p.name })))),
        h('div', { class: 'field' }, h('label', { for: from, text: t('standin.from') }), h('input', { id: from, name: 'starts', type: 'date', required: true })),
        h('div', { class: 'field' }, h('label', { for: to, text: t('standin.to') }), h('input', { id: to, name: 'ends', type: 'date', required: true })),
        h('p', { class: 'button-row' }, h('button', { type: 'submit', class: 'button primary', text: t('standin.add') })), status)
      form.addEventListener('submit', async (event) => {
        event.preventDefault()
        const body = Object.fromEntries(new FormData(form).entries())
        try {
          await api.post(`/api/plans/${planId}/stand-ins`, body)
          status.textContent = t('standin.added')
          box.replaceWith(standInCard(planId, await api.get(`/api/plans/${planId}/stand-ins`), group))
        } catch (err) { status.replaceChildren(errorNote(err)) }
      })
      box.append(form)
    }
  }
  return box
}

function transitionsCard (planId, data) {
  const box = h('section', { class: 'card transitions', 'aria-labelledby': 'transitions-title' },
    h('h2', { id: 'transitions-title', text: t('transition.title') }),
    h('p', { class: 'hint', text: t('transition.hint') }))
  const list = h('ul', { class: 'plain-list' })
  for (const tr of data.transitions) {
    const done = !tr.reviewed && data.can_record
      ? h('button', { type: 'button', class: 'button', text: t('transition.reviewed') })
      : null
    done?.addEventListener('click', async () => {
      done.disabled = true
      try {
        await api.post(`/api/plans/${planId}/transitions/${tr.id}/reviewed`)
        done.replaceWith(flag(t('transition.is.reviewed'), 'ok'))
      } catch (err) { done.disabled = false; box.append(errorNote(err)) }
    })
    list.append(h('li', {}, h('span', { text: `${t(`transition.kind.${tr.kind}`)}, ${formatDate(tr.day)}` }), ' ',
      tr.reviewed ? flag(t('transition.is.reviewed'), 'ok') : flag(t('transition.to.review')), ' ', done))
  }
  box.append(data.transitions.length ? list : h('p', { text: t('transition.none') }))
  if (data.can_record) {
    const kind = uid('kind'); const day = uid('day')
    const status = h('p', { role: 'status' })
    const form = h('form', { class: 'transition-form' },
      h('div', { class: 'field' }, h('label', { for: kind, text: t('transition.kind') }),
        h('select', { id: kind, name: 'kind' }, data.kinds.map((k) => h('option', { value: k, text: t(`transition.kind.${k}`) })))),
      h('div', { class: 'field' }, h('label', { for: day, text: t('transition.day') }), h('input', { id: day, name: 'day', type: 'date', required: true })),
      h('p', { class: 'button-row' }, h('button', { type: 'submit', class: 'button', text: t('transition.add') })), status)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      try {
        await api.post(`/api/plans/${planId}/transitions`, Object.fromEntries(new FormData(form).entries()))
        box.replaceWith(transitionsCard(planId, await api.get(`/api/plans/${planId}/transitions`)))
      } catch (err) { status.replaceChildren(errorNote(err)) }
    })
    box.append(form)
  }
  return box
}

/** The continuity cards for the group screen (each only if the reader may see it). */
export async function continuityCards (planId, group, app) {
  const [handover, standIns, transitions] = await Promise.all([
    api.get(`/api/plans/${planId}/handover`).catch(() => null),
    api.get(`/api/plans/${planId}/stand-ins`).catch(() => null),
    api.get(`/api/plans/${planId}/transitions`).catch(() => null)
  ])
  return [
    handover ? handoverCard(planId, handover, app) : null,
    standIns ? standInCard(planId, standIns, group) : null,
    transitions ? transitionsCard(planId, transitions) : null
  ].filter(Boolean)
}
