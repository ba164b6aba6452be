/* The demo presenter: with `lectern serve --demo`, a built-in source encodes a test picture
 * (moving bars and the wall clock, so latency can be read off the screen) and a tone with a beep
 * each second, and pushes it over RTMP to this server's own ingest — exactly what OBS or ffmpeg
 * would do — into a webinar with the slug "demo". Nothing external is needed to see lectern
 * work. */
#ifndef LC_DEMO_DEMO_H
#define LC_DEMO_DEMO_H

#include "app.h"

typedef struct lc_demo lc_demo_t;

/* Creates (or reuses) the demo webinar, gives it a fresh stream key, and starts the source
 * thread; it reconnects every 2 s if the push fails. Needs app->db and the ingest running (it
 * connects to app->rtmp_bound). Main thread. */
int lc_demo_start(lc_app_t *app, lc_demo_t **out);
/* Stops the source: the push ends cleanly (FCUnpublish), so the demo session ends and its replay
 * becomes available. NULL-safe; sets *pd to NULL. */
void lc_demo_stop(lc_demo_t **pd);

#define LC_DEMO_SLUG "demo"

#endif
