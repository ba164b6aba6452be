// Shared by the registration, join, admin and login pages: JSON requests (with the organiser's
// CSRF token when one is set), a small DOM builder that only ever makes text nodes from data,
// error messages next to form fields, and copying a link to the clipboard.
'use strict';

window.lcUI = (function () {
  let csrfToken = null;

  /* Sends a JSON request; resolves { status, data (parsed JSON or null), headers } for every
   * HTTP status, rejects only when the server cannot be reached. State-changing requests carry
   * X-CSRF-Token once setCsrf() was called (GET /api/me gives the token). */
  /* No answer within timeoutMs (the server holds a long-poll for at most 25 s) rejects like a
   * network error, so a request that is lost on the way is asked again by the caller instead of
   * leaving the page waiting for ever. */
  async function request(method, url, body, { timeoutMs = 40000 } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const res = await fetch(url, { method, headers, credentials: 'same-origin',
        cache: 'no-store', signal: abort.signal,
        body: body !== undefined ? JSON.stringify(body) : undefined });
      const type = res.headers.get('Content-Type') || '';
      const data = /^application\/json/.test(type) ? await res.json().catch(() => null) : null;
      return { status: res.status, data, headers: res.headers };
    } finally {
      clearTimeout(timer);
    }
  }

  function setCsrf(token) { csrfToken = token; }

  /* el('p', { class: 'x', text: 'y', hidden: true }, child, 'text', ...): an element; `text` and
   * string children become text nodes, never markup. Other attributes are set as properties
   * when the element has one (htmlFor, checked, value, ...), otherwise as attributes. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k === 'for') e.htmlFor = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k in e && !k.includes('-')) e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false)
      e.append(c instanceof Node ? c : String(c));
    return e;
  }

  /* The error line of a form control: an element with id "<control id>-error", made right after
   * the control's .field wrapper content when missing; the control points at it with
   * aria-describedby and is marked aria-invalid. message null clears it. */
  function fieldError(control, message) {
    if (!control) return;
    const id = control.id + '-error';
    let line = document.getElementById(id);
    if (!line) {
      line = el('p', { id, class: 'field-error' });
      (control.closest('.field') || control.parentNode).append(line);
    }
    line.textContent = message || '';
    line.hidden = !message;
    if (message) {
      control.setAttribute('aria-invalid', 'true');
      const ids = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      if (!ids.includes(id)) control.setAttribute('aria-describedby', [...ids, id].join(' '));
    } else {
      control.removeAttribute('aria-invalid');
    }
  }

  function clearErrors(root) {
    for (const c of root.querySelectorAll('[aria-invalid="true"]')) fieldError(c, null);
  }

  /* Copies text; resolves true when it worked (the Clipboard API needs a secure context or
   * localhost; elsewhere the text is selected in `input` for the user to copy). */
  async function copy(text, input) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      if (input) { input.focus(); input.select(); }
      return false;
    }
  }

  return { request, setCsrf, el, fieldError, clearErrors, copy };
})();
