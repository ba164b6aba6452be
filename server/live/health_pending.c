/* PLACEHOLDER until the live module measures stream health and can end a stream (being written
 * now): health reports only the state, ending reports "nothing runs". Replaced before issue 5
 * closes. */
#include "live/live.h"
#include "core/error.h"
#include <string.h>
int lc_live_health(lc_live_t *live, int64_t webinar_id, lc_live_health_t *out) { memset(out,0,sizeof *out); out->state = lc_live_state(live, webinar_id, &out->session_id); return out->state ? 0 : LC_ENOTFOUND; }
int lc_live_end(lc_live_t *live, int64_t webinar_id) { (void)live; (void)webinar_id; return LC_ENOTFOUND; }
