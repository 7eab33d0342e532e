// The meeting room: made for the owner's tablet (touch first, big controls),
// and for remote participants, who follow the current item, read the minutes
// as they are written and update their own measures.
import { h, clear, options, uid } from '../dom.js'
import { api } from '../api.js'
import { t, formatDateTime } from '../i18n.js'
import { bindText } from '../bind-text.js'
import { getSocket } from '../realtime.js'
import { Scope } from '../scope.js'
import { followAccess, setFieldsWritable } from '../doc-access.js'
import { measureView } from './measure.js'
import { roleName, participantLabel, errorText, flag } from './common.js'
import { decisionForm, decisionSummary, DECISION_KINDS } from './decisions.js'

export async function renderMeeting (main, { params: [meetingId], scope, app }) {
  const meeting = await api.get(`/api/meetings/${meetingId}`)
  const plan = await api.get(`/api/plans/${meeting.plan}`)
  const me = plan.me
  const people = new Map(plan.participants.map((p) => [p.id, p]))
  let state = meeting.state
  let decisions = meeting.decisions
  const socket = getSocket()

  // --- layout -------------------------------------------------------------------------
  const statusLine = h('p', { class: 'meeting-status', role: 'status', 'aria-live': 'polite' })
  const controls = h('div', { class: 'chair-controls', role: 'group', 'aria-label': t('meeting.controls') })
  // Only refusals and failures are shown here: in the error colour, announced at once.
  const message = h('p', { class: 'form-error', role: 'alert' })
  const agendaList = h('ol', { class: 'agenda' })
  const attendeesList = h('ul', { class: 'attendees' })
  const current = h('section', { class: 'current-item', 'aria-labelledby': 'current-title', 'aria-live': 'off' })
  const mineSection = h('section', { class: 'my-measures', 'aria-labelledby': 'mine-title' })

  main.classList.add('meeting-main')
  main.append(
    h('div', { class: 'meeting-head' },
      h('h1', { text: meeting.title }),
      h('p', { class: 'meta' }, formatDateTime(meeting.starts_at), meeting.place ? ` · ${meeting.place}` : ''),
      statusLine,
      h('p', {}, h('a', { href: `/plan/${plan.id}`, 'data-link': '', text: t('meeting.back') }), ' · ',
        h('a', { href: `/plan/${plan.id}/moter`, 'data-link': '', text: t('nav.meetings') }))),
    controls,
    message,
    h('div', { class: 'meeting-grid' },
      h('nav', { class: 'agenda-wrap', 'aria-labelledby': 'agenda-title' },
        h('h2', { id: 'agenda-title', text: t('meeting.agenda') }), agendaList,
        h('h2', { id: 'attendees-title', text: t('meeting.here') }), attendeesList),
      h('div', { class: 'meeting-body' }, current, mineSection))
  )

  // What I may do comes with every state (policy.meeting_capabilities); no role checks here.
  const can = () => state.can ?? {}
  const isChair = () => can().chair === true
  const live = () => state.status === 'live' || state.status === 'ended'
  const mayWriteItem = (itemId) => live() && (isChair() || state.minute_taker === me.participant ||
    (state.pen !== null && state.pen?.item === itemId && state.pen?.participant === me.participant))
  const mayDecide = (itemId) => live() && (can().decide_without_pen === true || mayWriteItem(itemId))

  async function command (event, data) {
    message.textContent = ''
    return new Promise((resolve) => {
      socket.timeout(10000).emit(event, { meeting: meetingId, ...data }, (err, ack) => {
        if (err || !ack?.ok) {
          message.textContent = err ? t('error.offline') : errorText(ack?.error)
          resolve(null)
          return
        }
        applyState(ack.state)
        resolve(ack)
      })
    })
  }

  async function http (method, path, body) {
    message.textContent = ''
    try {
      const reply = await api[method](path, body)
      if (reply?.state) applyState(reply.state)
      return reply
    } catch (err) {
      message.textContent = errorText(err)
      return null
    }
  }

  // --- realtime -----------------------------------------------------------------------
  function join () {
    socket.emit('meeting:join', { meeting: meetingId }, (ack) => {
      if (ack?.ok) applyState(ack.state)
      else message.textContent = errorText(ack?.error)
    })
  }
  scope.listen(socket, 'meeting:state', (next) => { if (next?.meeting === meetingId) applyState(next) })
  // Access lost (consent withdrawn, removed): the server has put us out of the room.
  scope.listen(socket, 'meeting:revoked', (gone) => {
    if (gone?.meeting === meetingId) message.textContent = gone.reason || t('error.failed')
  })
  scope.listen(socket, 'connect', join)
  scope.onDispose(() => { if (socket.connected) socket.emit('meeting:leave', { meeting: meetingId }) })
  if (socket.connected) join()

  // --- rendering ----------------------------------------------------------------------
  let currentId // id of the item the panel shows (undefined = not rendered yet)
  let itemScope = null
  let itemDoc = null
  let notesArea = null
  let penLine = null
  let penControl = null
  let decisionsEl = null
  let decideEl = null
  let expectedWrite = null
  const measureViews = new Map()

  function applyState (next) {
    // A reply and a broadcast may arrive in either order: never go back to an older state.
    if ((next?.version ?? 0) < (state?.version ?? 0)) return
    const prevStatus = state.status
    const prevHidden = Boolean(state.current_hidden)
    state = next
    renderStatus()
    renderControls()
    renderAgenda()
    renderAttendees()
    const id = state.current_item ?? null
    if (id !== currentId || (id === null && (prevStatus !== state.status || prevHidden !== Boolean(state.current_hidden)))) renderCurrent()
    else refreshCurrent()
  }

  function renderStatus () {
    const parts = [t(`meeting.status.${state.status}`)]
    if (state.status === 'live') {
      const item = state.agenda.find((i) => i.id === state.current_item)
      if (item) parts.push(t('meeting.now', { title: item.title }))
    }
    statusLine.textContent = parts.join(' – ')
  }

  function bigButton (label, onclick, cls = '') {
    return h('button', { type: 'button', class: `button big ${cls}`, onclick, text: label })
  }

  function renderControls () {
    clear(controls)
    const agenda = state.agenda
    const index = agenda.findIndex((i) => i.id === state.current_item)
    if (isChair()) {
      if (state.status === 'scheduled') {
        controls.append(bigButton(t('meeting.start'), () => command('meeting:start', {}), 'primary'))
      }
      if (state.status === 'live') {
        const prev = bigButton(t('meeting.previous'), () => command('meeting:goto', { item: agenda[index - 1].id }))
        prev.disabled = index <= 0
        const next = bigButton(t('meeting.next'), () => command('meeting:goto', { item: agenda[index + 1 < agenda.length ? index + 1 : 0].id }), 'primary')
        next.disabled = agenda.length === 0 || (index !== -1 && index >= agenda.length - 1)
        if (index === -1 && agenda.length > 0) next.textContent = t('meeting.first')
        // Ending the meeting ends it for everyone: one more tap to be sure.
        const end = bigButton(t('meeting.end'), () => {
          clear(controls)
          const yes = bigButton(t('meeting.end.yes'), () => command('meeting:end', {}), 'danger')
          controls.append(h('p', { class: 'confirm-text', role: 'alert', text: t('meeting.end.sure') }),
            yes, bigButton(t('meeting.end.no'), () => renderControls()))
          yes.focus()
        }, 'danger')
        controls.append(prev, next, end)
      }
    }
    // The chair names who writes the minutes (the minute-taker may write every item).
    if (isChair() && (state.status === 'scheduled' || state.status === 'live') && state.attendees.length) {
      const id = uid('minute-taker')
      const pick = h('select', { id },
        h('option', { value: '', text: t('meeting.minute.taker.none') }),
        state.attendees.map((a) => h('option', { value: a.participant, text: a.name, selected: state.minute_taker === a.participant })))
      pick.addEventListener('change', async () => {
        if (!pick.value) return
        if (await http('post', `/api/meetings/${meetingId}/minute-taker`, { participant: pick.value })) {
          app.announce(t('meeting.minute.taker.set', { name: pick.selectedOptions[0].textContent }))
        }
      })
      controls.append(h('div', { class: 'field minute-taker' }, h('label', { for: id, text: t('meeting.minute.taker') }), pick))
    }
    if (can().approve) {
      // The owner reads the whole minutes before approving them.
      const draft = h('div', { class: 'draft-minutes' })
      const read = h('details', { class: 'draft-wrap' }, h('summary', { text: t('meeting.draft.read') }), draft)
      read.addEventListener('toggle', async () => {
        if (!read.open || draft.children.length) return
        const content = await http('get', `/api/meetings/${meetingId}/draft-minutes`)
        if (!content) return
        if (!content.items.length) draft.append(h('p', { text: t('meeting.draft.empty') }))
        for (const item of content.items) {
          draft.append(h('h3', { text: item.title }),
            ...(item.notes || '').split('\n').filter((line) => line.trim()).map((line) => h('p', { text: line })),
            item.decisions.length
              ? h('ul', {}, item.decisions.map((d) => h('li', {}, h('strong', { text: `${t(`decision.kind.${d.kind}`)}: ` }), d.text || '')))
              : h('p', { class: 'meta', text: t('meeting.draft.nodecisions') }))
        }
      })
      controls.append(read)
      controls.append(bigButton(t('meeting.approve'), () => http('post', `/api/meetings/${meetingId}/approve`, {}), 'primary'))
    }
    if (can().finalise) {
      controls.append(bigButton(t('meeting.finalize'), async () => {
        const reply = await http('post', `/api/meetings/${meetingId}/finalize`, {})
        if (reply) app.announce(t('meeting.finalized'))
      }, 'primary'))
    }
    if (state.status === 'final') {
      controls.append(h('a', { class: 'button big', href: `/mote/${meetingId}/referat`, 'data-link': '', text: t('minutes.read') }))
    }
    controls.hidden = controls.children.length === 0
  }

  function renderAgenda () {
    const focusedId = agendaList.contains(document.activeElement) ? document.activeElement.dataset.item : null
    const focusedAction = focusedId ? document.activeElement.dataset.action : null
    clear(agendaList)
    if (state.agenda.length === 0) agendaList.append(h('li', { class: 'meta', text: t('meeting.agenda.empty') }))
    const canMove = isChair() && (state.status === 'scheduled' || state.status === 'live')
    state.agenda.forEach((item, index) => {
      const isCurrent = item.id === state.current_item
      const label = h('span', { class: 'agenda-title', text: item.title })
      let main
      if (isChair() && state.status === 'live') {
        main = h('button', {
          type: 'button',
          class: 'agenda-button',
          'aria-current': isCurrent ? 'step' : false,
          dataset: { item: item.id, action: 'goto' },
          onclick: () => command('meeting:goto', { item: item.id })
        }, label)
      } else {
        main = h('span', { class: 'agenda-button static', 'aria-current': isCurrent ? 'step' : false }, label)
      }
      const li = h('li', { class: isCurrent ? 'current' : '' }, main)
      if (state.pen?.item === item.id && state.pen.participant) {
        li.append(h('span', { class: 'pen-badge', text: t('meeting.pen.badge', { name: nameOf(state.pen.participant) }) }))
      }
      if (canMove && state.status === 'scheduled' || canMove && !isCurrent) {
        const remove = h('button', { type: 'button', class: 'icon-button', dataset: { item: item.id, action: 'remove' }, 'aria-label': t('meeting.item.remove', { title: item.title }), text: '×' })
        remove.addEventListener('click', () => {
          const sure = h('span', { class: 'confirm-inline' },
            h('span', { text: t('meeting.item.remove.sure') }), ' ',
            h('button', { type: 'button', class: 'button', text: t('meeting.item.remove.yes'), onclick: () => http('del', `/api/meetings/${meetingId}/agenda/${item.id}`) }), ' ',
            h('button', { type: 'button', class: 'button', text: t('meeting.end.no'), onclick: () => renderAgenda() }))
          remove.replaceWith(sure)
          sure.querySelector('button')?.focus()
        })
        li.append(remove)
      }
      if (canMove) {
        const up = h('button', { type: 'button', class: 'icon-button', dataset: { item: item.id, action: 'up' }, 'aria-label': t('meeting.move.up', { title: item.title }), text: '↑', disabled: index === 0 })
        const down = h('button', { type: 'button', class: 'icon-button', dataset: { item: item.id, action: 'down' }, 'aria-label': t('meeting.move.down', { title: item.title }), text: '↓', disabled: index === state.agenda.length - 1 })
        up.addEventListener('click', () => http('patch', `/api/meetings/${meetingId}/agenda/${item.id}`, { index: index - 1 }))
        down.addEventListener('click', () => http('patch', `/api/meetings/${meetingId}/agenda/${item.id}`, { index: index + 1 }))
        li.append(h('span', { class: 'move' }, up, down))
      }
      agendaList.append(li)
    })
    renderAddItem(canMove)
    if (focusedId) {
      const again = agendaList.querySelector(`[data-item="${focusedId}"][data-action="${focusedAction}"]`)
      if (again && !again.disabled) again.focus()
      else agendaList.querySelector(`[data-item="${focusedId}"]`)?.focus()
    }
  }

  // The chair adds an item before or during the meeting: a title and the part of the
  // plan it belongs to (who may read it follows from that part).
  const addItemBox = h('div', { class: 'agenda-add' })
  agendaList.after(addItemBox)
  // Made once and only shown or hidden on each state: a state arriving while the chair
  // types must not wipe what they typed.
  let addItemForm = null
  function renderAddItem (allowed) {
    const sections = plan.sections.filter((sec) => sec.access !== 'none' && !sec.archived)
    addItemBox.hidden = !allowed || !sections.length
    if (addItemBox.hidden || addItemForm) return
    const titleId = uid('item-title'); const sectionId = uid('item-section')
    addItemForm = h('form', { class: 'agenda-add-form' },
      h('div', { class: 'field' }, h('label', { for: titleId, text: t('meeting.item.new') }), h('input', { id: titleId, name: 'title', required: true, maxlength: '200' })),
      h('div', { class: 'field' }, h('label', { for: sectionId, text: t('meeting.item.section') }),
        h('select', { id: sectionId, name: 'section' }, sections.map((sec) => h('option', { value: sec.id, text: sec.title })))),
      h('button', { type: 'submit', class: 'button', text: t('meeting.item.add') }))
    const form = addItemForm
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const data = Object.fromEntries(new FormData(form).entries())
      if (await http('post', `/api/meetings/${meetingId}/agenda`, data)) {
        form.reset()
        app.announce(t('meeting.item.added', { title: data.title }))
      }
    })
    addItemBox.append(form)
  }

  function nameOf (participant) {
    const a = state.attendees.find((x) => x.participant === participant)
    return a?.name ?? people.get(participant)?.name ?? t('meeting.someone')
  }

  function renderAttendees () {
    clear(attendeesList)
    const sorted = [...state.attendees].sort((a, b) => Number(b.present) - Number(a.present))
    for (const a of sorted) {
      attendeesList.append(h('li', { class: a.present ? 'present' : 'absent' },
        h('span', { class: 'dot', 'aria-hidden': 'true' }),
        h('div', {},
          h('span', { class: 'attendee-name', text: a.name }),
          state.chair === a.participant ? [' ', flag(t('meeting.chair'), 'info')] : null,
          h('span', { class: 'meta block', text: `${roleName(a.role)} · ${a.present ? t('meeting.present') : t('meeting.absent')}` }))))
    }
  }

  function itemMeasures (item) {
    if (item.kind === 'measure' && item.ref) return plan.measures.filter((m) => m.id === item.ref)
    return plan.measures.filter((m) => m.section === item.section)
  }

  function renderCurrent () {
    if (itemScope) itemScope.dispose()
    itemScope = new Scope()
    scope.onDispose(() => itemScope?.dispose())
    for (const [id, view] of measureViews) if (view.owner === 'item') measureViews.delete(id)
    clear(current)
    itemDoc = null
    notesArea = null
    expectedWrite = null
    const item = state.agenda.find((i) => i.id === state.current_item)
    currentId = item?.id ?? null
    if (!item) {
      let text = t('meeting.not.started')
      if (state.current_hidden) text = t('meeting.hidden')
      else if (state.status === 'live') text = t('meeting.choose.item')
      else if (state.status !== 'scheduled') text = t('meeting.over')
      current.append(h('h2', { id: 'current-title', class: 'current-title', text: t('meeting.current') }),
        h('p', { class: 'notice big-text', text }))
      renderMine()
      return
    }
    current.append(
      h('p', { class: 'eyebrow', text: t('meeting.current') }),
      h('h2', { id: 'current-title', class: 'current-title', text: item.title }))
    penLine = h('p', { class: 'pen-line' })
    penControl = h('div', { class: 'pen-control' })
    current.append(penLine, penControl)

    // Minutes (the item's notes).
    itemDoc = itemScope.doc(item.doc)
    notesArea = h('textarea', { id: uid('notes'), rows: '8', class: 'text notes', readOnly: true })
    itemScope.onDispose(bindText(notesArea, itemDoc.ydoc.getText('notes')))
    const notesNote = h('p', { class: 'hint', id: `${notesArea.id}-hint` })
    notesArea.setAttribute('aria-describedby', notesNote.id)
    const notesWrap = h('div', { class: 'field notes-field' },
      h('label', { for: notesArea.id, text: t('meeting.notes') }), notesNote, notesArea)
    current.append(notesWrap)
    const setNotesAccess = (writable) => {
      setFieldsWritable([notesArea], writable)
      notesNote.textContent = writable ? t('meeting.notes.write') : t('meeting.notes.read')
    }
    itemScope.onDispose(followAccess(itemDoc, setNotesAccess))
    itemDoc.listeners.on('revoked', () => {
      notesWrap.replaceChildren(h('p', { class: 'notice', text: t('meeting.notes.closed') }))
    })

    // The item's measures, live.
    const measures = itemMeasures(item)
    if (measures.length) {
      const list = h('ul', { class: 'measures' })
      current.append(h('h3', { text: t('meeting.item.measures') }), list)
      for (const record of measures) {
        const view = measureView(record, { planId: plan.id, people, scope: itemScope, app, headingLevel: 4 })
        view.owner = 'item'
        measureViews.set(record.id, view)
        list.append(h('li', {}, view.el))
      }
    }

    // Decisions.
    decisionsEl = h('ul', { class: 'decisions', 'aria-live': 'polite' })
    decideEl = h('div', { class: 'decide' })
    current.append(h('h3', { text: t('meeting.decisions') }), decisionsEl, decideEl)
    renderDecisions()
    refreshCurrent()
    renderMine()
  }

  function refreshCurrent () {
    const item = state.agenda.find((i) => i.id === currentId)
    if (!item || !penLine) return
    const pen = state.pen?.item === item.id ? state.pen.participant : null
    penLine.textContent = pen ? t('meeting.pen.holder', { name: nameOf(pen) }) : t('meeting.pen.chair')
    clear(penControl)
    if (isChair() && state.status === 'live') {
      const present = state.attendees.filter((a) => a.participant !== me.participant)
      const select = h('select', { id: uid('pen') },
        options([['', t('meeting.pen.back')], ...present.map((a) => [a.participant, a.present ? a.name : `${a.name} (${t('meeting.absent')})`])], pen ?? ''))
      const give = h('button', { type: 'button', class: 'button big', text: t('meeting.pen.give') })
      give.addEventListener('click', () => command('meeting:pen', { item: item.id, participant: select.value || null }))
      penControl.append(h('label', { for: select.id, text: t('meeting.pen.to') }), h('div', { class: 'inline' }, select, give))
    }
    // Write access follows the pen: join again when it should change.
    const expected = mayWriteItem(item.id)
    if (itemDoc && expectedWrite !== null && expected !== expectedWrite) itemDoc.rejoin()
    expectedWrite = expected
    renderDecide(item)
  }

  function renderDecisions () {
    if (!decisionsEl) return
    clear(decisionsEl)
    const mine = decisions.filter((d) => d.item === currentId)
    if (mine.length === 0) decisionsEl.append(h('li', { class: 'meta', text: t('decision.none') }))
    for (const d of mine) decisionsEl.append(h('li', {}, flag(t(`decision.kind.${d.kind}`), 'info'), ' ', decisionSummary(d, { people, measures: plan.measures })))
  }

  let openForm = null
  function renderDecide (item) {
    if (!decideEl) return
    const allowed = mayDecide(item.id)
    if (!allowed) {
      clear(decideEl)
      openForm = null
      return
    }
    if (openForm || decideEl.querySelector('.decision-buttons')) return
    const buttons = h('div', { class: 'decision-buttons', role: 'group', 'aria-label': t('decision.record') })
    for (const kind of DECISION_KINDS) {
      buttons.append(bigButton(t(`decision.kind.${kind}`), () => showForm(kind)))
    }
    decideEl.append(buttons)
    function showForm (kind) {
      clear(decideEl)
      openForm = decisionForm(kind, {
        item, plan, people, measures: itemMeasures(item),
        onCancel: () => { openForm = null; clear(decideEl); renderDecide(item) },
        onSubmit: async (body) => {
          let saved
          try {
            saved = await api.post(`/api/meetings/${meetingId}/decisions`, { item: item.id, kind, ...body })
          } catch (err) {
            return err // the form shows it beside the field it is about
          }
          decisions = [...decisions, saved]
          renderDecisions()
          app.announce(t('decision.saved'))
          openForm = null
          clear(decideEl)
          renderDecide(item)
          return true
        }
      })
      decideEl.append(openForm)
      openForm.querySelector('input, select, textarea')?.focus()
    }
  }

  function renderMine () {
    clear(mineSection)
    const shown = new Set([...measureViews.entries()].filter(([, v]) => v.owner === 'item').map(([id]) => id))
    for (const [id, view] of measureViews) if (view.owner === 'mine') measureViews.delete(id)
    const mine = plan.measures.filter((m) => m.responsible === me.participant && !shown.has(m.id))
    if (mine.length === 0) return
    mineSection.append(h('h2', { id: 'mine-title', text: t('meeting.mine') }))
    const list = h('ul', { class: 'measures' })
    mineSection.append(list)
    const mineScope = itemScope ?? scope
    for (const record of mine) {
      const view = measureView(record, { planId: plan.id, people, scope: mineScope, app, headingLevel: 3 })
      view.owner = 'mine'
      measureViews.set(record.id, view)
      list.append(h('li', {}, view.el))
    }
  }

  async function refreshRecords () {
    try {
      const [{ measures }, { decisions: fresh }] = await Promise.all([
        api.get(`/api/plans/${plan.id}/measures`),
        api.get(`/api/meetings/${meetingId}/decisions`)
      ])
      if (scope.disposed) return
      plan.measures = measures
      for (const record of measures) measureViews.get(record.id)?.update(record)
      if (fresh.length !== decisions.length) {
        decisions = fresh
        renderDecisions()
      }
    } catch {}
  }
  scope.interval(refreshRecords, 3000)

  applyState(state)
  return meeting.title
}
