// The organiser account page: creates the first account from a one-time setup link
// (/setup/{token}), or logs in (/login); once signed in it shows who and offers to log out.
'use strict';

(function () {
  const parts = location.pathname.split('/');
  const setupToken = parts[1] === 'setup' ? decodeURIComponent(parts[2] || '') : null;
  const $ = (id) => document.getElementById(id);
  let csrf = null;

  function status(text) { $('status').textContent = text; }

  async function send(method, url, body) {
    const headers = {};
    if (body) headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    const res = await fetch(url, { method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body ? JSON.stringify(body) : undefined });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data };
  }

  function signedIn(me) {
    csrf = me.csrf_token;
    $('form').hidden = true;
    $('who').textContent = me.user.email;
    $('signed-in').hidden = false;
    status('');
  }

  function showForm() {
    $('signed-in').hidden = true;
    $('form').hidden = false;
    if (setupToken) {
      $('title').textContent = 'Create the first organiser account';
      $('submit').textContent = 'Create account';
      $('password').autocomplete = 'new-password';
      status('This link works once. Choose a password of at least 10 characters.');
    } else {
      $('title').textContent = 'Organiser login';
      $('password').autocomplete = 'current-password';
    }
  }

  $('form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { email: $('email').value, password: $('password').value };
    if (setupToken) body.token = setupToken;
    $('submit').disabled = true;
    status(setupToken ? 'Creating the account…' : 'Checking…');
    try {
      const r = await send('POST', setupToken ? '/api/setup' : '/api/login', body);
      if (r.status === 200 || r.status === 201) {
        $('password').value = '';
        if (setupToken) history.replaceState(null, '', '/login');
        signedIn(r.data);
      } else {
        status(r.data && r.data.error ? r.data.error.message : 'HTTP ' + r.status);
      }
    } catch (e) {
      status('Cannot reach the server; try again.');
    } finally {
      $('submit').disabled = false;
    }
  });

  $('logout').addEventListener('click', async () => {
    await send('POST', '/api/logout').catch(() => null);
    csrf = null;
    showForm();
    status('Logged out.');
  });

  send('GET', '/api/me').then((r) => (r.status === 200 ? signedIn(r.data) : showForm()),
    () => showForm());
})();
