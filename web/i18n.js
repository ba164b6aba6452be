// The texts of the registration, join, admin and console pages in English and German, the language choice
// (the browser's languages, or the switch in the page header, remembered in localStorage), and
// dates, durations and countdowns in the viewer's language and time zone (times are stored in
// UTC). Elements with data-i18n="key" (text) or data-i18n-label="key" (aria-label) follow the
// switch by themselves; pages redraw the rest in their onChange callback.
'use strict';

window.lcText = (function () {
  // Each text in the languages of LANGS, in that order.
  const LANGS = ['en', 'de'];
  const TEXTS = {
    loading: ['Loading…', 'Wird geladen…'],
    sending: ['Sending…', 'Wird gesendet…'],
    offline: [
      'Cannot reach the server; try again.',
      'Der Server ist nicht erreichbar; bitte erneut versuchen.'],
    offlineRetry: [
      'Cannot reach the server; retrying…',
      'Der Server ist nicht erreichbar; neuer Versuch läuft…'],
    busy: [
      'The server is busy; try again in a moment.',
      'Der Server ist ausgelastet; bitte gleich noch einmal versuchen.'],
    httpError: [
      'Something went wrong (HTTP {status}).',
      'Etwas ist schiefgegangen (HTTP {status}).'],
    reload: ['Reload the page', 'Seite neu laden'],
    copy: ['Copy', 'Kopieren'],
    copied: ['Copied to the clipboard.', 'In die Zwischenablage kopiert.'],
    copyManual: [
      'Copying is not possible here: the text is selected, copy it with Ctrl+C.',
      'Kopieren ist hier nicht möglich: Der Text ist markiert, kopieren Sie ihn mit Strg+C.'],
    when: ['When', 'Wann'],
    duration: ['Duration', 'Dauer'],
    presenters: ['Presenters', 'Vortragende'],
    onDemand: ['On demand: watch whenever you like', 'Auf Abruf: jederzeit ansehen'],
    noDate: ['The date will be announced', 'Der Termin wird noch bekannt gegeben'],
    optional: ['(optional)', '(optional)'],
    choose: ['Choose…', 'Bitte wählen…'],
    yes: ['yes', 'ja'],
    no: ['no', 'nein'],
    all: ['All', 'Alle'],
    'err.required': ['Please fill this in.', 'Bitte ausfüllen.'],
    'err.tick': ['Please tick this box.', 'Bitte ankreuzen.'],
    'err.email': ['This is not a valid email address.', 'Das ist keine gültige E-Mail-Adresse.'],
    'err.consent': [
      'Registering needs your consent: please tick the box.',
      'Für die Anmeldung ist Ihre Einwilligung nötig: Bitte kreuzen Sie das Kästchen an.'],
    'reg.heading': ['Register', 'Anmelden'],
    'reg.name': ['Name', 'Name'],
    'reg.email': ['Email', 'E-Mail'],
    'reg.privacy': ['Privacy notice', 'Datenschutzhinweis'],
    'reg.submit': ['Register', 'Anmelden'],
    'reg.fix': ['Please correct the marked field.', 'Bitte korrigieren Sie das markierte Feld.'],
    'reg.publicNote': [
      'Anyone with the link can watch this webinar:',
      'Jede Person mit dem Link kann dieses Webinar ansehen:'],
    'reg.watchLink': ['go to the webinar', 'zum Webinar'],
    'reg.done': ['You are registered', 'Sie sind angemeldet'],
    'reg.doneStatus': [
      'You are registered. Your personal join link is below.',
      'Sie sind angemeldet. Ihr persönlicher Teilnahmelink steht unten.'],
    'reg.joinLink': [
      'Your personal join link (keep it; do not share it)',
      'Ihr persönlicher Teilnahmelink (aufbewahren, nicht weitergeben)'],
    'reg.open': ['Open the join link', 'Teilnahmelink öffnen'],
    'reg.calendar': ['Add to calendar (.ics)', 'In den Kalender (.ics)'],
    'reg.awaitingApproval': [
      'Your registration awaits the organiser’s approval. Your join link shows when you have been approved.',
      'Ihre Anmeldung wartet auf die Freigabe durch den Veranstalter. Ihr Teilnahmelink zeigt, wann sie freigegeben ist.'],
    'reg.consentChanged': [
      'The consent text has changed since you opened this page. Please reload the page and read the new text.',
      'Der Einwilligungstext hat sich geändert, seit Sie diese Seite geöffnet haben. Bitte laden Sie die Seite neu und lesen Sie den neuen Text.'],
    'reg.closed': [
      'This webinar is over and has no recording: registration is closed.',
      'Dieses Webinar ist vorbei und hat keine Aufzeichnung: Die Anmeldung ist geschlossen.'],
    'reg.notFound': ['Webinar not found', 'Webinar nicht gefunden'],
    'reg.notFoundText': [
      'There is no webinar at this address. Check the link you were given.',
      'Unter dieser Adresse gibt es kein Webinar. Bitte prüfen Sie den Link.'],
    'reg.pending': ['awaiting approval', 'wartet auf Freigabe'],
    'reg.approved': ['approved', 'freigegeben'],
    'reg.rejected': ['rejected', 'abgelehnt'],
    'join.video': ['Webinar video', 'Webinar-Video'],
    'join.password': ['Room password', 'Raumpasswort'],
    'join.enter': ['Enter', 'Eintreten'],
    'join.unmute': ['Turn sound on', 'Ton einschalten'],
    'join.recordings': ['Recordings', 'Aufzeichnungen'],
    'join.pending': [
      'Your registration awaits the organiser’s approval. This page changes by itself when it is approved.',
      'Ihre Anmeldung wartet auf die Freigabe durch den Veranstalter. Diese Seite ändert sich von selbst, sobald sie freigegeben ist.'],
    'join.rejected': [
      'The organiser has not approved your registration for this webinar.',
      'Der Veranstalter hat Ihre Anmeldung zu diesem Webinar nicht freigegeben.'],
    'join.passwordNeeded': [
      'This webinar has a room password. Enter the password the organiser gave you.',
      'Dieses Webinar hat ein Raumpasswort. Geben Sie das Passwort ein, das Sie vom Veranstalter erhalten haben.'],
    'join.waiting': [
      'You are in the waiting room: the host will let you in. Keep this page open.',
      'Sie sind im Warteraum: Der Gastgeber lässt Sie gleich herein. Lassen Sie diese Seite geöffnet.'],
    'join.scheduled': [
      'The webinar has not started yet. This page starts playing by itself when it does.',
      'Das Webinar hat noch nicht begonnen. Diese Seite startet die Wiedergabe von selbst, sobald es beginnt.'],
    'join.startingSoon': [
      'The webinar is starting soon. This page starts playing by itself.',
      'Das Webinar beginnt gleich. Diese Seite startet die Wiedergabe von selbst.'],
    'join.startsIn': ['Starts in {time}', 'Beginnt in {time}'],
    'join.live': ['Live', 'Live'],
    'join.replay': ['Recording', 'Aufzeichnung'],
    'join.ended': ['The webinar has ended.', 'Das Webinar ist beendet.'],
    'join.cannotPlay': [
      'The video cannot be played in this browser.',
      'Das Video kann in diesem Browser nicht abgespielt werden.'],
    'join.wrongPassword': ['This is not the room password.', 'Das ist nicht das Raumpasswort.'],
    'join.tooMany': [
      'Too many wrong passwords. Try again in {seconds} seconds.',
      'Zu viele falsche Passwörter. Versuchen Sie es in {seconds} Sekunden erneut.'],
    'join.notFound': ['Link not valid', 'Link ungültig'],
    'join.notFoundText': [
      'This join link is unknown or no longer valid. Register again to get a new one.',
      'Dieser Teilnahmelink ist unbekannt oder nicht mehr gültig. Melden Sie sich erneut an, um einen neuen zu erhalten.'],
    'state.scheduled': ['scheduled', 'geplant'],
    'state.live': ['live', 'live'],
    'state.ended': ['ended', 'beendet'],
    'access.registration': ['registration', 'mit Anmeldung'],
    'access.public': ['public (anyone with the link)', 'öffentlich (jede Person mit dem Link)'],
    'ftype.text': ['text', 'Text'],
    'ftype.email': ['email address', 'E-Mail-Adresse'],
    'ftype.select': ['choice from a list', 'Auswahl aus einer Liste'],
    'ftype.checkbox': ['checkbox', 'Ankreuzfeld'],
    'adm.nav': ['Organiser', 'Veranstalter'],
    'adm.webinars': ['Webinars', 'Webinare'],
    'adm.subjects': ['Data subject requests', 'Betroffenenanfragen'],
    'adm.audit': ['Audit log', 'Protokoll'],
    'adm.logout': ['Log out', 'Abmelden'],
    'adm.notFound': ['Not found', 'Nicht gefunden'],
    'adm.new': ['New webinar', 'Neues Webinar'],
    'adm.none': ['No webinars yet.', 'Noch keine Webinare.'],
    'adm.title': ['Title', 'Titel'],
    'adm.startsAt': ['Starts', 'Beginn'],
    'adm.state': ['State', 'Status'],
    'adm.access': ['Access', 'Zugang'],
    'adm.settings': ['Settings', 'Einstellungen'],
    'adm.registrations': ['Registrations', 'Anmeldungen'],
    'adm.waiting': ['Waiting room', 'Warteraum'],
    'adm.regPage': ['Registration page', 'Anmeldeseite'],
    'adm.console': ['Console', 'Konsole'],
    'adm.consoleOf': ['Console: {title}', 'Konsole: {title}'],
    'adm.basics': ['The webinar', 'Das Webinar'],
    'adm.description': ['Description', 'Beschreibung'],
    'adm.zone': ['In your time zone ({zone}).', 'In Ihrer Zeitzone ({zone}).'],
    'adm.durationMin': ['Duration (minutes)', 'Dauer (Minuten)'],
    'adm.presenters': ['Presenters', 'Vortragende'],
    'adm.presentersHint': ['One name per line.', 'Ein Name pro Zeile.'],
    'adm.onDemand': [
      'On demand (a recording, no live date)',
      'Auf Abruf (eine Aufzeichnung, kein Live-Termin)'],
    'adm.accessSection': ['Access', 'Zugang'],
    'adm.waitingRoom': [
      'Waiting room (attendees wait until you let them in)',
      'Warteraum (Teilnehmende warten, bis Sie sie hereinlassen)'],
    'adm.approval': ['Approve each registration', 'Jede Anmeldung freigeben'],
    'adm.roomPassword': ['Room password (optional)', 'Raumpasswort (optional)'],
    'adm.newRoomPassword': [
      'New room password (a password is set)',
      'Neues Raumpasswort (ein Passwort ist gesetzt)'],
    'adm.roomPasswordHint': [
      '4 to 128 characters. Leave empty to keep it as it is.',
      '4 bis 128 Zeichen. Leer lassen, um es unverändert zu lassen.'],
    'adm.noPassword': ['Remove the room password', 'Raumpasswort entfernen'],
    'adm.hideNames': [
      'Attendees do not see each other’s names',
      'Teilnehmende sehen die Namen der anderen nicht'],
    'adm.formFields': ['Registration form', 'Anmeldeformular'],
    'adm.formFieldsHint': [
      'Name and email are always asked. Add your own fields here.',
      'Name und E-Mail werden immer abgefragt. Eigene Felder fügen Sie hier hinzu.'],
    'adm.addField': ['Add a field', 'Feld hinzufügen'],
    'adm.fieldLabel': ['Label', 'Beschriftung'],
    'adm.fieldId': ['Id', 'Kennung'],
    'adm.fieldIdHint': [
      'a-z, 0-9 and _; names the answer in exports.',
      'a-z, 0-9 und _; benennt die Antwort in Exporten.'],
    'adm.fieldType': ['Type', 'Art'],
    'adm.fieldRequired': ['Required', 'Pflichtfeld'],
    'adm.fieldOptions': ['Options (one per line)', 'Auswahlmöglichkeiten (eine pro Zeile)'],
    'adm.up': ['Up', 'Nach oben'],
    'adm.down': ['Down', 'Nach unten'],
    'adm.remove': ['Remove', 'Entfernen'],
    'adm.upNamed': ['Move field {label} up', 'Feld {label} nach oben'],
    'adm.downNamed': ['Move field {label} down', 'Feld {label} nach unten'],
    'adm.removeNamed': ['Remove field {label}', 'Feld {label} entfernen'],
    'adm.privacySection': ['Privacy', 'Datenschutz'],
    'adm.privacyNotice': ['Privacy notice', 'Datenschutzhinweis'],
    'adm.consentText': ['Consent text', 'Einwilligungstext'],
    'adm.defaultHint': [
      'Leave empty for the server’s default text.',
      'Leer lassen für den Standardtext des Servers.'],
    'adm.consentVersion': ['Consent version', 'Version der Einwilligung'],
    'adm.consentVersionHint': [
      'Stored with each registration. Changing the consent text without changing this counts it up by one.',
      'Wird mit jeder Anmeldung gespeichert. Ändert sich der Einwilligungstext ohne neue Version, wird sie um eins erhöht.'],
    'adm.replaySection': ['Recording and retention', 'Aufzeichnung und Aufbewahrung'],
    'adm.replayEnabled': ['Offer the recording', 'Aufzeichnung anbieten'],
    'adm.replayNeedsReg': [
      'The recording needs registration',
      'Die Aufzeichnung erfordert eine Anmeldung'],
    'adm.retention': [
      'Keep attendees’ data for (days after the webinar)',
      'Daten der Teilnehmenden aufbewahren (Tage nach dem Webinar)'],
    'adm.recordingRetention': ['Keep the recording for (days)', 'Aufzeichnung aufbewahren (Tage)'],
    'adm.keepHint': ['Leave empty to keep it.', 'Leer lassen, um sie zu behalten.'],
    'adm.create': ['Create the webinar', 'Webinar anlegen'],
    'adm.save': ['Save', 'Speichern'],
    'adm.created': ['The webinar was created.', 'Das Webinar wurde angelegt.'],
    'adm.saved': ['Saved.', 'Gespeichert.'],
    'adm.unchanged': ['Nothing was changed.', 'Nichts wurde geändert.'],
    'adm.fix': ['Please correct the marked field.', 'Bitte korrigieren Sie das markierte Feld.'],
    'adm.conflict': [
      'Someone else changed this webinar meanwhile; nothing was saved.',
      'Jemand anderes hat dieses Webinar inzwischen geändert; nichts wurde gespeichert.'],
    'adm.keyHeading': ['Stream key', 'Stream-Schlüssel'],
    'adm.keyOnce': [
      'This key is shown only now. In OBS: Settings → Stream → Service “Custom…”, then the server and the key below.',
      'Dieser Schlüssel wird nur jetzt angezeigt. In OBS: Einstellungen → Stream → Dienst „Benutzerdefiniert…“, dann Server und Schlüssel von unten.'],
    'adm.rtmpServer': ['Server', 'Server'],
    'adm.streamKey': ['Stream key', 'Stream-Schlüssel'],
    'adm.obsHint': [
      'Anyone with the key can stream to this webinar. Replace it if it was seen by others.',
      'Wer den Schlüssel kennt, kann in dieses Webinar streamen. Ersetzen Sie ihn, wenn andere ihn gesehen haben.'],
    'adm.stream': ['Streaming', 'Streaming'],
    'adm.rotate': ['New stream key', 'Neuer Stream-Schlüssel'],
    'adm.rotateConfirm': [
      'Replace the stream key? The old key stops working for new streams.',
      'Den Stream-Schlüssel ersetzen? Der alte Schlüssel funktioniert für neue Streams nicht mehr.'],
    'adm.delete': ['Delete', 'Löschen'],
    'adm.deleteButton': ['Delete this webinar', 'Dieses Webinar löschen'],
    'adm.deleteConfirm': [
      'Delete “{title}” with its registrations and recordings? This cannot be undone.',
      '„{title}“ mit Anmeldungen und Aufzeichnungen löschen? Das lässt sich nicht rückgängig machen.'],
    'adm.deleteLive': [
      'The webinar is live: stop the stream before deleting it.',
      'Das Webinar ist live: Beenden Sie den Stream, bevor Sie es löschen.'],
    'adm.deleted': ['The webinar was deleted.', 'Das Webinar wurde gelöscht.'],
    'adm.registrationsOf': ['Registrations: {title}', 'Anmeldungen: {title}'],
    'adm.counts': [
      'Awaiting approval: {pending} · approved: {approved} · rejected: {rejected}',
      'Warten auf Freigabe: {pending} · freigegeben: {approved} · abgelehnt: {rejected}'],
    'adm.filter': ['Show', 'Anzeigen'],
    'adm.export': ['Export:', 'Export:'],
    'adm.approve': ['Approve selected', 'Auswahl freigeben'],
    'adm.reject': ['Reject selected', 'Auswahl ablehnen'],
    'adm.selected': ['{n} selected', '{n} ausgewählt'],
    'adm.selectAll': ['Select all on this page', 'Alle auf dieser Seite auswählen'],
    'adm.select': ['Select {name}', '{name} auswählen'],
    'adm.name': ['Name', 'Name'],
    'adm.email': ['Email', 'E-Mail'],
    'adm.registered': ['Registered', 'Angemeldet'],
    'adm.answers': ['Answers', 'Antworten'],
    'adm.source': ['Source', 'Herkunft'],
    'adm.minLive': ['Minutes live', 'Minuten live'],
    'adm.minReplay': ['Minutes recording', 'Minuten Aufzeichnung'],
    'adm.noRegistrations': ['No registrations.', 'Keine Anmeldungen.'],
    'adm.prev': ['Previous page', 'Vorherige Seite'],
    'adm.next': ['Next page', 'Nächste Seite'],
    'adm.approved': ['{n} approved.', '{n} freigegeben.'],
    'adm.rejected': ['{n} rejected.', '{n} abgelehnt.'],
    'adm.waitingOf': ['Waiting room: {title}', 'Warteraum: {title}'],
    'adm.waitingOff': [
      'The waiting room is off for this webinar: attendees go straight in.',
      'Der Warteraum ist für dieses Webinar aus: Teilnehmende kommen direkt herein.'],
    'adm.admitEveryone': ['Let everyone in from now on', 'Ab jetzt alle hereinlassen'],
    'adm.admitAll': ['Let everyone waiting in', 'Alle Wartenden hereinlassen'],
    'adm.waitingCount': ['{n} waiting', '{n} warten'],
    'adm.admit': ['Let in', 'Hereinlassen'],
    'adm.admitNamed': ['Let {name} in', '{name} hereinlassen'],
    'adm.admitted': ['{n} let in.', '{n} hereingelassen.'],
    'adm.everyoneOn': ['Everyone is let in from now on.', 'Ab jetzt kommen alle direkt herein.'],
    'adm.everyoneOff': [
      'Attendees wait again until you let them in.',
      'Teilnehmende warten wieder, bis Sie sie hereinlassen.'],
    'adm.subjectEmail': ['Email address of the person', 'E-Mail-Adresse der Person'],
    'adm.subjectHint': [
      'Everything stored about this address, in every webinar.',
      'Alles, was zu dieser Adresse gespeichert ist, in allen Webinaren.'],
    'adm.showData': ['Show the stored data', 'Gespeicherte Daten anzeigen'],
    'adm.erase': ['Erase the data', 'Daten löschen'],
    'adm.accessDone': ['The stored data is shown below.', 'Die gespeicherten Daten stehen unten.'],
    'adm.eraseConfirm': [
      'Erase everything stored about {email} in every webinar? This cannot be undone.',
      'Alles löschen, was zu {email} in allen Webinaren gespeichert ist? Das lässt sich nicht rückgängig machen.'],
    'adm.erased': ['Erased. What was removed:', 'Gelöscht. Entfernt wurde:'],
    'adm.auditHint': [
      'Who viewed, exported or erased personal data, and when. People are never named here.',
      'Wer personenbezogene Daten angesehen, exportiert oder gelöscht hat, und wann. Betroffene werden hier nie genannt.'],
    'adm.when': ['When', 'Wann'],
    'adm.who': ['Organiser', 'Veranstalter'],
    'adm.action': ['Action', 'Aktion'],
    'adm.webinar': ['Webinar', 'Webinar'],
    'adm.records': ['Records', 'Datensätze'],
    'adm.subject': ['Subject (hash)', 'Betroffene Person (Hash)'],
    // The live interaction: join page (poll, hand, q, chat) and console (con, health, conn, set).
    'poll.heading': ['Poll', 'Umfrage'],
    'poll.new': ['New poll: {question}', 'Neue Umfrage: {question}'],
    'poll.namedNotice': [
      'This poll is not anonymous: your answer is stored with your name and passed on to the organiser.',
      'Diese Umfrage ist nicht anonym: Ihre Antwort wird mit Ihrem Namen gespeichert und an den Veranstalter weitergegeben.'],
    'poll.chooseOne': ['Choose one answer.', 'Wählen Sie eine Antwort.'],
    'poll.chooseMany': ['Choose one or more answers.', 'Wählen Sie eine oder mehrere Antworten.'],
    'poll.vote': ['Vote', 'Abstimmen'],
    'poll.change': ['Change my vote', 'Meine Stimme ändern'],
    'poll.yourVote': ['Your vote: {labels}', 'Ihre Stimme: {labels}'],
    'poll.thanks': ['Your vote is stored.', 'Ihre Stimme ist gespeichert.'],
    'poll.pickOne': ['Choose an answer first.', 'Wählen Sie zuerst eine Antwort.'],
    'poll.closed': ['This poll is closed.', 'Diese Umfrage ist geschlossen.'],
    'poll.results': ['Results', 'Ergebnis'],
    'poll.votes': ['{n} votes ({pct}%)', '{n} Stimmen ({pct} %)'],
    'poll.votes.one': ['{n} vote ({pct}%)', '{n} Stimme ({pct} %)'],
    'poll.voters': ['{n} people voted', '{n} Personen haben abgestimmt'],
    'poll.voters.one': ['{n} person voted', '{n} Person hat abgestimmt'],
    'poll.single': ['one answer', 'eine Antwort'],
    'poll.multiple': ['several answers', 'mehrere Antworten'],
    'poll.anonymous': ['anonymous', 'anonym'],
    'poll.named': ['stored with names', 'mit Namen gespeichert'],
    'poll.changeAllowed': ['votes may be changed', 'Stimmen dürfen geändert werden'],
    'poll.state.draft': ['draft', 'Entwurf'],
    'poll.state.open': ['open', 'offen'],
    'poll.state.closed': ['closed', 'geschlossen'],
    'hand.heading': ['Raise your hand', 'Hand heben'],
    'hand.raise': ['Raise hand', 'Hand heben'],
    'hand.raised': [
      'Your hand is raised: the moderator sees it. Press the button again to lower it.',
      'Ihre Hand ist gehoben: Die Moderation sieht das. Drücken Sie die Taste erneut, um sie zu senken.'],
    'hand.acknowledged': [
      'Acknowledged by the moderator.',
      'Von der Moderation bestätigt.'],
    'hand.lowered': ['The moderator lowered your hand.', 'Die Moderation hat Ihre Hand gesenkt.'],
    'q.heading': ['Questions', 'Fragen'],
    'q.yours': ['Your question', 'Ihre Frage'],
    'q.hintPrivate': [
      'Only the moderators see your question.',
      'Nur die Moderation sieht Ihre Frage.'],
    'q.hintPublic': [
      'Everyone in the webinar sees your question and can upvote it.',
      'Alle im Webinar sehen Ihre Frage und können sie unterstützen.'],
    'q.showName': ['Show my name with my question', 'Meinen Namen bei meiner Frage zeigen'],
    'q.ask': ['Ask', 'Fragen'],
    'q.sent': ['Your question was sent.', 'Ihre Frage wurde gesendet.'],
    'q.mine': ['Your questions', 'Ihre Fragen'],
    'q.others': ['Questions from others', 'Fragen von anderen'],
    'q.noOthers': ['No questions from others yet.', 'Noch keine Fragen von anderen.'],
    'q.anonymous': ['Anonymous', 'Anonym'],
    'q.upvote': ['Upvote', 'Unterstützen'],
    'q.upvoted': ['Upvoted', 'Unterstützt'],
    'q.upvotes': ['{n} upvotes', '{n} Stimmen'],
    'q.upvotes.one': ['{n} upvote', '{n} Stimme'],
    'q.state.open': ['open', 'offen'],
    'q.state.answered': ['answered', 'beantwortet'],
    'q.state.dismissed': ['dismissed', 'verworfen'],
    'chat.heading': ['Chat', 'Chat'],
    'chat.log': ['Chat messages', 'Chat-Nachrichten'],
    'chat.message': ['Message', 'Nachricht'],
    'chat.to': ['Send to', 'Senden an'],
    'chat.toEveryone': ['Everyone', 'Alle'],
    'chat.toMods': ['Only the moderators (private)', 'Nur die Moderation (privat)'],
    'chat.showName': ['Show my name with my message', 'Meinen Namen bei meiner Nachricht zeigen'],
    'chat.send': ['Send', 'Senden'],
    'chat.you': ['You', 'Sie'],
    'chat.mod': ['Moderator', 'Moderation'],
    'chat.attendee': ['Attendee', 'Teilnehmende Person'],
    'chat.privateToMods': ['private, to the moderators', 'privat, an die Moderation'],
    'chat.privateToYou': ['private, to you', 'privat, an Sie'],
    'chat.youMuted': [
      'The moderator has muted you in the chat: you can read, but not write.',
      'Die Moderation hat Sie im Chat stummgeschaltet: Sie können lesen, aber nicht schreiben.'],
    'err.muted': [
      'You are muted in the chat.',
      'Sie sind im Chat stummgeschaltet.'],
    'err.chat_disabled': ['The chat is off.', 'Der Chat ist ausgeschaltet.'],
    'err.too_fast': [
      'You are writing too fast; wait a few seconds.',
      'Sie schreiben zu schnell; warten Sie ein paar Sekunden.'],
    'err.too_many': [
      'You have asked as many questions as allowed.',
      'Sie haben so viele Fragen gestellt, wie erlaubt sind.'],
    'err.poll_closed': ['This poll is closed.', 'Diese Umfrage ist geschlossen.'],
    'err.already_voted': [
      'You have voted already; this poll does not allow changing the vote.',
      'Sie haben schon abgestimmt; bei dieser Umfrage lässt sich die Stimme nicht ändern.'],
    'err.already_upvoted': ['You have upvoted this already.', 'Sie haben das schon unterstützt.'],
    'err.not_admitted': [
      'You are not in the room (yet).',
      'Sie sind (noch) nicht im Raum.'],
    'err.not_live': ['The webinar is over.', 'Das Webinar ist vorbei.'],
    'err.not_found': ['This no longer exists.', 'Das gibt es nicht mehr.'],
    'err.poll_open': ['Close the poll first.', 'Schließen Sie die Umfrage zuerst.'],
    'err.invalid_state': ['This has changed meanwhile.', 'Das hat sich inzwischen geändert.'],
    'con.title': ['Console: {title}', 'Konsole: {title}'],
    'con.health': ['Stream', 'Stream'],
    'con.audience': ['Audience', 'Publikum'],
    'con.audienceCount': ['{watching} watching · {waiting} waiting', '{watching} sehen zu · {waiting} warten'],
    'con.hands': ['Raised hands', 'Gehobene Hände'],
    'con.noHands': ['No hands raised.', 'Keine Hand gehoben.'],
    'con.raisedAt': ['raised at {time}', 'gehoben um {time}'],
    'con.acknowledged': ['acknowledged', 'bestätigt'],
    'con.acknowledge': ['Acknowledge', 'Bestätigen'],
    'con.acknowledgeNamed': ['Acknowledge {name}’s hand', 'Hand von {name} bestätigen'],
    'con.lower': ['Lower', 'Senken'],
    'con.lowerNamed': ['Lower {name}’s hand', 'Hand von {name} senken'],
    'con.attendeeNo': ['Attendee {id}', 'Teilnehmende Person {id}'],
    'con.questions': ['Questions', 'Fragen'],
    'con.qFilter': ['Show questions', 'Fragen anzeigen'],
    'con.filter.open': ['Open ({n})', 'Offen ({n})'],
    'con.filter.answered': ['Answered ({n})', 'Beantwortet ({n})'],
    'con.filter.dismissed': ['Dismissed ({n})', 'Verworfen ({n})'],
    'con.questionsPrivate': [
      'New questions are seen only by their asker and the moderators.',
      'Neue Fragen sehen nur die fragende Person und die Moderation.'],
    'con.questionsPublic': [
      'New questions are public: attendees see them (until dismissed) and can upvote them. ' +
        'Questions asked in private stay private.',
      'Neue Fragen sind öffentlich: Teilnehmende sehen sie (bis sie verworfen werden) und können ' +
        'sie unterstützen. Privat gestellte Fragen bleiben privat.'],
    'con.qPrivate': ['private', 'privat'],
    'con.noQuestions': ['No questions here.', 'Hier keine Fragen.'],
    'con.markAnswered': ['Mark answered', 'Als beantwortet markieren'],
    'con.dismiss': ['Dismiss', 'Verwerfen'],
    'con.reopen': ['Reopen', 'Wieder öffnen'],
    'con.nameHidden': ['name not shown to attendees', 'Name für Teilnehmende verborgen'],
    'con.polls': ['Polls', 'Umfragen'],
    'con.newPoll': ['New poll', 'Neue Umfrage'],
    'con.pollQuestion': ['Question', 'Frage'],
    'con.pollOptions': ['Answers (2 to 10)', 'Antworten (2 bis 10)'],
    'con.optionN': ['Answer {n}', 'Antwort {n}'],
    'con.removeOptionN': ['Remove answer {n}', 'Antwort {n} entfernen'],
    'con.addOption': ['Add an answer', 'Antwort hinzufügen'],
    'con.optionsAlike': ['Two answers are alike.', 'Zwei Antworten sind gleich.'],
    'con.multiple': ['Several answers may be chosen', 'Mehrere Antworten sind möglich'],
    'con.anonymous': [
      'Anonymous (votes are not stored with names)',
      'Anonym (Stimmen werden nicht mit Namen gespeichert)'],
    'con.allowChange': ['Attendees may change their vote', 'Teilnehmende dürfen ihre Stimme ändern'],
    'con.createOpen': ['Create and open', 'Anlegen und öffnen'],
    'con.createDraft': ['Save as draft', 'Als Entwurf speichern'],
    'con.pollOpened': ['The poll is open.', 'Die Umfrage ist offen.'],
    'con.pollDrafted': ['The poll is saved as a draft.', 'Die Umfrage ist als Entwurf gespeichert.'],
    'con.noPolls': ['No polls yet.', 'Noch keine Umfragen.'],
    'con.open': ['Open', 'Öffnen'],
    'con.close': ['Close', 'Schließen'],
    'con.showResults': ['Show results to attendees', 'Ergebnis den Teilnehmenden zeigen'],
    'con.hideResults': ['Hide results from attendees', 'Ergebnis vor den Teilnehmenden verbergen'],
    'con.resultsShown': ['results shown to attendees', 'Ergebnis für Teilnehmende sichtbar'],
    'con.resultsCsv': ['Results (CSV)', 'Ergebnis (CSV)'],
    'con.pollsCsv': ['All polls (CSV)', 'Alle Umfragen (CSV)'],
    'con.deletePollConfirm': [
      'Delete the poll “{question}” with its votes?',
      'Die Umfrage „{question}“ mit ihren Stimmen löschen?'],
    'con.chat': ['Chat', 'Chat'],
    'con.chatLog': ['Chat messages', 'Chat-Nachrichten'],
    'con.chatOff': [
      'The chat is off: attendees cannot write. Turn it on under “Interaction”.',
      'Der Chat ist aus: Teilnehmende können nicht schreiben. Schalten Sie ihn unter „Interaktion“ ein.'],
    'con.message': ['Message', 'Nachricht'],
    'con.toEveryone': ['Write to everyone instead', 'Stattdessen an alle schreiben'],
    'con.replyingTo': ['Private reply to {name}', 'Private Antwort an {name}'],
    'con.reply': ['Reply privately', 'Privat antworten'],
    'con.replyNamed': ['Reply privately to {name}', 'Privat an {name} antworten'],
    'con.privateTo': ['private, to {name}', 'privat, an {name}'],
    'con.privateToMods': ['private, to the moderators', 'privat, an die Moderation'],
    'con.deleted': ['deleted', 'gelöscht'],
    'con.mutedTag': ['muted', 'stummgeschaltet'],
    'con.mute': ['Mute', 'Stummschalten'],
    'con.unmute': ['Unmute', 'Stummschaltung aufheben'],
    'con.muteNamed': ['Mute {name} in the chat', '{name} im Chat stummschalten'],
    'con.unmuteNamed': ['Unmute {name} in the chat', 'Stummschaltung von {name} im Chat aufheben'],
    'con.muted': ['{name} is muted in the chat.', '{name} ist im Chat stummgeschaltet.'],
    'con.unmuted': ['{name} may write again.', '{name} darf wieder schreiben.'],
    'con.interaction': ['Interaction', 'Interaktion'],
    'con.namesHidden': [
      'Attendees do not see each other’s names (a setting of the webinar).',
      'Teilnehmende sehen die Namen der anderen nicht (eine Einstellung des Webinars).'],
    'con.namesShown': [
      'Attendees may show their name with a question or message.',
      'Teilnehmende können ihren Namen bei einer Frage oder Nachricht zeigen.'],
    'con.end': ['End the webinar', 'Webinar beenden'],
    'con.endHint': [
      'Stops the live stream for everyone; its recording becomes the replay.',
      'Beendet den Live-Stream für alle; die Aufzeichnung wird zur Wiederholung.'],
    'con.endButton': ['End webinar', 'Webinar beenden'],
    'con.endConfirm': [
      'End “{title}” now for everyone?',
      '„{title}“ jetzt für alle beenden?'],
    'con.ended': ['The webinar has ended.', 'Das Webinar ist beendet.'],
    'con.notLive': ['Nothing is live.', 'Gerade läuft nichts live.'],
    'set.questionsPublic': [
      'Questions asked from now on are public: attendees see and upvote them',
      'Ab jetzt gestellte Fragen sind öffentlich: Teilnehmende sehen und unterstützen sie'],
    'set.chatEnabled': ['Chat on', 'Chat an'],
    'conn.connecting': ['Connecting to live updates…', 'Verbindung für Live-Aktualisierungen wird aufgebaut…'],
    'conn.open': ['Live updates connected.', 'Live-Aktualisierungen verbunden.'],
    'conn.reconnecting': [
      'Connection lost; reconnecting…',
      'Verbindung unterbrochen; wird wieder aufgebaut…'],
    'conn.closed': [
      'Not connected; trying again shortly…',
      'Nicht verbunden; neuer Versuch in Kürze…'],
    'health.offline': ['Offline: no stream arrives.', 'Offline: Es kommt kein Stream an.'],
    'health.running': ['Live', 'Live'],
    'health.grace': [
      'The presenter’s connection dropped; waiting for it to come back.',
      'Die Verbindung der vortragenden Person ist abgebrochen; es wird auf sie gewartet.'],
    'health.video': ['Video', 'Video'],
    'health.audio': ['Audio', 'Audio'],
    'health.bitrate': ['Video bitrate', 'Video-Bitrate'],
    'health.fps': ['Frames per second', 'Bilder pro Sekunde'],
    'health.keyframe': ['Keyframe interval', 'Keyframe-Intervall'],
    'health.audioPresent': ['Sound arriving', 'Ton kommt an'],
    'health.none': ['none', 'keins'],
    'health.kbps': ['{n} kbit/s', '{n} kbit/s'],
    'health.seconds': ['{n} s', '{n} s'],
    'health.warnKeyframe': [
      'Keyframe interval {n} s: set it to 2 s in the encoder (at most {max} s), or the delay grows.',
      'Keyframe-Intervall {n} s: Stellen Sie im Encoder 2 s ein (höchstens {max} s), sonst wächst die Verzögerung.'],
    'health.warnAudio': [
      'No audio has arrived for 3 seconds: check the encoder’s audio source.',
      'Seit 3 Sekunden kommt kein Ton an: Prüfen Sie die Audioquelle des Encoders.'],
    'health.warnNoVideo': ['No video arrives.', 'Es kommt kein Video an.'],
    'health.warnGrace': [
      'The stream was interrupted; viewers see the last picture until the presenter reconnects.',
      'Der Stream ist unterbrochen; das Publikum sieht das letzte Bild, bis die vortragende Person wieder verbunden ist.'],
  };
  const NAMES = { en: 'English', de: 'Deutsch' };
  const STORE = 'lectern-lang';
  const listeners = [];

  const languages = () => (navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || 'en']);
  const base = (tag) => String(tag).toLowerCase().split('-')[0];

  function initial() {
    let saved = null;
    try { saved = localStorage.getItem(STORE); } catch (e) { /* storage off */ }
    if (LANGS.includes(saved)) return saved;
    return languages().map(base).find((l) => LANGS.includes(l)) || 'en';
  }
  let lang = initial();

  /* The text of `key` in the current language, {name}s replaced from vars. With vars.n === 1
   * the text of `key.one` is taken when there is one ("1 vote"). */
  function t(key, vars) {
    if (vars && vars.n === 1 && TEXTS[key + '.one']) key += '.one';
    const s = TEXTS[key] ? TEXTS[key][LANGS.indexOf(lang)] : key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
  }

  function apply(root = document) {
    document.documentElement.lang = lang;
    for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of root.querySelectorAll('[data-i18n-label]'))
      e.setAttribute('aria-label', t(e.dataset.i18nLabel));
  }

  /* The language switch: `button` offers the other language; onChange redraws what apply()
   * cannot reach (dates, texts made from data). */
  function mountSwitch(button, onChange) {
    const label = () => {
      const other = lang === 'de' ? 'en' : 'de';
      button.textContent = NAMES[other];
      button.lang = other;
    };
    button.addEventListener('click', () => {
      lang = lang === 'de' ? 'en' : 'de';
      try { localStorage.setItem(STORE, lang); } catch (e) { /* not remembered */ }
      apply();
      label();
      for (const fn of listeners) fn(lang);
    });
    if (onChange) listeners.push(onChange);
    label();
    apply();
  }

  /* The viewer's own locale when it is of the page's language (en-GB writes dates unlike
   * en-US), else the language alone. */
  function locale() {
    return languages().find((l) => base(l) === lang) || lang;
  }

  function has(key) { return Object.prototype.hasOwnProperty.call(TEXTS, key); }

  function timeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  }

  /* "Tuesday, 1 December 2026, 15:00 CET" in the viewer's zone. */
  function dateTime(iso) {
    return new Intl.DateTimeFormat(locale(), { weekday: 'long', year: 'numeric', month: 'long',
      day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
      .format(new Date(iso));
  }

  /* "15:04" in the viewer's zone. */
  function time(iso) {
    return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' })
      .format(new Date(iso));
  }

  function unit(n, u, display) {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit: u, unitDisplay: display }).format(n);
  }

  /* "1 hour, 30 minutes" */
  function duration(seconds) {
    const m = Math.round((seconds || 0) / 60), h = Math.floor(m / 60), r = m % 60;
    const parts = [];
    if (h) parts.push(unit(h, 'hour', 'long'));
    if (r || !h) parts.push(unit(r, 'minute', 'long'));
    return parts.join(', ');
  }

  /* "2 days, 3 hr, 4 min, 5 sec" until something `ms` away (days and hours only when
   * there are any). */
  function countdown(ms) {
    let s = Math.max(0, Math.ceil(ms / 1000));
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    const parts = [];
    if (d) parts.push(unit(d, 'day', 'long'));
    if (d || h) parts.push(unit(h, 'hour', 'short'));
    parts.push(unit(m, 'minute', 'short'), unit(s, 'second', 'short'));
    return parts.join(', ');
  }

  return { t, has, apply, mountSwitch, timeZone, dateTime, time, duration, countdown,
    get lang() { return lang; } };
})();
