// A small Server-Sent Events client for the test suites: connects with node:http (so it sends
// exactly the headers it is given: Cookie, Last-Event-ID), parses the stream as it arrives by the
// rules of the HTML standard (id/event/data/retry fields, comments, multi-line data, CRLF, LF or
// CR line ends), keeps every event and comment it received, and lets a test wait for the next
// event it expects. A refused request (any status but 200 text/event-stream) is answered whole,
// with its status, headers and JSON, so that tests can check the error.
import http from 'node:http';

/* Every stream opened and not yet closed: closeAllStreams() ends them (an open stream would keep
 * the test process alive). */
const open = new Set();

/* The incremental parser, on its own so that it can be fed any split of a stream. `onEvent`
 * gets {id, lastEventId, event, data} for each dispatched event: `id` is the id field given in
 * that event's own lines (null when none), `lastEventId` the stream's last event id so far (the
 * value a browser would send on reconnecting); `onComment` gets the text after the colon (one
 * leading space removed). An event whose lines had no data field is not dispatched (as in
 * browsers); an unfinished event at the end of the stream is dropped. */
export class SseParser {
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.buf = '';
    this.started = false; // a byte order mark is skipped only at the very start
    this.lastEventId = '';
    this.retry = null;
    this.reset();
  }

  reset() {
    this.data = [];
    this.type = '';
    this.id = null;
  }

  /* Feeds decoded text (any split, even inside a CRLF). */
  feed(text) {
    this.buf += text;
    if (!this.started && this.buf.length) {
      this.started = true;
      if (this.buf[0] === '\uFEFF') this.buf = this.buf.slice(1);
    }
    let start = 0;
    for (;;) {
      const cr = this.buf.indexOf('\r', start);
      const lf = this.buf.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      // A CR as the last character may be the first half of a CRLF: wait for the next chunk.
      if (end === cr && end === this.buf.length - 1) break;
      const line = this.buf.slice(start, end);
      start = end + (this.buf[end] === '\r' && this.buf[end + 1] === '\n' ? 2 : 1);
      this.line(line);
    }
    this.buf = this.buf.slice(start);
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line[0] === ':') return this.onComment(line.slice(line[1] === ' ' ? 2 : 1));
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
      this.lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    // Any other field is ignored, as the standard says.
    return undefined;
  }

  dispatch() {
    if (this.data.length) {
      this.onEvent({ id: this.id, lastEventId: this.lastEventId, event: this.type || 'message',
        data: this.data.join('\n') });
    }
    this.reset();
  }
}

/* A connected stream. Properties: ok (true), status, headers, events (every event so far, in
 * order: {id, lastEventId, event, data, json (parsed data, undefined when it is not JSON), at
 * (Date.now() on arrival)}), comments ({text, at} each), ended (the server closed it), error. */
class EventStream {
  constructor(req, res) {
    this.ok = true;
    this.req = req;
    this.res = res;
    this.status = res.statusCode;
    this.headers = res.headers;
    this.openedAt = Date.now();
    this.events = [];
    this.comments = [];
    this.raw = '';
    this.cursor = 0; // next() and waitFor() look at events from here on
    this.ended = false;
    this.error = null;
    this.waiters = new Set();
    const parser = new SseParser((e) => {
      let json;
      try { json = JSON.parse(e.data); } catch { /* not JSON: the test sees json undefined */ }
      this.events.push({ ...e, json, at: Date.now() });
      this.wake();
    }, (text) => {
      this.comments.push({ text, at: Date.now() });
      this.wake();
    });
    res.setEncoding('utf8'); // a character split across two chunks is decoded whole
    res.on('data', (chunk) => {
      this.raw += chunk;
      parser.feed(chunk);
    });
    const finish = (err) => {
      if (this.ended) return;
      this.ended = true;
      this.error = err ?? null;
      open.delete(this);
      this.wake();
    };
    res.on('end', () => finish());
    res.on('error', finish);
    res.on('close', () => finish());
    req.on('error', finish);
  }

  /* The text received so far, as a Buffer (so that assertError can print it). */
  get body() {
    return Buffer.from(this.raw, 'utf8');
  }

  get json() {
    return undefined;
  }

  /* The id of the newest event that had one (what a browser would send as Last-Event-ID). */
  get lastEventId() {
    return this.events.length ? this.events[this.events.length - 1].lastEventId : '';
  }

  wake() {
    for (const w of this.waiters) w();
  }

  /* Resolves with cond()'s first truthy value, calling it whenever something arrives. Rejects
   * when `timeoutMs` pass or the stream ends first (or cond throws), naming `what` and the events
   * it did get. */
  until(cond, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      let timer;
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        let v;
        try {
          v = cond();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (v) {
          done();
          resolve(v);
        } else if (this.ended) {
          done();
          reject(new Error(`the event stream ended (${this.error?.message ?? 'closed'}) before ` +
            `${what}; got: ${this.describe()}`));
        }
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; got: ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /* Resolves with the first event from the cursor on for which pred(event) is true, and moves
   * the cursor past it (events skipped stay in `events`). */
  waitFor(pred, timeoutMs = 5000, what = 'matching event') {
    return this.until(() => {
      for (let i = this.cursor; i < this.events.length; i++) {
        if (pred(this.events[i])) {
          this.cursor = i + 1;
          return this.events[i];
        }
      }
      return null;
    }, timeoutMs, what);
  }

  /* Resolves with the first event anywhere in the stream (the cursor neither used nor moved)
   * for which pred(event) is true: for an event whose place among others does not matter. */
  waitSeen(pred, timeoutMs = 5000, what = 'matching event') {
    return this.until(() => this.events.find(pred), timeoutMs, what);
  }

  /* The next event of `type` (any type when omitted), from the cursor on. */
  next(type, timeoutMs = 5000) {
    return this.waitFor((e) => type === undefined || e.event === type, timeoutMs,
      `${type ?? 'any'} event`);
  }

  /* Resolves once `n` comments (e.g. ": ping") have arrived in all; returns the n-th. */
  waitComments(n, timeoutMs = 5000) {
    return this.until(() => this.comments[n - 1], timeoutMs, `${n} comment line(s)`);
  }

  /* Resolves once the server has closed the stream. */
  waitEnd(timeoutMs = 5000) {
    return this.until(() => this.ended, timeoutMs, 'the end of the stream');
  }

  /* Events received after the one given (or all), optionally only of one type. */
  after(event, type) {
    const from = event ? this.events.indexOf(event) + 1 : 0;
    return this.events.slice(from).filter((e) => type === undefined || e.event === type);
  }

  describe() {
    return JSON.stringify(this.events.map((e) => `${e.event}#${e.id ?? ''} ${e.data}`
      .slice(0, 160))).slice(0, 4000);
  }

  /* Ends the connection; resolves when it is closed. Closing twice is harmless. */
  close() {
    open.delete(this);
    if (!this.ended) {
      this.req.destroy();
      this.res.destroy();
    }
    return Promise.resolve();
  }
}

/* Opens `url` as an event stream. Options: headers (e.g. {Cookie: '...'}), lastEventId (sent as
 * the Last-Event-ID header), timeoutMs for the response headers (default 10 s). Resolves with an
 * EventStream when the answer is 200 text/event-stream; otherwise, once the whole answer is read,
 * with {ok: false, status, headers, body (Buffer), json (parsed when JSON), close()}: the shape
 * of harness.mjs's httpRequest, so assertError applies. Rejects only on a network error. */
export function openEvents(url, { headers = {}, lastEventId, timeoutMs = 10000 } = {}) {
  const h = { Accept: 'text/event-stream', ...headers };
  if (lastEventId !== undefined) h['Last-Event-ID'] = lastEventId;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: h, agent: false }, (res) => {
      clearTimeout(timer);
      const type = res.headers['content-type'] || '';
      if (res.statusCode === 200 && /^text\/event-stream/.test(type)) {
        const s = new EventStream(req, res);
        open.add(s);
        resolve(s);
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json;
        if (/^application\/json/.test(type) && body.length) {
          try { json = JSON.parse(body.toString('utf8')); } catch { /* left undefined */ }
        }
        resolve({ ok: false, status: res.statusCode, headers: res.headers, body, json,
          close: () => Promise.resolve() });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(
      `GET ${url}: no response headers within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/* Closes every stream still open (for an `after` hook). */
export async function closeAllStreams() {
  await Promise.all([...open].map((s) => s.close()));
}

/* The parts of an `EPOCH-SEQ` event id as numbers, or null when it is not one. */
export function parseEventId(id) {
  const m = /^(\d+)-(\d+)$/.exec(id ?? '');
  return m ? { epoch: Number(m[1]), seq: Number(m[2]) } : null;
}
