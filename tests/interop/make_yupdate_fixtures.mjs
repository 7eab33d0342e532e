#!/usr/bin/env node
// Writes tests/fixtures/yjs_updates.json: Yjs v1 updates made by the npm `yjs` package
// (the one in web/node_modules, pinned by web/package-lock.json), covering every struct
// kind (GC, Skip, Item) and every content kind (Deleted, JSON, Binary, String, Embed,
// Format, Type with every type ref, Any with every value tag, Doc), with the clients
// and clock ranges yjs itself decodes from each update (Y.decodeUpdate).
//
// tests/unit/test_yupdate_yjs.py checks that collab.yupdate.read_update returns exactly
// those ranges. Run `node tests/interop/make_yupdate_fixtures.mjs [out.json]` after
// `make web`; the output is deterministic (fixed clientIDs, no clocks or random values),
// so a re-run must leave the checked-in file unchanged (tests/interop checks that).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Y } from '../../web/interop.mjs'

const OUT = process.argv[2] ?? fileURLToPath(new URL('../fixtures/yjs_updates.json', import.meta.url))

function doc (clientID, gc = true) {
  const d = new Y.Doc({ gc })
  d.clientID = clientID
  return d
}

const hex = (u8) => Buffer.from(u8).toString('hex')

// What yjs reads back from the update: per client, in the order it was written, the first
// clock and one past the last (Skip structs included: they occupy clocks in the update),
// and the kinds of structs and contents it holds.
function describe (update) {
  const { structs, ds } = Y.decodeUpdate(update)
  const ranges = []
  const kinds = new Set()
  for (const s of structs) {
    let range = ranges.find((r) => r.client === s.id.client)
    if (!range) {
      range = { client: s.id.client, start: s.id.clock, end: s.id.clock }
      ranges.push(range)
    }
    range.start = Math.min(range.start, s.id.clock)
    range.end = Math.max(range.end, s.id.clock + s.length)
    if (s instanceof Y.GC) kinds.add('GC')
    else if (s instanceof Y.Skip) kinds.add('Skip')
    else {
      const name = s.content.constructor.name
      kinds.add(name)
      if (s.content instanceof Y.ContentType) kinds.add('Type:' + s.content.type.constructor.name)
    }
  }
  let deletes = 0
  for (const items of ds.clients.values()) deletes += items.length
  return { ranges, kinds: [...kinds].sort(), deletes }
}

const cases = []
function add (name, update, note) {
  cases.push({ name, note, update: hex(update), ...describe(update) })
}

// ContentString, with text outside the BMP (clock lengths are UTF-16 code units).
{
  const d = doc(101)
  d.getText('situation').insert(0, 'Hei på deg 👋 – æøå')
  add('string', Y.encodeStateAsUpdate(d), 'Y.Text insert; one emoji is two clock units')
}

// ContentFormat and ContentEmbed.
{
  const d = doc(102)
  const t = d.getText('situation')
  t.insert(0, 'fet tekst')
  t.format(0, 3, { bold: true })
  t.insertEmbed(4, { image: 'bilde.png' })
  add('format-embed', Y.encodeStateAsUpdate(d), 'Y.Text format and insertEmbed')
}

// ContentDeleted: deleted text is garbage-collected into ContentDeleted.
{
  const d = doc(103)
  const t = d.getText('situation')
  t.insert(0, 'slett meg')
  t.delete(0, 6)
  add('deleted', Y.encodeStateAsUpdate(d), 'deleted text: ContentDeleted and a delete set')
}

// GC: the children of a deleted type become GC structs.
{
  const d = doc(104)
  const m = d.getMap('meta')
  const inner = new Y.Text()
  m.set('note', inner)
  inner.insert(0, 'abc')
  inner.insert(3, 'def')
  m.set('note', 1)
  add('gc', Y.encodeStateAsUpdate(d), 'a replaced Y.Text: its items are GC structs')
}

// Skip: merging two updates of one client with a gap between them.
{
  const d = doc(105)
  const t = d.getText('situation')
  t.insert(0, 'a')
  const first = Y.encodeStateAsUpdate(d)
  const sv1 = Y.encodeStateVector(d)
  t.insert(1, 'bb')
  const sv2 = Y.encodeStateVector(d)
  t.insert(3, 'c')
  const third = Y.encodeStateAsUpdate(d, sv2)
  add('skip', Y.mergeUpdates([first, third]), 'mergeUpdates with the middle update missing')
  add('later', Y.encodeStateAsUpdate(d, sv1), 'an update not starting at clock 0')
}

// ContentBinary.
{
  const d = doc(106)
  d.getMap('meta').set('bin', new Uint8Array([0, 1, 2, 254, 255]))
  d.getArray('list').push([new Uint8Array(300).fill(7)])
  add('binary', Y.encodeStateAsUpdate(d), 'Uint8Array values in a map and an array')
}

// ContentAny: every lib0 writeAny tag.
{
  const d = doc(107)
  const m = d.getMap('values')
  m.set('small', 42)
  m.set('negative', -7)
  m.set('int31', 2147483647)
  m.set('minus_int31', -2147483647)
  m.set('float32', 1.5)
  m.set('float64', 0.1)
  m.set('large', 2 ** 53 - 1)
  m.set('bigint', 2n ** 60n)
  m.set('negative_bigint', -(2n ** 62n))
  m.set('yes', true)
  m.set('no', false)
  m.set('nothing', null)
  m.set('undef', undefined)
  m.set('text', 'tekst ✓')
  m.set('nested', { a: [1, 2.5, { b: 'c', d: [true, null] }], e: {} })
  m.set('bytes_in_any', { raw: new Uint8Array([9, 8, 7]) })
  d.getArray('list').insert(0, [1, 'two', { three: 3 }, [4], -5.25])
  add('any', Y.encodeStateAsUpdate(d), 'every writeAny tag: integers, floats, bigint, nested')
}

// ContentJSON: legacy content yjs still reads; made by integrating an item directly.
{
  const d = doc(108)
  const arr = d.getArray('legacy')
  d.transact((tr) => {
    const item = new Y.Item(
      Y.createID(d.clientID, Y.getState(d.store, d.clientID)),
      null, null, null, null, arr, null,
      new Y.ContentJSON([{ a: 1 }, 'x', null])
    )
    item.integrate(tr, 0)
  })
  add('json', Y.encodeStateAsUpdate(d), 'legacy ContentJSON (three values)')
}

// ContentType: every type ref, including XmlElement, XmlText, XmlFragment and XmlHook.
{
  const d = doc(109)
  const m = d.getMap('types')
  m.set('array', new Y.Array())
  m.set('map', new Y.Map())
  m.set('text', new Y.Text('t'))
  m.set('fragment', new Y.XmlFragment())
  const frag = d.getXmlFragment('xml')
  const el = new Y.XmlElement('paragraph')
  frag.insert(0, [el, new Y.XmlText('løs tekst')])
  el.setAttribute('class', 'c')
  el.insert(0, [new Y.XmlText('inni')])
  add('types', Y.encodeStateAsUpdate(d), 'Y.Array, Y.Map, Y.Text, XmlFragment, XmlElement, XmlText')
}

// XmlHook alone: yjs writes and reads it; pycrdt (yrs) cannot apply it.
{
  const d = doc(110)
  const hook = new Y.XmlHook('hook-name')
  hook.set('k', 'v')
  d.getXmlFragment('xml').insert(0, [hook])
  add('xmlhook', Y.encodeStateAsUpdate(d), 'a Y.XmlHook in an XmlFragment')
}

// ContentDoc: a subdocument with options.
{
  const d = doc(111)
  d.getMap('subdocs').set('sub', new Y.Doc({ guid: 'sub-guid-1', meta: { n: 1 }, autoLoad: true }))
  add('subdoc', Y.encodeStateAsUpdate(d), 'a subdocument (guid and options)')
}

// Several clients in one update, and large clientIDs (up to 2^32-1).
{
  const a = doc(4294967295)
  const b = doc(1)
  const c = doc(2 ** 31)
  a.getText('situation').insert(0, 'fra a')
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  b.getText('situation').insert(0, 'fra b ')
  Y.applyUpdate(c, Y.encodeStateAsUpdate(b))
  c.getMap('meta').set('by', 'c')
  c.getText('situation').delete(0, 2)
  add('many-clients', Y.encodeStateAsUpdate(c), 'three clients, one of them 2^32-1')
}

// Only deletions: no structs, a delete set.
{
  const d = doc(112)
  const t = d.getText('situation')
  t.insert(0, 'abcdef')
  const sv = Y.encodeStateVector(d)
  t.delete(1, 3)
  add('deletes-only', Y.encodeStateAsUpdate(d, sv), 'a deletion: empty struct list')
}

// An empty document.
add('empty', Y.encodeStateAsUpdate(doc(113)), 'nothing at all')

writeFileSync(OUT, JSON.stringify({ yjs: '13.6.33 (web/package-lock.json)', cases }, null, 1) + '\n')
console.log(`wrote ${cases.length} updates to ${OUT}`)
