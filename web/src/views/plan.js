// The live plan: the sections the person may see, their co-edited text,
// goals (main and sub, in the owner's words) and measures, with presence.
import * as Y from 'yjs'
import { h, clear, options, uid } from '../dom.js'
import { api } from '../api.js'
import { t, language } from '../i18n.js'
import { bindText } from '../bind-text.js'
import { events } from '../realtime.js'
import { followAccess, setFieldsWritable } from '../doc-access.js'
import { planNav } from './common.js'
import { measureView } from './measure.js'

const GOAL_STATUSES = ['active', 'reached', 'dropped']

export function newGoalId () {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')
}

export async function renderPlan (main, { params: [planId], scope, app }) {
  const plan = await api.get(`/api/plans/${planId}`)
  const people = new Map(plan.participants.map((p) => [p.id, p]))
  const presence = h('p', { class: 'presence', role: 'status', 'aria-live': 'polite' })
  const sectionsEl = h('div', { class: 'sections' })
  const toc = h('ol', { class: 'toc' })
  main.append(
    h('h1', { text: plan.title }),
    planNav(planId, 'plan', plan.can),
    h('p', { class: 'button-row print-links' },
      h('a', { class: 'button', href: `/api/plans/${planId}/print?lang=${language()}`, download: '', text: t('plan.print') })),
    presence,
    h('div', { class: 'plan-layout' },
      h('nav', { class: 'toc-wrap', 'aria-label': t('plan.toc') }, h('h2', { class: 'toc-title', text: t('plan.toc') }), toc),
      sectionsEl)
  )

  const measureViews = new Map()
  const sectionViews = new Map()
  const presenceDocs = new Set()

  function renderPresence () {
    const names = new Set()
    for (const entry of presenceDocs) {
      for (const state of entry.awareness.getStates().values()) {
        const user = state?.user
        if (user && user.id !== app.session.person && user.name) names.add(user.name)
      }
    }
    presence.textContent = names.size ? t('presence.here', { names: [...names].join(', ') }) : t('presence.alone')
  }

  function removeSection (sectionId) {
    const view = sectionViews.get(sectionId)
    if (!view) return
    view.el.remove()
    view.tocItem.remove()
    sectionViews.delete(sectionId)
    if (sectionViews.size === 0) sectionsEl.append(h('p', { class: 'notice', text: t('plan.nothing') }))
  }

  function addMeasure (record, container) {
    if (measureViews.has(record.id)) return
    const view = measureView(record, {
      planId, people, scope, app, headingLevel: 4,
      onRevoked: () => measureViews.delete(record.id)
    })
    measureViews.set(record.id, view)
    container.append(h('li', {}, view.el))
  }

  const sections = [...plan.sections].filter((s) => !s.archived).sort((a, b) => a.position - b.position)
  for (const section of sections) {
    const view = sectionView(section)
    sectionViews.set(section.id, view)
    sectionsEl.append(view.el)
    toc.append(view.tocItem)
  }
  showMeasureAsked(sectionsEl, scope, app)
  if (sections.length === 0) sectionsEl.append(h('p', { class: 'notice', text: t('plan.nothing') }))
  // A plan nobody has signed consent for yet: the coordinator sees only its set-up.
  else if (sections.every((s) => s.access === 'none')) sectionsEl.prepend(h('p', { class: 'notice', text: t('plan.setup') }))

  function sectionView (section) {
    const headingId = `s-${section.id}`
    const el = h('section', { class: 'plan-section', 'aria-labelledby': headingId, dataset: { section: section.id } },
      h('h2', { id: headingId, text: section.title }),
      h('p', { class: 'access-note', text: t(`access.${section.access}`) }))
    const tocItem = h('li', {}, h('a', { href: `#${headingId}`, text: section.title }))
    const measuresList = h('ul', { class: 'measures' })
    const emptyNote = h('p', { class: 'meta empty-measures', text: t('plan.measures.none') })
    const updateEmpty = () => { emptyNote.hidden = measuresList.children.length > 0 }
    const sectionMeasures = () => plan.measures.filter((m) => m.section === section.id)
    if (section.doc) {
      const entry = scope.doc(section.doc)
      presenceDocs.add(entry)
      const onAwareness = () => { renderPresence(); renderHere() }
      entry.awareness.on('change', onAwareness)
      scope.onDispose(() => entry.awareness.off('change', onAwareness))
      const here = h('p', { class: 'here meta' })
      const renderHere = () => {
        const names = [...entry.awareness.getStates().values()]
          .map((s) => s?.user).filter((u) => u && u.id !== app.session.person).map((u) => u.name)
        here.textContent = names.length ? t('presence.section', { names: [...new Set(names)].join(', ') }) : ''
      }
      const ydoc = entry.ydoc
      const writable = () => section.access === 'edit' && entry.access === 'write'
      const fields = []
      for (const key of ['situation', 'resources']) {
        const area = h('textarea', { id: uid(key), rows: '4', readOnly: true, class: 'text', dataset: { field: key } })
        scope.onDispose(bindText(area, ydoc.getText(key)))
        fields.push(area)
        el.append(h('div', { class: 'field' }, h('label', { for: area.id, text: t(`section.${key}`) }), area))
      }
      el.insertBefore(here, el.children[2])
      const goals = goalsView(ydoc.getArray('goals'), section, writable, scope)
      if (goals) el.append(goals.el)
      el.append(h('h3', { text: t('plan.measures') }), measuresList, emptyNote)
      const setAccess = (_, change) => {
        setFieldsWritable(fields, writable())
        goals?.setWritable(writable())
        if (change?.access === 'read') app.announce(t('plan.readonly'))
      }
      scope.onDispose(followAccess(entry, setAccess))
      entry.listeners.on('revoked', () => {
        removeSection(section.id)
        app.announce(t('plan.revoked'))
      })
      // Measures in the order the section document gives, then the rest.
      const order = ydoc.getArray('measures')
      const renderOrder = () => {
        const ids = order.toArray()
        const mine = sectionMeasures()
        const sorted = [...mine].sort((a, b) => rank(ids, a.id) - rank(ids, b.id))
        for (const record of sorted) addMeasure(record, measuresList)
        for (const record of sorted) {
          const li = measureViews.get(record.id)?.el.parentElement
          if (li) measuresList.append(li)
        }
        updateEmpty()
      }
      order.observe(renderOrder)
      scope.onDispose(() => order.unobserve(renderOrder))
      entry.listeners.on('joined', () => setTimeout(renderOrder, 0))
      renderOrder()
    } else {
      // 'own': only the measures this person is responsible for.
      el.append(h('h3', { text: t('plan.measures.own') }), measuresList, emptyNote)
      for (const record of sectionMeasures()) addMeasure(record, measuresList)
      updateEmpty()
    }
    return { el, tocItem, measuresList, updateEmpty }
  }

  // Measure records (status, dates) change over HTTP: refresh them while the
  // page is open.
  async function refreshMeasures () {
    let fresh
    try {
      fresh = (await api.get(`/api/plans/${planId}/measures`)).measures
    } catch {
      return
    }
    if (scope.disposed) return
    plan.measures = fresh
    const seen = new Set()
    for (const record of fresh) {
      seen.add(record.id)
      const view = measureViews.get(record.id)
      if (view) view.update(record)
      else {
        const sv = sectionViews.get(record.section)
        if (sv) { addMeasure(record, sv.measuresList); sv.updateEmpty() }
      }
    }
    for (const [id, view] of measureViews) {
      if (!seen.has(id)) {
        view.el.parentElement?.remove()
        measureViews.delete(id)
      }
    }
    for (const sv of sectionViews.values()) sv.updateEmpty()
  }
  scope.interval(refreshMeasures, 4000)
  scope.listen(events, 'connection', (up) => { if (up) refreshMeasures() })
  renderPresence()
  return plan.title
}

function rank (ids, id) {
  const i = ids.indexOf(id)
  return i === -1 ? 1e6 : i
}

function goalsView (goals, section, writable, scope) {
  if (section.kind !== 'goals' && goals.length === 0) return null
  const list = h('ul', { class: 'goals' })
  const addMain = h('button', { type: 'button', class: 'button', text: t('goal.add.main') })
  const el = h('div', { class: 'goals-block' }, h('h3', { text: t('plan.goals') }), list, h('p', {}, addMain))
  let canWrite = false
  let unbinds = []

  addMain.addEventListener('click', () => addGoal('main', null))

  function addGoal (kind, parent) {
    const goal = new Y.Map()
    const id = newGoalId()
    goal.set('id', id)
    goal.set('kind', kind)
    goal.set('parent', parent)
    goal.set('text', new Y.Text(''))
    goal.set('target', null)
    goal.set('status', 'active')
    // A sub-goal goes after its parent's last sub-goal.
    let index = goals.length
    if (parent) {
      const all = goals.toArray()
      const p = all.findIndex((g) => g instanceof Y.Map && g.get('id') === parent)
      if (p !== -1) {
        index = p + 1
        while (index < all.length && all[index] instanceof Y.Map && all[index].get('parent') === parent) index++
      }
    }
    goals.insert(index, [goal])
    setTimeout(() => list.querySelector(`[data-goal="${id}"] textarea`)?.focus(), 0)
  }

  function render () {
    const active = document.activeElement
    const focusGoal = list.contains(active) ? active.closest('[data-goal]')?.dataset.goal : null
    const focusTag = focusGoal ? active.tagName : null
    const selection = focusTag === 'TEXTAREA' ? [active.selectionStart, active.selectionEnd] : null
    unbinds.forEach((fn) => fn())
    unbinds = []
    clear(list)
    const all = goals.toArray().filter((g) => g instanceof Y.Map)
    const mains = all.filter((g) => g.get('kind') !== 'sub' || !all.some((m) => m.get('id') === g.get('parent')))
    if (all.length === 0) list.append(h('li', { class: 'meta', text: t('goal.none') }))
    for (const main of mains) {
      const subs = all.filter((g) => g !== main && g.get('kind') === 'sub' && g.get('parent') === main.get('id'))
      const li = goalItem(main)
      if (main.get('kind') !== 'sub') {
        const addSub = h('button', { type: 'button', class: 'button small', text: t('goal.add.sub'), hidden: !canWrite, dataset: { writeOnly: '' } })
        addSub.addEventListener('click', () => addGoal('sub', main.get('id')))
        const subList = h('ul', { class: 'subgoals' }, subs.map(goalItem))
        li.append(subList, addSub)
      }
      list.append(li)
    }
    setWritable(canWrite)
    if (focusGoal) {
      const again = list.querySelector(`[data-goal="${CSS.escape(focusGoal)}"] ${focusTag.toLowerCase()}`)
      if (again) {
        again.focus()
        if (selection) again.setSelectionRange(...selection)
      }
    }
  }

  function goalItem (goal) {
    const kind = goal.get('kind') === 'sub' ? 'sub' : 'main'
    const text = goal.get('text')
    const area = h('textarea', { id: uid('goal'), rows: '2', class: 'text', readOnly: true })
    if (text instanceof Y.Text) unbinds.push(bindText(area, text))
    else area.value = String(text ?? '')
    const target = h('input', { type: 'date', id: uid('target'), value: goal.get('target') || '', disabled: true })
    target.addEventListener('change', () => goal.set('target', target.value || null))
    const status = h('select', { id: uid('gstatus'), disabled: true },
      options(GOAL_STATUSES.map((s) => [s, t(`goal.status.${s}`)]), goal.get('status') || 'active'))
    status.addEventListener('change', () => goal.set('status', status.value))
    const remove = h('button', { type: 'button', class: 'button small quiet', text: t('goal.remove'), hidden: true, dataset: { writeOnly: '' } })
    remove.addEventListener('click', () => {
      const all = goals.toArray()
      const index = all.indexOf(goal)
      if (index !== -1) goals.delete(index, 1)
    })
    const observer = () => {
      if (document.activeElement !== target) target.value = goal.get('target') || ''
      status.value = goal.get('status') || 'active'
    }
    goal.observe(observer)
    unbinds.push(() => goal.unobserve(observer))
    const label = t(`goal.kind.${kind}`)
    return h('li', { class: `goal goal-${kind}`, dataset: { goal: String(goal.get('id') ?? '') } },
      h('div', { class: 'field' }, h('label', { for: area.id, text: label }), area),
      h('div', { class: 'goal-meta' },
        h('div', { class: 'field' }, h('label', { for: target.id, text: t('goal.target') }), target),
        h('div', { class: 'field' }, h('label', { for: status.id, text: t('goal.status') }), status),
        remove))
  }

  function setWritable (value) {
    canWrite = value
    addMain.hidden = !value
    for (const area of list.querySelectorAll('textarea')) area.readOnly = !value
    for (const input of list.querySelectorAll('input, select')) input.disabled = !value
    for (const button of list.querySelectorAll('[data-write-only]')) button.hidden = !value
  }

  goals.observe(render)
  scope.onDispose(() => { goals.unobserve(render); unbinds.forEach((fn) => fn()) })
  render()
  return { el, setWritable }
}

// /plan/<id>?tiltak=<measure> (a worklist row): bring that measure into view and focus
// it once its section has drawn it (sections draw their measures as their documents sync).
function showMeasureAsked (container, scope, app) {
  const wanted = new URLSearchParams(location.search).get('tiltak')
  if (!wanted || !/^[a-z0-9]{4,32}$/.test(wanted)) return
  let shown = null
  const show = () => {
    const el = container.querySelector(`[data-measure="${wanted}"]`)
    if (!el) return
    if (el !== shown) {
      shown = el
      el.classList.add('asked')
      el.tabIndex = -1
      el.scrollIntoView({ block: 'center' })
      el.focus({ preventScroll: true })
      app.announce(t('plan.measure.shown', { title: el.querySelector('.measure-title')?.textContent ?? '' }))
      // Sections put their measures in order as their documents sync, which moves the
      // element and drops the focus: keep it on the measure while that settles.
      setTimeout(() => watch.disconnect(), 3000)
    } else if (document.activeElement === document.body || !document.activeElement) {
      el.focus({ preventScroll: true })
    }
  }
  const watch = new MutationObserver(show)
  watch.observe(container, { childList: true, subtree: true })
  scope.onDispose(() => watch.disconnect())
}
