// Unit tests for src/bind-text.js: the minimal diff, caret transformation, and
// two textareas (fakes) bound to two Y.Docs that merge concurrent edits.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { diffStrings, transformPosition, bindText } from '../src/bind-text.js'

test('diffStrings finds the one changed span', () => {
  assert.equal(diffStrings('abc', 'abc'), null)
  assert.deepEqual(diffStrings('hello world', 'hello brave world'), { index: 6, remove: 0, insert: 'brave ' })
  assert.deepEqual(diffStrings('hello brave world', 'hello world'), { index: 6, remove: 6, insert: '' })
  assert.deepEqual(diffStrings('abc', 'aXc'), { index: 1, remove: 1, insert: 'X' })
  assert.deepEqual(diffStrings('', 'new'), { index: 0, remove: 0, insert: 'new' })
})

test('diffStrings never splits a surrogate pair', () => {
  const change = diffStrings('a😀b', 'a😃b')
  assert.equal(change.index, 1)
  assert.equal(change.remove, 2)
  assert.equal(change.insert, '😃')
})

test('transformPosition moves the caret past remote inserts before it', () => {
  assert.equal(transformPosition(5, [{ insert: 'abc' }]), 8)
  assert.equal(transformPosition(5, [{ retain: 5 }, { insert: 'abc' }]), 5)
  assert.equal(transformPosition(5, [{ retain: 7 }, { insert: 'abc' }]), 5)
  assert.equal(transformPosition(5, [{ retain: 1 }, { delete: 2 }]), 3)
  assert.equal(transformPosition(5, [{ retain: 3 }, { delete: 10 }]), 3)
})

class FakeField {
  constructor () {
    this.value = ''
    this.readOnly = false
    this.disabled = false
    this.selectionStart = 0
    this.selectionEnd = 0
    this.scrollTop = 0
    this.listeners = {}
  }

  addEventListener (name, fn) { this.listeners[name] = fn }
  removeEventListener (name) { delete this.listeners[name] }
  setSelectionRange (a, b) { this.selectionStart = a; this.selectionEnd = b }
  type (value) { this.value = value; this.listeners.input?.() }
}

test('two bound fields on two docs merge concurrent edits', () => {
  globalThis.document = { activeElement: null }
  const a = new Y.Doc()
  const b = new Y.Doc()
  const fa = new FakeField()
  const fb = new FakeField()
  bindText(fa, a.getText('t'))
  bindText(fb, b.getText('t'))
  fa.type('Jeg liker tur.')
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  assert.equal(fb.value, 'Jeg liker tur.')
  // Concurrent: A appends, B prepends.
  fa.type('Jeg liker tur. Og musikk.')
  fb.type('Per: Jeg liker tur.')
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
  assert.equal(fa.value, 'Per: Jeg liker tur. Og musikk.')
  assert.equal(fb.value, fa.value)
})

test('a remote edit keeps the local caret in place', () => {
  const a = new Y.Doc()
  const field = new FakeField()
  globalThis.document = { activeElement: field }
  const text = a.getText('t')
  bindText(field, text)
  field.type('world')
  field.setSelectionRange(5, 5)
  const remote = new Y.Doc()
  Y.applyUpdate(remote, Y.encodeStateAsUpdate(a))
  remote.getText('t').insert(0, 'hello ')
  Y.applyUpdate(a, Y.encodeStateAsUpdate(remote))
  assert.equal(field.value, 'hello world')
  assert.equal(field.selectionStart, 11)
})

test('read-only fields send nothing', () => {
  globalThis.document = { activeElement: null }
  const a = new Y.Doc()
  const field = new FakeField()
  bindText(field, a.getText('t'))
  field.readOnly = true
  field.type('nope')
  assert.equal(a.getText('t').toString(), '')
})
