// Shared by the join page and the moderator console: the live-interaction event stream
// (Server-Sent Events, reopened when the browser gives up), lists redrawn item by item without
// losing the keyboard focus, and a poll's results as a bar chart of plain elements.
'use strict';

window.lcLive = (function () {
  const { el } = lcUI;
  const { t } = lcText;

  /* Opens an EventSource on `url`. handlers: { eventName: fn(data) } for JSON events;
   * onState(state): 'connecting' | 'open' | 'reconnecting' | 'closed'. The browser reconnects
   * by itself after a network error (with Last-Event-ID, so nothing is missed); when it gives
   * up (the server refused the stream) onClosed() is asked whether to try again and the stream
   * is reopened after a growing delay (2 s to 30 s) unless it returns false. Returns
   * { close() }. */
  function stream(url, handlers, { onState = () => {}, onClosed = () => true } = {}) {
    let es = null;
    let timer = null;
    let closed = false;
    let failures = 0;

    function open() {
      timer = null;
      if (closed) return;
      onState('connecting');
      es = new EventSource(url);
      es.onopen = () => { failures = 0; onState('open'); };
      es.onerror = async () => {
        if (closed) return;
        if (es.readyState !== EventSource.CLOSED) return onState('reconnecting');
        onState('closed');
        failures++;
        if (await onClosed() === false || closed) return;
        timer = setTimeout(open, Math.min(30000, 2000 * 2 ** Math.min(failures - 1, 4)));
      };
      for (const [name, fn] of Object.entries(handlers)) {
        es.addEventListener(name, (ev) => {
          let data;
          try { data = JSON.parse(ev.data); } catch (e) { return; }
          fn(data);
        });
      }
    }

    open();
    return {
      close() {
        closed = true;
        clearTimeout(timer);
        if (es) es.close();
      },
    };
  }

  /* Makes `container`'s children the nodes of `items`, in order: an item whose signature
   * (sig(item), a string) is unchanged keeps its node; a changed one gets a new node from
   * build(item). Focus inside a replaced node moves to the new node's element with the same
   * data-k attribute, so a list that changes while someone tabs through it keeps their place.
   * Costs one build per changed item. */
  function reconcile(container, items, key, sig, build) {
    const old = new Map();
    for (const n of container.children) if (n.dataset.key) old.set(n.dataset.key, n);
    const active = document.activeElement;
    const activeK = active && active.dataset ? active.dataset.k : null;
    let refocus = null;
    const nodes = items.map((item) => {
      const k = String(key(item)), s = sig(item);
      const prev = old.get(k);
      if (prev && prev.dataset.sig === s) return prev;
      const node = build(item);
      node.dataset.key = k;
      node.dataset.sig = s;
      if (prev && activeK && prev.contains(active))
        refocus = node.querySelector('[data-k="' + CSS.escape(activeK) + '"]');
      return node;
    });
    const keep = new Set(nodes);
    for (const n of [...container.children]) if (!keep.has(n)) n.remove();
    nodes.forEach((n, i) => {
      if (container.children[i] !== n) container.insertBefore(n, container.children[i] || null);
    });
    if (refocus) refocus.focus();
    else if (active && active.isConnected && document.activeElement !== active) active.focus();
  }

  /* A poll's results as horizontal bars: one row per option with its label, a bar as wide as
   * its share of the votes and the numbers; the bar's aria-label says the numbers too. */
  function resultBars(poll, results) {
    const counts = new Map((results.counts || []).map((c) => [c.option_id, c.votes]));
    const total = results.total || 0;
    const rows = poll.options.map((o) => {
      const votes = counts.get(o.id) || 0;
      const pct = total ? Math.round((votes / total) * 100) : 0;
      const fill = el('span', { class: 'meter-fill' });
      fill.style.width = pct + '%';
      const numbers = t('poll.votes', { n: votes, pct });
      return el('li', { class: 'meter-row' },
        el('span', { class: 'meter-label', text: o.label }),
        el('span', { class: 'meter', role: 'img', 'aria-label': o.label + ': ' + numbers }, fill),
        el('span', { class: 'meter-num', 'aria-hidden': 'true', text: numbers }));
    });
    return el('div', { class: 'results' },
      el('ul', { class: 'meters' }, rows),
      el('p', { class: 'hint', text: t('poll.voters', { n: results.voters || 0 }) }));
  }

  /* An API refusal as a sentence: a known code's text (key `err.<code>`), else the server's
   * message. */
  function refusal(r) {
    const err = r && r.data && r.data.error;
    if (!r) return t('offline');
    if (err && lcText.has('err.' + err.code)) return t('err.' + err.code);
    if (r.status === 503) return t('busy');
    return err ? err.message : t('httpError', { status: r.status });
  }

  return { stream, reconcile, resultBars, refusal };
})();
