// Live interaction against the real server (docs/api.md, "Live interaction"): the event streams
// of attendees and moderators read by a real SSE client (snapshot first, increasing EPOCH-SEQ
// ids, resuming with Last-Event-ID without a snapshot, a snapshot for an unknown id, the ping
// comment), who may open them, and what each reader never sees; polls and their votes (every
// rule, one vote per attendee in the database, 200 attendees at once, the CSV exports and the
// lead exports); questions, chat and raised hands with their limits; names shown only as the
// settings and the attendee allow; the console's health of a real ffmpeg presenter and ending
// the webinar; CSRF and cross-origin refusals.
//
// That a stream did NOT receive something is checked only after a later event has arrived on
// that same stream (a "marker": events come in sequence order), so an absence is not just an
// event still on its way.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  test, startServer, stopAndCheck, api, assertError, loginOrganiser, rememberSecret, sqlite,
  trackWebinar, push, pushExit, waitLive, waitFor, sleep, parseCsv,
} from '../lib/harness.mjs';
import { openEvents, closeAllStreams, parseEventId } from '../lib/sse.mjs';

const ADMIN = '/api/admin/webinars';
const EVENT_MS = 5000; // how long an event may take to reach a stream
let server;
let org;
let idle; // an attendee stream of a room where nothing happens: the ping comment, isolation
// Names, emails and texts the tests send: none may appear in the server's log.
const personal = new Set();

before(async () => {
  // Pings every 2 s (--events-ping) instead of 15: the tests see them, and closed streams go, soon.
  server = await startServer({ args: ['--events-ping', '2'] });
  org = await loginOrganiser(server);
  const r = await room('Idle room', { people: 1 });
  idle = await attendeeEvents(r.people[0]);
});

after(async () => {
  await closeAllStreams();
});

/* ---- helpers ------------------------------------------------------------------------------ */

const as = (method, p, opts = {}) => api(server, method, p, { session: org, ...opts });
const cookie = () => ({ Cookie: `lectern_session=${org.cookie}` });
/* An attendee's request through their join link. */
const att = (person, method, sub, body, headers = {}) =>
  api(server, method, `/api/join/${person.token}${sub}`, { body, headers });

let seq = 0;

/* A registration webinar (settings given to POST in `create`, the interaction settings PATCHed
 * after) with `people` registered attendees: {w, people: [{name, email, token, id}]}. */
async function room(title, { create = {}, settings = {}, people = 2 } = {}) {
  const r = await as('POST', ADMIN, { body: { title, ...create } });
  assert.equal(r.status, 201, `create: ${r.body}`);
  let w = trackWebinar(server, r.json);
  if (Object.keys(settings).length) w = await patchWebinar(w, settings);
  return { w, people: await registerMany(w, people) };
}

async function patchWebinar(w, body) {
  const r = await as('PATCH', `${ADMIN}/${w.id}`, { body });
  assert.equal(r.status, 200, `PATCH ${JSON.stringify(body)}: ${r.body}`);
  return r.json;
}

/* Registers n people (50 at a time) through the public form; their ids from the organisers'
 * list. */
async function registerMany(w, n) {
  const pub = await api(server, 'GET', `/api/webinars/${w.slug}`);
  assert.equal(pub.status, 200);
  const version = pub.json.registration.consent_version;
  const people = [];
  for (let i = 0; i < n; i += 50) {
    people.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
      seq += 1;
      const person = { name: `Attendee ${seq} Quillfeather`,
        email: `attendee${seq}.ix@example.com` };
      const res = await api(server, 'POST', `/api/webinars/${w.slug}/registrations`,
        { body: { ...person, consent: true, consent_version: version } });
      assert.equal(res.status, 201, `register: ${res.body}`);
      const token = /\/j\/([A-Za-z0-9_-]{43})$/.exec(res.json.join_url)?.[1];
      assert.ok(token, res.json.join_url);
      personal.add(person.name).add(person.email);
      return { ...person, token: rememberSecret(token) };
    })));
  }
  const list = await as('GET', `${ADMIN}/${w.id}/registrations?limit=1000`);
  assert.equal(list.status, 200);
  const ids = new Map(list.json.registrations.map((x) => [x.email, x.id]));
  for (const p of people) {
    p.id = ids.get(p.email);
    assert.ok(Number.isInteger(p.id), `registration id of ${p.email}`);
  }
  return people;
}

async function attendeeEvents(person, opts) {
  const s = await openEvents(server.url(`/api/join/${person.token}/events`), opts);
  assert.equal(s.status, 200, `events of ${person.name}: ${s.body}`);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  return s;
}

async function moderatorEvents(w, opts = {}) {
  const s = await openEvents(server.url(`${ADMIN}/${w.id}/events`),
    { ...opts, headers: { ...cookie(), ...opts.headers } });
  assert.equal(s.status, 200, `moderator events: ${s.body}`);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  return s;
}

/* A stream whose first event (the snapshot) has been read and checked: s.snapshot is its data. */
async function joined(stream) {
  const first = await stream.next(undefined, EVENT_MS);
  assert.equal(first.event, 'snapshot', 'the first event is a snapshot');
  assert.ok(first.json && typeof first.json === 'object', `snapshot data is JSON: ${first.data}`);
  stream.snapshot = first.json;
  return stream;
}
const attendee = async (p) => joined(await attendeeEvents(p));
const moderator = async (w) => joined(await moderatorEvents(w));

/* A room (as room(); 3 attendees unless told), with the moderators' stream and the streams of its
 * first two attendees open and their snapshots read: {w, people, mod, sa, sb}. */
async function watchedRoom(title, opts = {}) {
  const r = await room(title, { people: 3, ...opts });
  return { ...r, mod: await moderator(r.w), sa: await attendee(r.people[0]),
    sb: await attendee(r.people[1]) };
}

/* A predicate on events: of this type, and (optionally) whose data satisfies `pred`. */
const ev = (type, pred = () => true) => (e) => e.event === type && pred(e.json);

async function createPoll(w, body) {
  const r = await as('POST', `${ADMIN}/${w.id}/polls`, { body });
  assert.equal(r.status, 201, `create poll: ${r.body}`);
  return r.json;
}
const pollUrl = (w, p, sub = '') => `${ADMIN}/${w.id}/polls/${p.id ?? p}${sub}`;
const pollAction = (w, p, action, body) => as('POST', pollUrl(w, p, `/${action}`), { body });
const vote = (person, p, options, headers) =>
  att(person, 'POST', `/polls/${p.id ?? p}/vote`, { options }, headers);
const opt = (p, i) => p.options[i].id;

let markers = 0;
/* A public event every attendee of the room sees (a poll opened at once), awaited on each of the
 * streams: whatever a stream did not get before it, it was not sent. */
async function mark(w, ...streams) {
  const p = await createPoll(w, { question: `Marker ${++markers}`, options: ['yes', 'no'],
    open: true });
  for (const s of streams)
    await s.waitSeen(ev('poll', (x) => x.id === p.id), EVENT_MS, `marker poll ${p.id}`);
  return p;
}

/* Moderators' view of the room's polls, by id. */
async function modPolls(w) {
  const r = await as('GET', `${ADMIN}/${w.id}/polls`);
  assert.equal(r.status, 200, r.body.toString());
  return new Map(r.json.polls.map((p) => [p.id, p]));
}

/* Votes per option id, from a results object. */
const countsOf = (results) => Object.fromEntries(results.counts.map((c) => [c.option_id,
  c.votes]));

/* The poll's rows in the database: who (the keyed hash, in hex; the registration for an
 * attributed poll) and what. */
async function pollVotes(pollId) {
  return sqlite(server.dataDir, 'SELECT hex(voter) AS voter, registration_id, choices ' +
    `FROM poll_votes WHERE poll_id = ${Number(pollId)}`);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/* ---- events -------------------------------------------------------------------------------- */

test('events: the first event is a snapshot of what this reader may see', async () => {
  const { w, people: [a] } = await room('Snapshots');
  const mod = await moderator(w);
  assert.deepEqual(mod.snapshot, {
    settings: { questions_public: false, chat_enabled: false, names_hidden: true },
    polls: [], questions: [], chat: [], hands: [], audience: { watching: 0, waiting: 0 },
    muted: [],
  });
  const sa = await attendee(a);
  assert.deepEqual(sa.snapshot, {
    settings: { questions_public: false, chat_enabled: false, names_hidden: true },
    you: { registration_id: a.id, hand: { raised: false, raised_at: null, acknowledged_at: null },
      muted: false },
    polls: [], questions: [], chat: [],
  });
  const raised = await att(a, 'POST', '/hand', { raised: true });
  assert.equal(raised.status, 200, raised.body.toString());
  assert.deepEqual((await attendee(a)).snapshot.you.hand, raised.json, 'the hand as it is now');
});

test('events: EPOCH-SEQ ids that increase; drafts only for moderators; ' +
  'the audience count', async () => {
  const { w, people: [a, b] } = await room('Events order');
  const mod = await moderator(w);
  const sa = await attendee(a);
  await mod.waitFor(ev('audience', (x) => x.watching === 1 && x.waiting === 0), EVENT_MS,
    'audience 1 watching');

  const draft = await createPoll(w, { question: 'Prepared before', options: ['x', 'y'] });
  assert.equal(draft.state, 'draft');
  const modDraft = await mod.waitFor(ev('poll', (x) => x.id === draft.id), EVENT_MS);
  assert.equal(modDraft.json.state, 'draft');
  const live = await createPoll(w, { question: 'Opened at once', options: ['x', 'y'],
    open: true });
  assert.equal(live.state, 'open');
  const aLive = await sa.waitFor(ev('poll', (x) => x.id === live.id), EVENT_MS);
  assert.equal(aLive.json.state, 'open');
  assert.equal(aLive.json.results, null, 'results hidden until shown');
  assert.equal(aLive.json.results_shown, undefined, 'the attendee view has no results_shown');
  assert.deepEqual(aLive.json.options.map((o) => o.label), ['x', 'y']);
  await mod.waitFor(ev('poll', (x) => x.id === live.id && x.state === 'open'), EVENT_MS);
  assert.ok(!sa.events.some(ev('poll', (x) => x.id === draft.id)), 'no draft reaches attendees');
  const p = await patchWebinar(w, { chat_enabled: true });
  assert.equal(p.chat_enabled, true);
  const settings = await sa.waitFor(ev('settings'), EVENT_MS);
  assert.deepEqual(settings.json, { questions_public: false, chat_enabled: true,
    names_hidden: true });
  await mod.waitFor(ev('settings', (x) => x.chat_enabled === true), EVENT_MS);

  // Ids: one epoch, sequence numbers increasing on each stream; the attendee's skip the draft's.
  for (const [s, what] of [[sa, 'attendee'], [mod, 'moderator']]) {
    const ids = s.events.slice(1).map((e) => parseEventId(e.id));
    assert.ok(ids.length >= 2 && ids.every(Boolean),
      `${what}: every event has an EPOCH-SEQ id: ${s.describe()}`);
    assert.ok(ids.every((x) => x.epoch === ids[0].epoch), `${what}: one epoch`);
    for (let i = 1; i < ids.length; i++)
      assert.ok(ids[i].seq > ids[i - 1].seq, `${what}: ids increase: ${s.describe()}`);
  }
  const draftSeq = parseEventId(modDraft.id).seq;
  assert.ok(parseEventId(aLive.id).seq > draftSeq, 'the draft had a number of the sequence');
  assert.ok(!sa.events.some((e) => parseEventId(e.id)?.seq === draftSeq),
    'the attendee\'s ids have a gap where the draft was');

  // A new attendee's snapshot: the open poll, not the draft; the moderator's: both.
  const sb = await attendee(b);
  assert.deepEqual(sb.snapshot.polls.map((x) => [x.id, x.state, x.my_vote, x.results]),
    [[live.id, 'open', null, null]]);
  const mod2 = await moderator(w);
  assert.deepEqual(mod2.snapshot.polls.map((x) => [x.id, x.state]),
    [[draft.id, 'draft'], [live.id, 'open']]);
  assert.equal(mod2.snapshot.settings.chat_enabled, true);
  await mod.waitFor(ev('audience', (x) => x.watching === 2), EVENT_MS, 'audience 2 watching');
  await sb.close();
  // A closed connection may go unnoticed until a write to it fails: the second ping after the
  // close at the latest (2 s apart here), then at most 2 s until the audience is sent.
  await mod.waitFor(ev('audience', (x) => x.watching === 1), 8000,
    'audience back to 1 when a stream closes');
});

test('events: a reconnect with Last-Event-ID gets exactly the events it missed, without a ' +
  'snapshot; an unknown or old-epoch id gets a snapshot', async () => {
  const { w, people: [a, b] } = await room('Reconnect', { settings: { chat_enabled: true } });
  const sa = await attendee(a);
  const sb = await attendee(b);
  const p = await createPoll(w, { question: 'Before the break', options: ['x', 'y'],
    open: true });
  const ea = await sa.waitFor(ev('poll', (x) => x.id === p.id), EVENT_MS);
  const eb = await sb.waitFor(ev('poll', (x) => x.id === p.id), EVENT_MS);
  assert.equal(ea.id, eb.id, 'one event of the webinar has one id on every stream');
  await sa.close();

  // While A is away: four events A may see, and B's private message, which A may not.
  assert.equal((await pollAction(w, p, 'results', { shown: true })).status, 200);
  assert.equal((await att(b, 'POST', '/chat', { body: 'For the moderators only',
    to: 'moderators' })).status, 201);
  await patchWebinar(w, { questions_public: true });
  assert.equal((await pollAction(w, p, 'close')).status, 200);
  const other = await createPoll(w, { question: 'While away', options: ['1', '2'], open: true });
  await sb.waitFor(ev('poll', (x) => x.id === other.id), EVENT_MS);
  const missed = () => sb.after(eb).filter((e) => e.event !== 'chat');
  assert.deepEqual(missed().map((e) => e.event), ['poll', 'settings', 'poll', 'poll'],
    `what B got meanwhile: ${sb.describe()}`);

  // The header, and the query parameter: the missed events (B's, less B's private message) in
  // order, and nothing else; then what comes next (a marker, seen by B as well).
  for (const how of ['header', 'query']) {
    const expected = missed();
    const s = how === 'header'
      ? await attendeeEvents(a, { lastEventId: ea.id })
      : await openEvents(server.url(`/api/join/${a.token}/events?last_event_id=` +
        encodeURIComponent(ea.id)));
    assert.equal(s.status, 200, `${how}: ${s.body}`);
    await s.until(() => s.events.length >= expected.length, EVENT_MS,
      `${how}: the missed events`);
    const marker = await mark(w, s, sb);
    const got = s.events.filter((e) => !(e.event === 'poll' && e.json.id === marker.id));
    assert.deepEqual(got.map((e) => [e.id, e.event, e.json]),
      expected.map((e) => [e.id, e.event, e.json]), `${how}: exactly the missed events`);
    assert.equal(s.events.at(-1).json.id, marker.id);
    assert.ok(!s.raw.includes('For the moderators only'), `${how}: not B's private message`);
    await s.close();
  }

  // An id the server cannot resume from: a fresh snapshot, with the current state.
  const { epoch, seq: n } = parseEventId(ea.id);
  for (const bad of ['nonsense', `${epoch - 1}-${n}`, `${epoch + 1}-1`]) {
    const r = await joined(await attendeeEvents(a, { lastEventId: bad }));
    assert.deepEqual(r.snapshot.polls.filter((x) => [p.id, other.id].includes(x.id))
      .map((x) => [x.id, x.state, x.results?.total]),
    [[p.id, 'closed', 0], [other.id, 'open', undefined]], `Last-Event-ID ${bad}`);
    assert.equal(r.snapshot.settings.questions_public, true);
    await r.close();
  }
});

test('events and actions: only attendees in the room; unknown links 404; moderators need a ' +
  'session', async () => {
  const pw = rememberSecret('open sesame 42');
  const rooms = {
    pending: await room('Refused: approval', { create: { approval: true }, people: 1 }),
    waiting: await room('Refused: waiting room', { create: { waiting_room: true }, people: 1 }),
    password: await room('Refused: password', { create: { room_password: pw }, people: 1 }),
    rejected: await room('Refused: rejected', { create: { approval: true }, people: 1 }),
  };
  const rej = rooms.rejected;
  assert.equal((await as('POST', `${ADMIN}/${rej.w.id}/registrations/decision`,
    { body: { ids: [rej.people[0].id], decision: 'reject' } })).json.changed, 1);
  for (const [state, { w, people: [p] }] of Object.entries(rooms)) {
    assert.equal((await att(p, 'GET', '')).json.state, state);
    assertError(await openEvents(server.url(`/api/join/${p.token}/events`)), 403,
      'not_admitted');
    // Every action of an attendee is refused the same way, and writes nothing.
    const poll = await createPoll(w, { question: 'Not for you', options: ['a', 'b'], open: true });
    assertError(await vote(p, poll, [opt(poll, 0)]), 403, 'not_admitted');
    assertError(await att(p, 'POST', '/questions', { body: 'Let me ask' }), 403, 'not_admitted');
    assertError(await att(p, 'POST', '/chat', { body: 'Let me talk', to: 'everyone' }), 403,
      'not_admitted');
    assertError(await att(p, 'POST', '/hand', { raised: true }), 403, 'not_admitted');
    const m = await moderator(w);
    assert.deepEqual([m.snapshot.questions, m.snapshot.chat, m.snapshot.hands], [[], [], []],
      `${state}: nothing was written`);
    assert.equal(m.snapshot.polls[0].results.total, 0);
    assert.equal((await pollVotes(poll.id)).length, 0);
    await m.close();
  }
  // Once in the room, the same links open their streams.
  const waiting = rooms.waiting;
  await as('POST', `${ADMIN}/${waiting.w.id}/admission`, { body: { ids: [waiting.people[0].id] } });
  await (await attendee(waiting.people[0])).close();
  const locked = rooms.password.people[0];
  assert.equal((await att(locked, 'POST', '/password', { password: pw })).status, 204);
  await (await attendee(locked)).close();
  const pend = rooms.pending;
  await as('POST', `${ADMIN}/${pend.w.id}/registrations/decision`,
    { body: { ids: [pend.people[0].id], decision: 'approve' } });
  await (await attendee(pend.people[0])).close();

  for (const token of ['A'.repeat(43), 'short'])
    assertError(await openEvents(server.url(`/api/join/${token}/events`)), 404, 'not_found');
  const w = rooms.pending.w;
  assertError(await openEvents(server.url(`${ADMIN}/${w.id}/events`)), 401, 'not_logged_in');
  assertError(await openEvents(server.url(`${ADMIN}/${w.id}/events`),
    { headers: { Cookie: 'lectern_session=not-a-session' } }), 401, 'not_logged_in');
  assertError(await openEvents(server.url(`${ADMIN}/999999/events`), { headers: cookie() }), 404,
    'not_found');
});

test('events: one join link holds at most 8 streams at once (429 too_many_streams); a closed ' +
  'one frees its place', async () => {
  const { people: [p, q] } = await room('Stream limit', { people: 2 });
  const streams = [];
  for (let i = 0; i < 8; i++) streams.push(await attendee(p));
  assertError(await openEvents(server.url(`/api/join/${p.token}/events`)), 429, 'too_many_streams');
  const other = await attendee(q); // another link is not affected
  await streams.pop().close();
  // The server notices the close when a write to it fails: within two pings (2 s here).
  await waitFor(async () => {
    const s = await openEvents(server.url(`/api/join/${p.token}/events`));
    if (s.status !== 200) return false;
    streams.push(s);
    return true;
  }, 10000, 'a place freed by a closed stream', 500);
  for (const s of [...streams, other]) await s.close();
});

test('events: a moderator\'s stream ends when their login ends (logout)', async () => {
  const { w } = await room('Logout ends the console', { people: 1 });
  const other = await loginOrganiser(server, 'second-moderator@example.com');
  const s = await joined(await openEvents(server.url(`${ADMIN}/${w.id}/events`),
    { headers: { Cookie: `lectern_session=${other.cookie}` } }));
  assert.equal(s.ended, false);
  const out = await api(server, 'POST', '/api/logout', { session: other });
  assert.equal(out.status, 204, out.body.toString());
  // The login is looked at again at the stream's next read (a ping: 2 s here) once 2 s passed.
  await s.waitEnd(8000);
  assertError(await openEvents(server.url(`${ADMIN}/${w.id}/events`),
    { headers: { Cookie: `lectern_session=${other.cookie}` } }), 401, 'not_logged_in');
});

test('an attendee never receives another attendee\'s private question, private chat, hand or ' +
  'vote', async () => {
  const { w, people: [a, b], mod, sa, sb } = await watchedRoom('Private things',
    { settings: { chat_enabled: true } });
  const poll = await createPoll(w, { question: 'Attributed', options: ['p', 'q'], open: true,
    anonymous: false });
  const qText = 'A question only the moderators may read';
  const cText = 'A message only the moderators may read';
  personal.add(qText).add(cText);

  const q = await att(a, 'POST', '/questions', { body: qText });
  assert.equal(q.status, 201, q.body.toString());
  const c = await att(a, 'POST', '/chat', { body: cText, to: 'moderators' });
  assert.equal(c.status, 201, c.body.toString());
  assert.equal((await att(a, 'POST', '/hand', { raised: true })).status, 200);
  assert.equal((await vote(a, poll, [opt(poll, 1)])).status, 200);

  // B: none of it, neither as events before the marker nor in a new snapshot.
  await mark(w, sb);
  const leaked = sb.events.filter((e) => ['question', 'chat', 'hand', 'poll_results']
    .includes(e.event));
  assert.deepEqual(leaked, [], 'B got another attendee\'s private events');
  for (const text of [qText, cText, a.name, a.email])
    assert.ok(!sb.raw.includes(text), `B's stream holds ${text}`);
  const fresh = await attendee(b);
  assert.deepEqual([fresh.snapshot.questions, fresh.snapshot.chat], [[], []]);
  assert.notEqual(fresh.snapshot.you.hand?.raised, true, 'not A\'s hand');
  assert.deepEqual(fresh.snapshot.polls.find((x) => x.id === poll.id).my_vote, null);
  assert.ok(!fresh.raw.includes(a.name));

  // The moderators get each, with who it is from.
  const mq = await mod.waitFor(ev('question', (x) => x.id === q.json.id), EVENT_MS);
  assert.equal(mq.json.registration_id, a.id);
  assert.equal(mq.json.name, a.name);
  const mc = await mod.waitFor(ev('chat', (x) => x.id === c.json.id), EVENT_MS);
  assert.equal(mc.json.registration_id, a.id);
  const mh = await mod.waitFor(ev('hand', (x) => x.registration_id === a.id), EVENT_MS);
  assert.equal(mh.json.raised, true);
  assert.equal(mh.json.name, a.name);
  const mr = await mod.waitFor(ev('poll_results', (x) => x.id === poll.id && x.voters === 1),
    EVENT_MS);
  assert.deepEqual(countsOf(mr.json), { [opt(poll, 0)]: 0, [opt(poll, 1)]: 1 });
  // The asker gets their own, as theirs.
  const aq = await sa.waitFor(ev('question', (x) => x.id === q.json.id), EVENT_MS);
  assert.equal(aq.json.mine, true);
  assert.equal(aq.json.public, false);
  const ac = await sa.waitFor(ev('chat', (x) => x.id === c.json.id), EVENT_MS);
  assert.equal(ac.json.private, true);
  assert.equal(ac.json.mine, true);
  const ah = await sa.waitFor(ev('hand'), EVENT_MS);
  assert.equal(ah.json.raised, true);
  // The members of the contract's objects (last, so that a missing member hides nothing above).
  assert.equal(mq.json.public, false, 'the moderators\' QUESTION has public');
  assert.equal(mc.json.private, true, 'the moderators\' MESSAGE has private');
  assert.equal(mc.json.from, 'attendee', 'the moderators\' MESSAGE has from');
  assert.equal(aq.json.upvoted, false, 'an event for the asker alone has mine and upvoted');
});

test('names: hidden from attendees by default even when the attendee shows it; shown only ' +
  'when names are not hidden and show_name is ticked; moderators always see them',
async () => {
  const { w, people: [a, b] } = await room('Names',
    { settings: { questions_public: true, chat_enabled: true } });
  const mod = await moderator(w);
  const sb = await attendee(b);
  assert.equal(sb.snapshot.settings.names_hidden, true);

  /* A asks and chats with show_name; returns the name B saw and the name moderators saw, for the
   * question and the message alike. */
  async function names(showName) {
    const q = await att(a, 'POST', '/questions', { body: `Shown? ${showName}`,
      show_name: showName });
    assert.equal(q.status, 201, q.body.toString());
    const c = await att(a, 'POST', '/chat', { body: `Shown? ${showName}`, to: 'everyone',
      show_name: showName });
    assert.equal(c.status, 201, c.body.toString());
    const bq = await sb.waitFor(ev('question', (x) => x.id === q.json.id), EVENT_MS);
    const bc = await sb.waitFor(ev('chat', (x) => x.id === c.json.id), EVENT_MS);
    const mq = await mod.waitFor(ev('question', (x) => x.id === q.json.id), EVENT_MS);
    const mc = await mod.waitFor(ev('chat', (x) => x.id === c.json.id), EVENT_MS);
    assert.equal(mq.json.show_name, showName);
    assert.equal(mq.json.registration_id, a.id);
    assert.equal(mc.json.registration_id, a.id);
    return [bq.json.name, bc.json.name, mq.json.name, mc.json.name];
  }
  assert.deepEqual(await names(true), [null, null, a.name, a.name], 'names hidden (default)');
  assert.deepEqual(await names(false), [null, null, a.name, a.name]);
  await patchWebinar(w, { hide_attendee_names: false });
  assert.equal((await sb.waitFor(ev('settings'), EVENT_MS)).json.names_hidden, false);
  assert.deepEqual(await names(false), [null, null, a.name, a.name], 'show_name not ticked');
  assert.deepEqual(await names(true), [a.name, a.name, a.name, a.name], 'both allow it');
  await patchWebinar(w, { hide_attendee_names: true });
  assert.equal((await sb.waitFor(ev('settings'), EVENT_MS)).json.names_hidden, true);
  assert.deepEqual(await names(true), [null, null, a.name, a.name], 'hidden again');
});

/* ---- polls --------------------------------------------------------------------------------- */

test('polls: drafts, the rules of a poll, open/close/results, PATCH only a draft, no DELETE ' +
  'while open', async () => {
  const { w, people: [a, b] } = await room('Polls');
  const sb = await attendee(b);
  const mod = await moderator(w);
  const ok = { question: 'Which day suits you?', options: ['Monday', 'Tuesday'] };
  const ten = Array.from({ length: 10 }, (_, i) => `${i}${'é'.repeat(119)}`);
  const refused = [
    [{ options: ok.options }, 'missing_field', 'question'],
    [{ question: ok.question }, 'missing_field', 'options'],
    [{ ...ok, question: '' }, 'invalid_field', 'question'],
    [{ ...ok, question: 'q'.repeat(301) }, 'invalid_field', 'question'],
    [{ ...ok, options: ['Only one'] }, 'invalid_field', 'options'],
    [{ ...ok, options: [...ten, 'eleven'] }, 'invalid_field', 'options'],
    [{ ...ok, options: ['Monday', ''] }, 'invalid_field', 'options'],
    [{ ...ok, options: ['Monday', 'x'.repeat(121)] }, 'invalid_field', 'options'],
    [{ ...ok, options: ['Monday', 'Monday'] }, 'invalid_field', 'options'],
    [{ ...ok, options: ['Monday', 2] }, 'invalid_field', 'options'],
    [{ ...ok, options: 'Monday,Tuesday' }, 'invalid_field', 'options'],
    [{ ...ok, multiple: 1 }, 'invalid_field', 'multiple'],
    [{ ...ok, anonymous: 'no' }, 'invalid_field', 'anonymous'],
    [{ ...ok, open: 'yes' }, 'invalid_field', 'open'],
    [{ ...ok, state: 'open' }, 'unknown_field', 'state'],
  ];
  for (const [body, code, field] of refused)
    assertError(await as('POST', `${ADMIN}/${w.id}/polls`, { body }), 422, code, field);
  assert.equal((await modPolls(w)).size, 0, 'a refused poll writes nothing');

  // The limits themselves are allowed (characters, not bytes).
  const big = await createPoll(w, { question: 'ä'.repeat(300), options: ten });
  assert.equal(big.options.length, 10);
  assert.deepEqual(big.options.map((o) => o.label), ten);
  const p = await createPoll(w, ok);
  assert.deepEqual([p.state, p.multiple, p.anonymous, p.allow_change, p.results_shown],
    ['draft', false, true, false, false], 'the defaults');
  assert.deepEqual(p.results, { total: 0, voters: 0,
    counts: p.options.map((o) => ({ option_id: o.id, votes: 0 })) }, 'moderators: results');
  assert.deepEqual([...(await modPolls(w)).keys()], [big.id, p.id], 'oldest first');

  // PATCH: a draft only, with the same rules.
  const patched = await as('PATCH', pollUrl(w, p), { body: { question: 'Which days suit you?',
    options: ['Monday', 'Tuesday', 'Friday'], multiple: true } });
  assert.equal(patched.status, 200, patched.body.toString());
  assert.equal(patched.json.question, 'Which days suit you?');
  assert.deepEqual(patched.json.options.map((o) => o.label), ['Monday', 'Tuesday', 'Friday']);
  assert.equal(patched.json.multiple, true);
  assertError(await as('PATCH', pollUrl(w, p), { body: { options: ['x'] } }), 422,
    'invalid_field', 'options');
  assertError(await as('PATCH', pollUrl(w, p), { body: { state: 'open' } }), 422,
    'unknown_field', 'state');
  assertError(await as('PATCH', pollUrl(w, 999999), { body: { question: 'x' } }), 404,
    'not_found');
  const poll = patched.json;

  // Open, results shown and hidden, closed, opened again: each reaches attendees; twice is 409.
  const opened = await pollAction(w, poll, 'open');
  assert.equal(opened.status, 200, opened.body.toString());
  assert.equal(opened.json.state, 'open');
  assertError(await pollAction(w, poll, 'open'), 409, 'invalid_state');
  assertError(await as('PATCH', pollUrl(w, poll), { body: { question: 'Too late' } }), 409,
    'not_draft');
  let e = await sb.waitFor(ev('poll', (x) => x.id === poll.id), EVENT_MS);
  assert.deepEqual([e.json.state, e.json.results, e.json.multiple], ['open', null, true]);
  assert.equal((await vote(a, poll, [opt(poll, 0), opt(poll, 2)])).status, 200);
  const shown = await pollAction(w, poll, 'results', { shown: true });
  assert.equal(shown.status, 200);
  assert.equal(shown.json.results_shown, true);
  assertError(await pollAction(w, poll, 'results', { shown: true }), 409, 'invalid_state');
  assertError(await pollAction(w, poll, 'results', { shown: 'yes' }), 422, 'invalid_field',
    'shown');
  e = await sb.waitFor(ev('poll', (x) => x.id === poll.id && x.results !== null), EVENT_MS);
  assert.deepEqual([e.json.results.total, e.json.results.voters], [2, 1]);
  assert.deepEqual(countsOf(e.json.results), { [opt(poll, 0)]: 1, [opt(poll, 1)]: 0,
    [opt(poll, 2)]: 1 });
  assert.equal((await pollAction(w, poll, 'results', { shown: false })).json.results_shown, false);
  e = await sb.waitFor(ev('poll', (x) => x.id === poll.id && x.results === null), EVENT_MS,
    'the results hidden again');
  const closed = await pollAction(w, poll, 'close');
  assert.equal(closed.json.state, 'closed');
  assertError(await pollAction(w, poll, 'close'), 409, 'invalid_state');
  await sb.waitFor(ev('poll', (x) => x.id === poll.id && x.state === 'closed'), EVENT_MS);
  const reopened = await pollAction(w, poll, 'open');
  assert.equal(reopened.json.state, 'open');
  assert.equal(reopened.json.results.voters, 1, 'votes stay when a poll opens again');

  // DELETE: not while open; then with its votes; attendees and moderators are told.
  assertError(await as('DELETE', pollUrl(w, poll)), 409, 'poll_open');
  await pollAction(w, poll, 'close');
  assert.equal((await pollVotes(poll.id)).length, 1);
  const del = await as('DELETE', pollUrl(w, poll));
  assert.equal(del.status, 204, del.body.toString());
  assert.deepEqual((await sb.waitFor(ev('poll_removed'), EVENT_MS)).json, { id: poll.id });
  await mod.waitFor(ev('poll_removed', (x) => x.id === poll.id), EVENT_MS);
  assert.deepEqual([...(await modPolls(w)).keys()], [big.id]);
  assert.equal((await pollVotes(poll.id)).length, 0, 'its votes are deleted with it');
  assertError(await as('DELETE', pollUrl(w, poll)), 404, 'not_found');
  assertError(await pollAction(w, 999999, 'open'), 404, 'not_found');
  // The draft never reached the attendee.
  assert.ok(!sb.events.some(ev('poll', (x) => x.id === big.id)));
});

test('voting: every refusal; one vote per attendee, changed only where allowed; the ' +
  'voter\'s own vote in the snapshot; one row per voter in the database', async () => {
  const { w, people: [a, b, c] } = await room('Votes', { people: 3 });
  const other = await room('Votes elsewhere', { people: 0 });
  const single = await createPoll(w, { question: 'One answer', options: ['s0', 's1', 's2'],
    open: true, anonymous: false });
  const multi = await createPoll(w, { question: 'Many answers', options: ['m0', 'm1', 'm2'],
    open: true, multiple: true, allow_change: true });
  const draft = await createPoll(w, { question: 'Not yet', options: ['d0', 'd1'] });
  const shut = await createPoll(w, { question: 'Over', options: ['c0', 'c1'], open: true });
  await pollAction(w, shut, 'close');
  const elsewhere = await createPoll(other.w, { question: 'Another room', options: ['e0', 'e1'],
    open: true });

  const first = await vote(a, single, [opt(single, 1)]);
  assert.equal(first.status, 200, first.body.toString());
  assert.deepEqual(first.json, { poll_id: single.id, options: [opt(single, 1)], changed: false });
  assertError(await vote(a, single, [opt(single, 2)]), 409, 'already_voted');
  assertError(await vote(a, single, [opt(single, 1)]), 409, 'already_voted');

  const refusals = [
    [b, single, [], 422, 'invalid_field', 'options'],
    [b, single, [opt(single, 0), opt(single, 0)], 422, 'invalid_field', 'options'],
    [b, single, [opt(single, 0), opt(single, 1)], 422, 'invalid_field', 'options'],
    [b, single, [opt(multi, 0)], 422, 'unknown_option', 'options'],
    [b, single, [999999], 422, 'unknown_option', 'options'],
    [b, single, ['1'], 422, 'invalid_field', 'options'],
    [b, multi, [opt(multi, 0), opt(multi, 0)], 422, 'invalid_field', 'options'],
    [b, draft, [opt(draft, 0)], 404, 'not_found'],
    [b, elsewhere, [opt(elsewhere, 0)], 404, 'not_found'],
    [b, 999999, [1], 404, 'not_found'],
    [b, shut, [opt(shut, 0)], 409, 'poll_closed'],
  ];
  for (const [who, poll, options, status, code, field] of refusals)
    assertError(await vote(who, poll, options), status, code, field);
  assertError(await att(b, 'POST', `/polls/${single.id}/vote`, {}), 422, 'missing_field',
    'options');
  assertError(await att(b, 'POST', `/polls/${single.id}/vote`, { options: 1 }), 422,
    'invalid_field', 'options');

  // A multiple-choice poll that allows changing: the count follows the change.
  assert.equal((await vote(a, multi, [opt(multi, 0), opt(multi, 1)])).json.changed, false);
  assert.equal((await vote(b, multi, [opt(multi, 0)])).status, 200);
  const change = await vote(a, multi, [opt(multi, 2)]);
  assert.deepEqual(change.json, { poll_id: multi.id, options: [opt(multi, 2)], changed: true });
  const same = await vote(a, multi, [opt(multi, 2)]);
  assert.equal(same.status, 200);
  const polls = await modPolls(w);
  assert.deepEqual(countsOf(polls.get(multi.id).results), { [opt(multi, 0)]: 1,
    [opt(multi, 1)]: 0, [opt(multi, 2)]: 1 });
  assert.deepEqual([polls.get(multi.id).results.total, polls.get(multi.id).results.voters],
    [2, 2]);
  assert.deepEqual(countsOf(polls.get(single.id).results), { [opt(single, 0)]: 0,
    [opt(single, 1)]: 1, [opt(single, 2)]: 0 }, 'refused votes counted nothing');
  assertError(await vote(a, shut, [opt(shut, 0)]), 409, 'poll_closed');

  // The snapshot (of another tab, say) has each attendee's own vote.
  const again = await attendee(a);
  const mine = Object.fromEntries(again.snapshot.polls.map((x) => [x.id, x.my_vote]));
  assert.deepEqual([mine[single.id], mine[multi.id], mine[shut.id]],
    [[opt(single, 1)], [opt(multi, 2)], null]);
  assert.ok(!(draft.id in mine), 'no draft in an attendee\'s snapshot');
  assert.equal((await attendee(c)).snapshot.polls.find((x) => x.id === single.id).my_vote, null);

  // The database: one row per voter and poll; an attributed poll names the registration, an
  // anonymous one does not.
  const rowsSingle = await pollVotes(single.id);
  assert.equal(rowsSingle.length, 1);
  assert.equal(rowsSingle[0].registration_id, a.id, 'attributed: stored with the registration');
  const rowsMulti = await pollVotes(multi.id);
  assert.equal(rowsMulti.length, 2, `one row per voter: ${JSON.stringify(rowsMulti)}`);
  for (const row of rowsMulti) {
    assert.equal(row.registration_id, null, `anonymous: no registration stored: ${row}`);
    assert.match(row.voter, /^[0-9A-F]{32}$/, 'a keyed hash in its place');
  }
  assert.notEqual(rowsMulti[0].voter, rowsMulti[1].voter);
  // Keyed per poll: A's hash in one poll does not find A in another.
  assert.ok(!rowsMulti.some((r) => r.voter === rowsSingle[0].voter),
    'the same attendee has another hash in another poll');

  // The same attendee voting ten times at once: the database keeps one.
  const race = await createPoll(w, { question: 'All at once', options: ['r0', 'r1'],
    open: true });
  const answers = await Promise.all(Array.from({ length: 10 },
    (_, i) => vote(c, race, [opt(race, i % 2)])));
  assert.deepEqual(answers.map((r) => r.status).sort(), [200, ...Array(9).fill(409)]);
  for (const r of answers.filter((x) => x.status === 409)) assertError(r, 409, 'already_voted');
  assert.equal((await pollVotes(race.id)).length, 1);
  assert.equal((await modPolls(w)).get(race.id).results.voters, 1);
});

test('voting: 200 attendees at once are counted exactly', { timeout: 120e3 }, async () => {
  const N = 200;
  const { w, people } = await room('Crowd', { people: N });
  const poll = await createPoll(w, { question: 'Crowd poll', options: ['even', 'odd'],
    open: true });
  await pollAction(w, poll, 'results', { shown: true });
  const mod = await moderator(w);
  const watcher = await attendee(people[0]);
  const answers = await Promise.all(people.map((p, i) => vote(p, poll, [opt(poll, i % 2)])));
  assert.deepEqual(answers.filter((r) => r.status !== 200).map((r) => r.body.toString()), []);
  const results = (await modPolls(w)).get(poll.id).results;
  assert.deepEqual([results.total, results.voters], [N, N]);
  assert.deepEqual(countsOf(results), { [opt(poll, 0)]: N / 2, [opt(poll, 1)]: N / 2 });
  assert.equal((await pollVotes(poll.id)).length, N, 'one row per voter in the database');
  await mod.waitFor(ev('poll_results', (x) => x.id === poll.id && x.voters === N), EVENT_MS,
    'the final results reach the moderators');
  await watcher.waitFor(ev('poll', (x) => x.id === poll.id && x.results?.voters === N),
    EVENT_MS, 'the final results reach attendees (they are shown)');
  const late = await attendee(people[0]);
  assert.equal(late.snapshot.polls[0].results.voters, N);
  assert.deepEqual(late.snapshot.polls[0].my_vote, [opt(poll, 0)]);
});

test('poll exports: results.csv and polls.csv with exact counts; attributed answers go into ' +
  'the lead exports, anonymous ones do not', async () => {
  const { w, people: [a, b, c, d] } = await room('Exports', { people: 4 });
  const named = await createPoll(w, { question: 'Favourite colour, "really"?',
    options: ['Red, "warm"', 'Blue', 'Green'], multiple: true, anonymous: false, open: true });
  const anon = await createPoll(w, { question: 'Anonymous fruit?',
    options: ['Kiwi-anon', 'Lime-anon'], open: true });
  const never = await createPoll(w, { question: 'Never opened', options: ['n0', 'n1'],
    anonymous: false });
  for (const [who, p, picks] of [[a, named, [0, 1]], [b, named, [0]], [c, named, [2]],
    [a, anon, [0]], [b, anon, [1]], [c, anon, [0]]]) {
    const r = await vote(who, p, picks.map((i) => opt(p, i)));
    assert.equal(r.status, 200, r.body.toString());
  }
  await pollAction(w, named, 'close');

  const getCsv = async (p) => {
    const r = await as('GET', p);
    assert.equal(r.status, 200, `${p}: ${r.body.toString().slice(0, 300)}`);
    assert.match(r.headers['content-type'], /^text\/csv/);
    let text = r.body.toString('utf8');
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    return { text, rows: parseCsv(text, { sameWidth: false }) };
  };
  /* percent: of the voters or of all answers (the contract does not say which for a
   * multiple-choice poll), to within the rounding. */
  const percentOk = (cell, votes, voters, total) => {
    const v = Number(String(cell).replace(/%$/, ''));
    return Number.isFinite(v) && [voters, total].some((n) => Math.abs(v - 100 * votes / n) < 0.51);
  };

  const nr = (await getCsv(pollUrl(w, named, '/results.csv'))).rows;
  assert.deepEqual(nr[0], ['option', 'votes', 'percent']);
  assert.deepEqual(nr.slice(1, 4).map((r) => [r[0], r[1]]),
    [['Red, "warm"', '2'], ['Blue', '1'], ['Green', '1']]);
  nr.slice(1, 4).forEach((r) => assert.ok(percentOk(r[2], Number(r[1]), 3, 4),
    `percent ${r[2]} of ${r[0]}`));
  assert.deepEqual(nr[4], ['total voters', '3']);
  const head = nr.findIndex((r) => r.join() === 'name,email,options');
  assert.ok(head > 4, `an attributed poll has the table of who answered: ${JSON.stringify(nr)}`);
  const who = nr.slice(head + 1).filter((r) => r.length === 3).sort((x, y) =>
    x[1].localeCompare(y[1]));
  assert.deepEqual(who, [[a.name, a.email, 'Red, "warm"; Blue'], [b.name, b.email, 'Red, "warm"'],
    [c.name, c.email, 'Green']].sort((x, y) => x[1].localeCompare(y[1])));

  const ar = await getCsv(pollUrl(w, anon, '/results.csv'));
  assert.deepEqual(ar.rows.slice(0, 4).map((r) => r.slice(0, 2)), [['option', 'votes'],
    ['Kiwi-anon', '2'], ['Lime-anon', '1'], ['total voters', '3']]);
  assert.ok(Math.abs(Number(ar.rows[1][2].replace(/%$/, '')) - 66.67) < 0.51, ar.rows[1][2]);
  assert.ok(Math.abs(Number(ar.rows[2][2].replace(/%$/, '')) - 33.33) < 0.51, ar.rows[2][2]);
  assert.ok(!ar.rows.some((r) => r.join() === 'name,email,options'), 'anonymous: nobody listed');
  for (const p of [a, b, c]) assert.ok(!ar.text.includes(p.email) && !ar.text.includes(p.name));

  const all = (await getCsv(`${ADMIN}/${w.id}/polls.csv`)).rows;
  assert.deepEqual(all[0], ['poll_id', 'question', 'state', 'option', 'votes', 'percent']);
  assert.deepEqual(all.slice(1).map((r) => r.slice(0, 5)), [
    [String(named.id), 'Favourite colour, "really"?', 'closed', 'Red, "warm"', '2'],
    [String(named.id), 'Favourite colour, "really"?', 'closed', 'Blue', '1'],
    [String(named.id), 'Favourite colour, "really"?', 'closed', 'Green', '1'],
    [String(anon.id), 'Anonymous fruit?', 'open', 'Kiwi-anon', '2'],
    [String(anon.id), 'Anonymous fruit?', 'open', 'Lime-anon', '1'],
    [String(never.id), 'Never opened', 'draft', 'n0', '0'],
    [String(never.id), 'Never opened', 'draft', 'n1', '0'],
  ]);
  assertError(await as('GET', pollUrl(w, 999999, '/results.csv')), 404, 'not_found');

  // The lead exports: one more column, for the attributed poll only.
  const lead = await as('GET', `${ADMIN}/${w.id}/registrations.csv`);
  assert.equal(lead.status, 200);
  assert.deepEqual([...lead.body.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const leadText = lead.body.subarray(3).toString('utf8');
  const rows = parseCsv(leadText);
  const byEmail = new Map(rows.slice(1).map((r) => [r[rows[0].indexOf('email')], r]));
  assert.deepEqual(rows[0].slice(14), [`poll ${named.id}: ${named.question}`],
    'one column more, for the attributed poll that was opened');
  const col = 14;
  assert.deepEqual([a, b, c, d].map((p) => byEmail.get(p.email)[col]),
    ['Red, "warm"; Blue', 'Red, "warm"', 'Green', '']);
  for (const s of ['Kiwi-anon', 'Lime-anon', 'Anonymous fruit?'])
    assert.ok(!leadText.includes(s), `the CSV export holds the anonymous poll's ${s}`);
  const json = await as('GET', `${ADMIN}/${w.id}/registrations.json`);
  assert.equal(json.status, 200);
  const jsonText = json.body.toString('utf8');
  const answers = new Map(JSON.parse(jsonText).registrations.map((r) => [r.email,
    r.poll_answers]));
  const answer = (...labels) => [{ poll_id: named.id, question: named.question, options: labels }];
  assert.deepEqual([a, b, c, d].map((p) => answers.get(p.email)), [answer('Red, "warm"', 'Blue'),
    answer('Red, "warm"'), answer('Green'), []]);
  for (const s of ['Kiwi-anon', 'Lime-anon', 'Anonymous fruit?'])
    assert.ok(!jsonText.includes(s), `the JSON export holds the anonymous poll's ${s}`);
  // What the person may ask for (GDPR Art. 15): the attributed answer, not the anonymous one.
  const access = await as('POST', '/api/admin/data-subject/access', { body: { email: a.email } });
  assert.equal(access.status, 200, access.body.toString());
  const mine = access.json.registrations.find((r) => r.webinar.id === w.id).live_interaction;
  assert.deepEqual(mine.poll_answers.map(({ voted_at: at, ...x }) => (assert.match(at, ISO), x)),
    answer('Red, "warm"', 'Blue'));
  assert.ok(!JSON.stringify(access.json).includes('Kiwi-anon'));
});

test('questions: private by default; public ones seen and upvoted by others; answered and ' +
  'dismissed; sizes, markup as text, the per-attendee limit', async () => {
  const { w, people: [a, b, c], mod, sa, sb } = await watchedRoom('Questions');
  const ask = (p, body, extra = {}) => att(p, 'POST', '/questions', { body, ...extra });
  const upvote = (p, q) => att(p, 'POST', `/questions/${q.id}/upvote`);
  const moderate = (q, state) => as('PATCH', `${ADMIN}/${w.id}/questions/${q.id}`,
    { body: { state } });

  const q1 = await ask(a, 'Private by default?');
  assert.equal(q1.status, 201, q1.body.toString());
  assert.deepEqual([q1.json.body, q1.json.state, q1.json.upvotes, q1.json.mine, q1.json.upvoted,
    q1.json.public], ['Private by default?', 'open', 0, true, false, false]);
  assert.match(q1.json.asked_at, ISO);
  assert.equal((await mod.waitFor(ev('question', (x) => x.id === q1.json.id), EVENT_MS)).json
    .registration_id, a.id);
  assertError(await upvote(b, q1.json), 404, 'not_found');

  await patchWebinar(w, { questions_public: true });
  await sb.waitFor(ev('settings', (x) => x.questions_public), EVENT_MS);
  const markup = '<script>alert("x")</script><b>&amp;</b> \'; DROP TABLE questions;--';
  const q2 = await ask(a, markup);
  assert.equal(q2.status, 201);
  assert.equal(q2.json.body, markup, 'stored and answered exactly as typed');
  assert.equal(q2.json.public, true);
  const seen = await sb.waitFor(ev('question', (x) => x.id === q2.json.id), EVENT_MS);
  assert.equal(seen.json.body, markup);
  assert.equal(seen.json.upvotes, 0);
  assert.equal(seen.json.name, null);
  assert.equal((await mod.waitFor(ev('question', (x) => x.id === q2.json.id), EVENT_MS)).json.body,
    markup);

  const up = await upvote(b, q2.json);
  assert.equal(up.status, 200, up.body.toString());
  assert.deepEqual([up.json.upvotes, up.json.upvoted, up.json.mine], [1, true, false]);
  assertError(await upvote(b, q2.json), 409, 'already_upvoted');
  assertError(await upvote(a, q2.json), 404, 'not_found'); // not one's own
  assert.equal((await upvote(c, q2.json)).json.upvotes, 2);
  await sa.waitFor(ev('question', (x) => x.id === q2.json.id && x.upvotes === 2), EVENT_MS);

  const answered = await moderate(q2.json, 'answered');
  assert.equal(answered.status, 200, answered.body.toString());
  assert.deepEqual([answered.json.state, answered.json.registration_id, answered.json.name],
    ['answered', a.id, a.name]);
  await sb.waitFor(ev('question', (x) => x.id === q2.json.id && x.state === 'answered'),
    EVENT_MS);
  assertError(await upvote(c, q2.json), 404, 'not_found'); // only open ones

  const q3 = await ask(a, 'To be dismissed');
  await sb.waitFor(ev('question', (x) => x.id === q3.json.id), EVENT_MS);
  assert.equal((await moderate(q3.json, 'dismissed')).json.state, 'dismissed');
  await sa.waitFor(ev('question', (x) => x.id === q3.json.id && x.state === 'dismissed'),
    EVENT_MS);
  // Others get a public question once more when it is dismissed, so that pages drop it.
  await sb.waitFor(ev('question', (x) => x.id === q3.json.id && x.state === 'dismissed'),
    EVENT_MS);
  assertError(await upvote(b, q3.json), 404, 'not_found');
  const aNow = await attendee(a);
  assert.deepEqual(aNow.snapshot.questions.sort((x, y) => x.id - y.id)
    .map((x) => [x.id, x.state, x.mine]),
    [[q1.json.id, 'open', true], [q2.json.id, 'answered', true], [q3.json.id, 'dismissed', true]]);

  // Refusals.
  assertError(await ask(b, ''), 422, 'invalid_field', 'body');
  assertError(await ask(b, 'x'.repeat(1001)), 422, 'invalid_field', 'body');
  assertError(await ask(b, 'ok', { show_name: 'yes' }), 422, 'invalid_field', 'show_name');
  assertError(await att(b, 'POST', '/questions', { show_name: true }), 422, 'missing_field',
    'body');
  assert.equal((await ask(b, 'ü'.repeat(1000))).status, 201, '1,000 characters are allowed');
  assertError(await moderate(q1.json, 'closed'), 422, 'invalid_field', 'state');
  assertError(await moderate({ id: 999999 }, 'answered'), 404, 'not_found');
  // At most 20 questions per attendee.
  for (let i = 0; i < 20; i++) assert.equal((await ask(c, `Question ${i}`)).status, 201);
  assertError(await ask(c, 'One too many'), 429, 'too_many');
  assert.equal((await ask(b, 'Others may still ask')).status, 201);

  // Last (so that a failure here hides nothing above): the dismissed question came once; a new
  // snapshot shows what the open stream was sent (nothing is missed either way), less the
  // dismissed question, which only its asker's snapshot has.
  await mark(w, sb);
  assert.equal(sb.events.filter(ev('question', (x) => x.id === q3.json.id &&
    x.state === 'dismissed')).length, 1);
  const bNow = await attendee(b);
  const sentToB = [...new Set(sb.events.filter(ev('question')).map((e) => e.json.id))]
    .filter((id) => id !== q3.json.id).sort((x, y) => x - y);
  assert.deepEqual(bNow.snapshot.questions.map((x) => x.id).sort((x, y) => x - y), sentToB,
    `B's snapshot against B's stream; q1 ${q1.json.id} was asked while questions were private`);
  assert.deepEqual(bNow.snapshot.questions.filter((x) => x.id === q2.json.id)
    .map((x) => [x.state, x.mine, x.upvoted]), [['answered', false, true]]);
});

/* ---- chat ---------------------------------------------------------------------------------- */

test('chat: off by default; public and private messages reach whom they may; delete, mute, ' +
  'rate limit, size', async () => {
  const { w, people: [a, b, c], mod, sa, sb } = await watchedRoom('Chat');
  const say = (p, body, to = 'everyone', extra = {}) => att(p, 'POST', '/chat',
    { body, to, ...extra });
  const modSay = (body, to = null) => as('POST', `${ADMIN}/${w.id}/chat`,
    { body: { body, to_registration_id: to } });

  assertError(await say(a, 'Anyone here?'), 409, 'chat_disabled');
  await patchWebinar(w, { chat_enabled: true });
  await sa.waitFor(ev('settings', (x) => x.chat_enabled), EVENT_MS);

  const pub = await say(a, 'Hello everyone');
  assert.equal(pub.status, 201, pub.body.toString());
  assert.deepEqual([pub.json.body, pub.json.from, pub.json.private, pub.json.mine],
    ['Hello everyone', 'attendee', false, true]);
  assert.match(pub.json.at, ISO);
  const bPub = await sb.waitFor(ev('chat', (x) => x.id === pub.json.id), EVENT_MS);
  assert.deepEqual([bPub.json.from, bPub.json.private, bPub.json.name], ['attendee', false, null]);
  const mPub = await mod.waitFor(ev('chat', (x) => x.id === pub.json.id), EVENT_MS);
  assert.deepEqual([mPub.json.registration_id, mPub.json.deleted], [a.id, false]);

  const priv = await say(a, 'Psst, moderators', 'moderators');
  assert.equal(priv.status, 201);
  assert.equal(priv.json.private, true);
  const mPriv = await mod.waitFor(ev('chat', (x) => x.id === priv.json.id), EVENT_MS);
  assert.equal(mPriv.json.registration_id, a.id);
  await sa.waitFor(ev('chat', (x) => x.id === priv.json.id), EVENT_MS);
  const reply = await modSay('A private answer', a.id);
  assert.equal(reply.status, 201, reply.body.toString());
  const aReply = await sa.waitFor(ev('chat', (x) => x.id === reply.json.id), EVENT_MS);
  assert.deepEqual([aReply.json.from, aReply.json.private], ['moderator', true]);
  const all = await modSay('Welcome, all');
  const bAll = await sb.waitFor(ev('chat', (x) => x.id === all.json.id), EVENT_MS);
  assert.deepEqual([bAll.json.from, bAll.json.private], ['moderator', false]);
  // "Welcome, all" came after the private ones: B never got them.
  assert.deepEqual(sb.events.filter(ev('chat')).map((e) => e.json.id),
    [pub.json.id, all.json.id]);

  // Deleting: attendees lose the message, moderators keep it marked.
  const del = await as('DELETE', `${ADMIN}/${w.id}/chat/${pub.json.id}`);
  assert.equal(del.status, 204, del.body.toString());
  for (const s of [sa, sb])
    assert.deepEqual((await s.waitFor(ev('chat_deleted'), EVENT_MS)).json, { id: pub.json.id });
  await mod.waitFor(ev('chat_deleted', (x) => x.id === pub.json.id), EVENT_MS);
  assert.deepEqual((await attendee(b)).snapshot.chat.map((m) => m.id), [all.json.id]);
  assert.deepEqual((await attendee(a)).snapshot.chat.map((m) => m.id),
    [priv.json.id, reply.json.id, all.json.id]);
  const modNow = (await moderator(w)).snapshot.chat;
  assert.deepEqual(modNow.map((m) => [m.id, m.deleted, m.registration_id, m.to_registration_id]),
    [[pub.json.id, true, a.id, null], [priv.json.id, false, a.id, null],
      [reply.json.id, false, null, a.id], [all.json.id, false, null, null]]);

  // Muting.
  const mute = (muted) => as('POST', `${ADMIN}/${w.id}/mutes`,
    { body: { registration_id: a.id, muted } });
  assert.equal((await mute(true)).status, 204);
  assert.deepEqual((await sa.waitFor(ev('muted'), EVENT_MS)).json, { muted: true });
  assert.deepEqual((await mod.waitFor(ev('muted'), EVENT_MS)).json,
    { registration_id: a.id, muted: true });
  assertError(await say(a, 'Can I speak?'), 403, 'muted');
  assert.equal((await attendee(a)).snapshot.you.muted, true);
  assert.deepEqual((await moderator(w)).snapshot.muted, [a.id]);
  assert.equal((await mute(false)).status, 204);
  assert.deepEqual((await sa.waitFor(ev('muted'), EVENT_MS)).json, { muted: false });
  assert.equal((await say(a, 'Thanks')).status, 201);

  // Sizes and rules.
  assertError(await say(b, 'x'.repeat(501)), 422, 'invalid_field', 'body');
  assertError(await say(b, ''), 422, 'invalid_field', 'body');
  assertError(await say(b, 'hi', 'all'), 422, 'invalid_field', 'to');
  assert.equal((await say(b, 'ß'.repeat(500))).status, 201, '500 characters are allowed');
  // At most 5 messages in 10 s.
  for (let i = 0; i < 5; i++) assert.equal((await say(c, `Quick ${i}`)).status, 201);
  assertError(await say(c, 'One too fast'), 429, 'too_fast');
  assert.equal((await say(b, 'Others are not slowed')).status, 201);

  // The moderators' MESSAGE is the attendees' plus its members (checked last, so that a missing
  // member hides nothing above).
  assert.deepEqual(modNow.map((m) => [m.from, m.private]), [['attendee', false],
    ['attendee', true], ['moderator', true], ['moderator', false]]);
  assert.deepEqual([mPriv.json.from, mPriv.json.private], ['attendee', true]);
});

/* ---- hands --------------------------------------------------------------------------------- */

test('hands: the moderators\' queue keeps its order; acknowledge and lower reach the ' +
  'attendee; acting on a hand that is not raised is 404', async () => {
  const { w, people: [a, b, c], mod, sa, sb } = await watchedRoom('Hands');
  const hand = (p, raised) => att(p, 'POST', '/hand', { raised });
  const act = (p, action) => as('POST', `${ADMIN}/${w.id}/hands/${p.id}`, { body: { action } });

  const ra = await hand(a, true);
  assert.equal(ra.status, 200, ra.body.toString());
  assert.equal(ra.json.raised, true);
  assert.match(ra.json.raised_at, ISO);
  assert.equal(ra.json.acknowledged_at, null);
  await sleep(5); // distinct raise times
  assert.equal((await hand(b, true)).status, 200);
  assert.deepEqual((await mod.waitFor(ev('hand', (x) => x.raised), EVENT_MS)).json,
    { registration_id: a.id, name: a.name, raised: true, raised_at: ra.json.raised_at,
      acknowledged_at: null });
  assert.equal((await mod.waitFor(ev('hand', (x) => x.raised), EVENT_MS)).json.registration_id,
    b.id);
  const again = await hand(a, true);
  assert.equal(again.json.raised_at, ra.json.raised_at, 'raising again keeps the place');
  assert.deepEqual((await moderator(w)).snapshot.hands.map((h) => [h.registration_id, h.name]),
    [[a.id, a.name], [b.id, b.name]], 'in the order they were raised');

  const ack = await act(a, 'acknowledge');
  assert.equal(ack.status, 200, ack.body.toString());
  assert.deepEqual([ack.json.registration_id, ack.json.raised], [a.id, true]);
  assert.match(ack.json.acknowledged_at, ISO);
  const aAck = await sa.waitFor(ev('hand', (x) => x.acknowledged_at !== null), EVENT_MS);
  assert.equal(aAck.json.acknowledged_at, ack.json.acknowledged_at);
  const lowered = await act(b, 'lower');
  assert.deepEqual([lowered.json.registration_id, lowered.json.raised], [b.id, false]);
  assert.equal((await sb.waitFor(ev('hand', (x) => x.raised === false), EVENT_MS)).json.raised,
    false);
  const own = await hand(a, false);
  assert.equal(own.json.raised, false);
  await mod.waitFor(ev('hand', (x) => x.registration_id === a.id && !x.raised), EVENT_MS);
  await sa.waitFor(ev('hand', (x) => !x.raised), EVENT_MS);
  // A's stream: only A's own hand (B's raise came before A's acknowledgement, B's lowering
  // before A's own).
  const aHands = sa.events.filter(ev('hand'));
  assert.ok(aHands.every((e) => e.json.raised_at === null || e.json.raised_at ===
    ra.json.raised_at), `A's hand events: ${sa.describe()}`);
  assert.equal(aHands.filter((e) => !e.json.raised).length, 1, 'one lowering: A\'s own');
  assert.deepEqual((await moderator(w)).snapshot.hands.filter((h) => h.raised), []);
  assertError(await act(b, 'acknowledge'), 404, 'not_found'); // lowered
  assertError(await act(c, 'lower'), 404, 'not_found'); // never raised
  assertError(await as('POST', `${ADMIN}/${w.id}/hands/999999`, { body: { action: 'lower' } }),
    404, 'not_found');
  assert.equal((await hand(c, true)).status, 200);
  assertError(await act(c, 'wave'), 422, 'invalid_field', 'action');
  assertError(await hand(c, 'yes'), 422, 'invalid_field', 'raised');

  // Moderators always see the name, a lowered hand's too (checked last: it hides nothing above).
  const names = { [a.id]: a.name, [b.id]: b.name, [c.id]: c.name };
  for (const e of [lowered, ...mod.events.filter(ev('hand'))])
    assert.equal(e.json.name, names[e.json.registration_id], `moderators see the name: ` +
      `${e.data ?? e.body}`);
});

/* ---- guards -------------------------------------------------------------------------------- */

test('state-changing requests without the CSRF token or from another site are refused and ' +
  'change nothing', async () => {
  const { w, people: [a] } = await room('Guards', { settings: { chat_enabled: true } });
  const body = { question: 'Forged?', options: ['y', 'n'], open: true };
  assertError(await as('POST', `${ADMIN}/${w.id}/polls`, { body, csrf: false }), 403, 'csrf');
  assertError(await as('POST', `${ADMIN}/${w.id}/polls`,
    { body, headers: { Origin: 'http://evil.example' } }), 403, 'cross_origin');
  assertError(await as('POST', `${ADMIN}/${w.id}/end`, { csrf: false }), 403, 'csrf');
  assert.equal((await modPolls(w)).size, 0);
  const poll = await createPoll(w, body);
  for (const headers of [{ Origin: 'http://evil.example' }, { Origin: 'null' },
    { 'Sec-Fetch-Site': 'cross-site' }]) {
    assertError(await att(a, 'POST', '/questions', { body: 'Forged question' }, headers), 403,
      'cross_origin');
    assertError(await vote(a, poll, [opt(poll, 0)], headers), 403, 'cross_origin');
  }
  const m = await moderator(w);
  assert.deepEqual(m.snapshot.questions, []);
  assert.equal(m.snapshot.polls[0].results.voters, 0);
  // The page's own origin is fine.
  assert.equal((await att(a, 'POST', '/questions', { body: 'Same site' },
    { Origin: server.httpBase })).status, 201);
});

/* ---- the console --------------------------------------------------------------------------- */

test('health of a real presenter; ending the webinar reaches every stream', { timeout: 90e3 },
  async () => {
    const { w, people: [a, b] } = await room('Console', { people: 2 });
    const health = async () => {
      const r = await as('GET', `${ADMIN}/${w.id}/health`);
      assert.equal(r.status, 200, r.body.toString());
      return r.json;
    };
    assert.deepEqual(await health(), { state: 'offline', session_id: null, video: null,
      audio: null, audio_present: false, audience: { watching: 0, waiting: 0 } });
    assertError(await api(server, 'GET', `${ADMIN}/${w.id}/health`), 401, 'not_logged_in');
    assertError(await as('GET', `${ADMIN}/999999/health`), 404, 'not_found');
    assertError(await as('POST', `${ADMIN}/${w.id}/end`), 409, 'not_live');

    const sa = await attendee(a);
    const mod = await moderator(w);
    const presenter = push(server.publishUrl(w.stream_key), { seconds: 40 });
    const live = await waitLive(server, w.slug, 20000);
    const h = await waitFor(async () => {
      const x = await health();
      return x.state === 'running' && x.video && x.audio && Math.abs(x.video.fps - 25) <= 2 &&
        x.video.keyframe_interval_s > 0 ? x : null;
    }, 15000, 'health with rates of the running stream', 500);
    assert.equal(h.session_id, live.session.id);
    assert.match(h.video.codec, /h264|avc/i);
    assert.deepEqual([h.video.width, h.video.height], [640, 360]);
    assert.ok(h.video.bitrate_kbps > 0, `video kbps ${h.video.bitrate_kbps}`);
    assert.ok(h.video.keyframe_interval_s >= 1.5 && h.video.keyframe_interval_s <= 2.5,
      `a keyframe every 2 s (-g 50 at 25 fps): ${h.video.keyframe_interval_s}`);
    assert.match(h.audio.codec, /aac/i);
    assert.deepEqual([h.audio.sample_rate, h.audio.channels], [48000, 2]);
    assert.ok(h.audio.bitrate_kbps > 0, `audio kbps ${h.audio.bitrate_kbps}`);
    assert.equal(h.audio_present, true);
    assert.deepEqual(h.audience, { watching: 1, waiting: 0 });
    assert.equal((await att(a, 'GET', '')).json.state, 'live');

    const end = await as('POST', `${ADMIN}/${w.id}/end`);
    assert.equal(end.status, 204, end.body.toString());
    assert.deepEqual((await sa.waitFor(ev('ended'), EVENT_MS)).json, {});
    assert.deepEqual((await mod.waitFor(ev('ended'), EVENT_MS)).json, {});
    await pushExit(presenter, 15000, 'the presenter\'s connection to be closed');
    assert.ok(presenter.pushedSeconds() < 30, 'ended long before the push would have');
    assertError(await as('POST', `${ADMIN}/${w.id}/end`), 409, 'not_live');
    await waitFor(async () => (await health()).state === 'offline', 5000, 'health offline');
    const state = (await att(b, 'GET', '')).json.state;
    assert.ok(['ended', 'replay'].includes(state), state);
    // Over: attendees are refused with not_live.
    assertError(await openEvents(server.url(`/api/join/${b.token}/events`)), 409, 'not_live');
    assertError(await att(b, 'POST', '/questions', { body: 'Too late?' }), 409, 'not_live');
  });

test('events: a ": ping" comment within --events-ping on a stream where nothing happens; no ' +
  'event of another webinar', { timeout: 30e3 }, async () => {
  const first = await idle.waitComments(1, Math.max(0, idle.openedAt + 2500 - Date.now()));
  assert.equal(first.text, 'ping');
  assert.ok(first.at - idle.openedAt <= 2500, `first ping after ${first.at - idle.openedAt} ms`);
  assert.deepEqual(idle.events.map((e) => e.event), ['snapshot'], 'only its own webinar\'s events');
  assert.equal(idle.ended, false, 'an idle stream stays open');
});

test('the server shuts down cleanly; its log holds no name, email, text or secret', async () => {
  await closeAllStreams();
  await stopAndCheck(server);
  const log = server.stderrText();
  for (const s of personal) assert.ok(!log.includes(s), `the server log holds ${s}`);
});
