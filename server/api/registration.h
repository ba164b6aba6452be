/* Registration and joining: the public form at /w/{slug}, personal join links (/j/{token}),
 * the calendar file, the waiting room, the room password and attendance heartbeats; and for
 * organisers the registrations of a webinar, approval and admission. docs/api.md has every
 * request and answer. */
#ifndef LC_API_REGISTRATION_H
#define LC_API_REGISTRATION_H

#include "http/http.h"

/* The texts a webinar shows when its organiser set none. */
extern const char lc_default_privacy_notice[];
extern const char lc_default_consent_text[];

#endif
