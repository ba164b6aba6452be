// The organiser account page: creates the first account from a one-time setup link
// (/setup/{token}), or logs in (/login); once signed in it shows who and offers to log out.
'use strict';

(function () {
  const parts = location.pathname.split('/');
  const setupToken = parts[1] === 'setup' ? decodeURIComponent(parts[2] || '') : null;
  const $ = (id) => document.getElementById(id);

  function status(text) { $('status').textContent = text; }

  /* Where to go once signed in: ?next= when it names a page of this site, never another host
   * (the login page must not become an open redirect). */
  function nextPath() {
    const next = new URLSearchParams(location.search).get('next');
    if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
      return null;
    const u = new URL(next, location.origin);
    return u.origin === location.origin ? u.pathname + u.search + u.hash : null;
  }

  function signedIn(me) {
    const next = nextPath();
    if (next) return location.replace(next);
    lcUI.setCsrf(me.csrf_token);
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
      const r = await lcUI.request('POST', setupToken ? '/api/setup' : '/api/login', body);
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
    await lcUI.request('POST', '/api/logout').catch(() => null);
    lcUI.setCsrf(null);
    showForm();
    status('Logged out.');
  });

  lcUI.request('GET', '/api/me').then((r) => (r.status === 200 ? signedIn(r.data) : showForm()),
    () => showForm());
})();
