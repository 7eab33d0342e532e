// "Bygg planen": the plan's structure between meetings — sections (add, rename, move,
// archive with a second tap) and measures (add, edit who is responsible, how often, the
// dates and the status, end with a second tap). The server decides every change; what
// is offered comes from the plan's capabilities and each section's access.
import { h, uid, clear } from '../dom.js'
import { api } from '../api.js'
import { t } from '../i18n.js'
import { planNav, showError, participantLabel } from './common.js'
import { MEASURE_STATUSES } from './measure.js'

function field (label, input) {
  return h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input)
}

function dateInput (name, value) {
  return h('input', { id: uid(name), name, type: 'date', value: value ?? '' })
}

export function measureBody (form) {
  const data = Object.fromEntries(new FormData(form).entries())
  for (const key of ['starts', 'ends', 'evaluate_by', 'responsible']) {
    if (key in data && data[key] === '') data[key] = null
  }
  return data
}

export async function renderBuild (main, { params: [planId], app }) {
  const plan = await api.get(`/api/plans/${planId}`)
  main.append(h('h1', { text: t('build.title') }), planNav(planId, 'build', plan.can))
  if (!plan.can?.manage_plan) {
    main.append(h('p', { text: t('build.readonly') }))
    return t('build.title')
  }
  const sectionsBox = h('section', { class: 'card build-sections', 'aria-labelledby': 'build-sections-title' })
  const measuresBox = h('section', { class: 'card build-measures', 'aria-labelledby': 'build-measures-title' })
  main.append(sectionsBox, measuresBox)
  let current = plan

  async function reload (message) {
    current = await api.get(`/api/plans/${planId}`)
    drawSections()
    drawMeasures()
    if (message) app.announce(message)
  }

  function drawSections () {
    clear(sectionsBox)
    sectionsBox.append(h('h2', { id: 'build-sections-title', text: t('build.sections') }))
    const sections = current.sections.filter((s) => !s.archived).sort((a, b) => a.position - b.position)
    const list = h('ol', { class: 'build-list' })
    sections.forEach((section, index) => {
      const name = h('input', { id: uid('section'), name: 'title', value: section.title, maxlength: '200', required: true })
      const status = h('span', { role: 'status', class: 'meta' })
      const form = h('form', { class: 'inline-form' }, field(t('build.section.name'), name),
        h('button', { type: 'submit', class: 'button', text: t('build.save') }), status)
      form.addEventListener('submit', async (event) => {
        event.preventDefault()
        try {
          await api.patch(`/api/plans/${planId}/sections/${section.id}`, { title: name.value })
          status.textContent = t('build.saved')
        } catch (err) { showError(form, err, status) }
      })
      const move = (to) => async () => {
        try {
          await api.patch(`/api/plans/${planId}/sections/${section.id}`, { position: sections[to].position })
          await api.patch(`/api/plans/${planId}/sections/${sections[to].id}`, { position: section.position })
          await reload(t('build.moved', { title: section.title }))
        } catch (err) { status.textContent = err.message }
      }
      const up = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('build.up', { title: section.title }), text: '↑', disabled: index === 0, onclick: move(index - 1) })
      const down = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('build.down', { title: section.title }), text: '↓', disabled: index === sections.length - 1, onclick: move(index + 1) })
      const tools = h('div', { class: 'button-row' }, up, down)
      if (current.can?.archive_section) {
        const archive = h('button', { type: 'button', class: 'button', text: t('build.archive') })
        archive.addEventListener('click', () => {
          const yes = h('button', { type: 'button', class: 'button danger', text: t('build.archive.yes') })
          yes.addEventListener('click', async () => {
            try {
              await api.patch(`/api/plans/${planId}/sections/${section.id}`, { archived: true })
              await reload(t('build.archived', { title: section.title }))
            } catch (err) { status.textContent = err.message }
          })
          archive.replaceWith(h('span', { class: 'confirm-inline' }, h('span', { text: t('build.archive.sure') }), yes,
            h('button', { type: 'button', class: 'button', text: t('build.no'), onclick: () => drawSections() })))
          yes.focus()
        })
        tools.append(archive)
      }
      list.append(h('li', { class: 'build-item' }, form, tools))
    })
    sectionsBox.append(list)
    const title = h('input', { id: uid('new-section'), name: 'title', maxlength: '200', required: true })
    const status = h('p', { role: 'status' })
    const add = h('form', { class: 'inline-form' }, field(t('build.section.new'), title),
      h('button', { type: 'submit', class: 'button primary', text: t('build.section.add') }), status)
    add.addEventListener('submit', async (event) => {
      event.preventDefault()
      try {
        await api.post(`/api/plans/${planId}/sections`, { title: title.value, kind: 'life_area' })
        await reload(t('build.section.added', { title: title.value }))
      } catch (err) { showError(add, err, status) }
    })
    sectionsBox.append(add, h('p', { class: 'hint', text: t('build.section.hint') }))
  }

  function measureForm (measure, sections, people) {
    const ids = {}
    const input = (name, attrs = {}) => { ids[name] = uid(name); return h('input', { id: ids[name], name, ...attrs }) }
    const responsible = h('select', { id: uid('responsible'), name: 'responsible' },
      h('option', { value: '', text: t('build.nobody') }),
      people.map((p) => h('option', { value: p.id, text: participantLabel(p), selected: measure?.responsible === p.id })))
    const fields = [
      measure ? null : field(t('build.measure.section'), h('select', { id: uid('section'), name: 'section' },
        sections.map((s) => h('option', { value: s.id, text: s.title })))),
      field(t('build.measure.title'), input('title', { value: measure?.title ?? '', maxlength: '300', required: true })),
      field(t('build.measure.responsible'), responsible),
      field(t('build.measure.frequency'), input('frequency', { value: measure?.frequency ?? '', maxlength: '300' })),
      field(t('build.measure.starts'), dateInput('starts', measure?.starts)),
      field(t('build.measure.ends'), dateInput('ends', measure?.ends)),
      field(t('build.measure.evaluate'), dateInput('evaluate_by', measure?.evaluate_by)),
      measure ? field(t('build.measure.status'), h('select', { id: uid('status'), name: 'status' },
        MEASURE_STATUSES.map((s) => h('option', { value: s, text: t(`measure.status.${s}`), selected: measure.status === s })))) : null
    ]
    const status = h('p', { role: 'status' })
    const form = h('form', { class: 'measure-form' }, fields,
      h('p', { class: 'button-row' }, h('button', { type: 'submit', class: 'button primary', text: measure ? t('build.save') : t('build.measure.add') })), status)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const body = measureBody(form)
      try {
        if (measure) await api.patch(`/api/plans/${planId}/measures/${measure.id}`, body)
        else await api.post(`/api/plans/${planId}/measures`, body)
        await reload(measure ? t('build.saved') : t('build.measure.added', { title: body.title }))
      } catch (err) { showError(form, err, status) }
    })
    return form
  }

  function drawMeasures () {
    clear(measuresBox)
    measuresBox.append(h('h2', { id: 'build-measures-title', text: t('build.measures') }))
    const writable = current.sections.filter((s) => !s.archived && s.access === 'edit')
    const people = current.participants.filter((p) => p.active !== false)
    const titles = new Map(current.sections.map((s) => [s.id, s.title]))
    const mine = current.measures.filter((m) => writable.some((s) => s.id === m.section))
    const list = h('ul', { class: 'build-list' })
    for (const m of mine) {
      const details = h('details', { class: 'build-measure' },
        h('summary', {}, h('strong', { text: m.title }), h('span', { class: 'meta', text: ` – ${titles.get(m.section) ?? ''} · ${t(`measure.status.${m.status}`)}` })),
        measureForm(m, writable, people))
      list.append(h('li', {}, details))
    }
    if (mine.length) measuresBox.append(list)
    else measuresBox.append(h('p', { text: t('build.measures.none') }))
    if (writable.length) {
      measuresBox.append(h('h3', { text: t('build.measure.new') }), measureForm(null, writable, people))
    } else {
      measuresBox.append(h('p', { class: 'hint', text: t('build.measures.noaccess') }))
    }
  }

  drawSections()
  drawMeasures()
  return t('build.title')
}
