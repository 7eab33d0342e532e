// HTTP API client: JSON in and out, the CSRF header on every change, errors as
// ApiError {status, code, message, field}.

import { language } from './i18n.js'

let csrf = null

export function setCsrf (token) {
  csrf = token
}

export class ApiError extends Error {
  constructor (status, code, message, field = null) {
    super(message || code)
    this.status = status
    this.code = code
    // The request field the message is about (e.g. "starts_at", "changes.ends"), if any.
    this.field = field
  }
}

export async function request (method, path, body) {
  // The server writes its messages in the page's language.
  const headers = { accept: 'application/json', 'accept-language': language() }
  if (method !== 'GET' && method !== 'HEAD') {
    headers['content-type'] = 'application/json'
    if (csrf) headers['x-csrf-token'] = csrf
  }
  let response
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  } catch (err) {
    throw new ApiError(0, 'offline', err.message)
  }
  const type = response.headers.get('content-type') || ''
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text()
  if (!response.ok) {
    const error = (data && data.error) || {}
    throw new ApiError(response.status, error.code || 'unknown', error.message || '', error.field || null)
  }
  return data
}

// A file as the raw request body (a signed consent form); the server sniffs its type.
export async function upload (path, file) {
  const headers = { accept: 'application/json', 'content-type': file.type || 'application/octet-stream' }
  if (csrf) headers['x-csrf-token'] = csrf
  let response
  try {
    response = await fetch(path, { method: 'POST', headers, credentials: 'same-origin', body: file })
  } catch (err) {
    throw new ApiError(0, 'offline', err.message)
  }
  const data = await response.json().catch(() => null)
  if (!response.ok) {
    const error = (data && data.error) || {}
    throw new ApiError(response.status, error.code || 'unknown', error.message || '')
  }
  return data
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body ?? {}),
  patch: (path, body) => request('PATCH', path, body),
  put: (path, body) => request('PUT', path, body),
  del: (path) => request('DELETE', path)
}
