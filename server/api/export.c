/* The registrations of a webinar as a file for organisers: CSV (for spreadsheets) or JSON.
 * However many there are, one row is in memory at a time: the body is produced row by row as
 * the client reads, from a cursor on a read-only snapshot (db/leads.h), so 100,000 registrations
 * cost what one does. Each export is written to the audit log before any row leaves. */
#include "api/leads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/registration.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "db/interaction.h"
#include "db/leads.h"

typedef struct export export_t;

/* A file format: its opening, one registration, its end. Each appends to x->out. */
typedef struct {
    const char *action; /* in the audit log */
    const char *ext;
    const char *content_type;
    int (*head)(export_t *x);
    int (*row)(export_t *x, const lc_reg_row_t *r);
    int (*tail)(export_t *x);
} export_format_t;

typedef enum { STAGE_HEAD, STAGE_ROWS, STAGE_TAIL, STAGE_DONE } export_stage_t;

struct export {
    const export_format_t *fmt;
    lc_reg_cursor_t *cur;
    json_t *form;  /* the webinar's form fields (CSV columns) */
    /* Attributed polls and who answered what (db/interaction.h lc_db_poll_lead_answers): one
     * small entry per voter, the only part that grows with the export beyond one row. */
    json_t *polls;
    lc_bytes_t out; /* produced and not yet sent: one row, or the head or tail */
    size_t sent;    /* bytes of `out` already sent */
    export_stage_t stage;
    int64_t rows;
};

/* ---- CSV ------------------------------------------------------------------------------------- */

static const char *const csv_columns_before[] = {"id", "email", "name", NULL};
static const char *const csv_columns_after[] = {
    "consent_version", "consent_at", "utm_source", "utm_medium", "utm_campaign", "referrer",
    "state", "registered_at", "attended_live", "minutes_live", "minutes_replay", NULL};

static const char *field_text(json_t *def, const char *member)
{
    return json_string_value(json_object_get(def, member));
}

/* A UTF-8 byte order mark first: without it Excel reads the file in the system's legacy code
 * page and garbles every name that is not ASCII. */
static int csv_head(export_t *x)
{
    size_t i;
    json_t *def;
    lc_bytes_append(&x->out, "\xEF\xBB\xBF", 3);
    for (int k = 0; csv_columns_before[k]; k++)
        lc_csv_field(&x->out, csv_columns_before[k], k == 0);
    json_array_foreach(x->form, i, def) lc_csv_field(&x->out, field_text(def, "label"), false);
    for (int k = 0; csv_columns_after[k]; k++)
        lc_csv_field(&x->out, csv_columns_after[k], false);
    json_array_foreach(x->polls, i, def) {
        lc_bytes_t title;
        lc_bytes_init(&title);
        lc_bytes_printf(&title, "poll %lld: %s", (long long)json_integer_value(json_object_get(def, "id")),
                        field_text(def, "question"));
        lc_bytes_append(&title, "", 1);
        lc_csv_field(&x->out, title.failed ? "poll" : (const char *)title.data, false);
        lc_bytes_free(&title);
    }
    lc_bytes_append(&x->out, LC_CSV_EOL, 2);
    return x->out.failed ? -ENOMEM : 0;
}

/* The labels a registration chose in an attributed poll, or NULL when it did not answer: a
 * new array. */
static json_t *poll_answer(json_t *poll, int64_t registration_id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)registration_id);
    json_t *mask = json_object_get(json_object_get(poll, "answers"), key);
    if (!mask)
        return NULL;
    json_t *labels = json_array(), *o;
    size_t i;
    json_array_foreach(json_object_get(poll, "options"), i, o)
        if (i < 31 && (json_integer_value(mask) & (1 << i)))
            json_array_append(labels, json_object_get(o, "label"));
    return labels;
}

static void csv_int(lc_bytes_t *out, int64_t v, bool first)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)v);
    lc_csv_field(out, text, first);
}

static void csv_time(lc_bytes_t *out, int64_t ms)
{
    char text[25];
    lc_csv_field(out, ms > 0 ? lc_iso8601(ms, text) : "", false);
}

/* One custom field's answer: the text, "yes"/"no" for a checkbox, empty when not answered (or
 * the field was added to the form after this registration). */
static void csv_answer(lc_bytes_t *out, json_t *def, json_t *answers)
{
    json_t *v = json_object_get(answers, field_text(def, "id"));
    const char *type = field_text(def, "type");
    const char *text = json_is_string(v) ? json_string_value(v) : "";
    if (type && strcmp(type, "checkbox") == 0 && json_is_boolean(v))
        text = json_is_true(v) ? "yes" : "no";
    lc_csv_field(out, text, false);
}

static int csv_row(export_t *x, const lc_reg_row_t *r)
{
    lc_bytes_t *out = &x->out;
    csv_int(out, r->id, true);
    lc_csv_field(out, r->email, false);
    lc_csv_field(out, r->name, false);
    json_t *answers = json_loads(r->answers_json, 0, NULL);
    size_t i;
    json_t *def;
    json_array_foreach(x->form, i, def) csv_answer(out, def, answers);
    json_decref(answers);
    lc_csv_field(out, r->consent_version, false);
    csv_time(out, r->consent_at_ms);
    lc_csv_field(out, r->utm_source, false);
    lc_csv_field(out, r->utm_medium, false);
    lc_csv_field(out, r->utm_campaign, false);
    lc_csv_field(out, r->referrer, false);
    lc_csv_field(out, lc_reg_state_name(r->state), false);
    csv_time(out, r->created_at_ms);
    lc_csv_field(out, r->attended_live ? "yes" : "no", false);
    csv_int(out, lc_reg_minutes(r->seconds_live), false);
    csv_int(out, lc_reg_minutes(r->seconds_replay), false);
    json_array_foreach(x->polls, i, def) {
        json_t *labels = poll_answer(def, r->id), *l;
        lc_bytes_t text;
        lc_bytes_init(&text);
        size_t k;
        json_array_foreach(labels, k, l) {
            if (k)
                lc_bytes_append(&text, "; ", 2);
            lc_bytes_append(&text, json_string_value(l), strlen(json_string_value(l)));
        }
        lc_bytes_append(&text, "", 1);
        lc_csv_field(out, text.failed ? "" : (const char *)text.data, false);
        lc_bytes_free(&text);
        json_decref(labels);
    }
    lc_bytes_append(out, LC_CSV_EOL, 2);
    return out->failed ? -ENOMEM : 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static int append_cb(const char *buf, size_t size, void *data)
{
    return lc_bytes_append(data, buf, size) < 0 ? -1 : 0;
}

static int json_head(export_t *x)
{
    return lc_bytes_append(&x->out, "{\"registrations\":[", 18);
}

static int json_row(export_t *x, const lc_reg_row_t *r)
{
    json_t *j = lc_api_registration_json(r);
    if (!j)
        return -ENOMEM;
    json_t *answers = json_array(), *poll;
    size_t i;
    json_array_foreach(x->polls, i, poll) {
        json_t *labels = poll_answer(poll, r->id);
        if (labels)
            json_array_append_new(answers, json_pack("{s:O,s:O,s:o}", "poll_id",
                                                     json_object_get(poll, "id"), "question",
                                                     json_object_get(poll, "question"),
                                                     "options", labels));
    }
    json_object_set_new(j, "poll_answers", answers);
    lc_bytes_append(&x->out, x->rows ? ",\n" : "\n", x->rows ? 2 : 1);
    int rc = json_dump_callback(j, append_cb, &x->out, JSON_COMPACT);
    json_decref(j);
    return rc < 0 || x->out.failed ? -ENOMEM : 0;
}

static int json_tail(export_t *x) { return lc_bytes_append(&x->out, "\n]}\n", 4); }

static const export_format_t format_csv = {"export_csv", "csv",
                                           "text/csv; charset=utf-8; header=present", csv_head,
                                           csv_row, NULL};
static const export_format_t format_json = {"export_json", "json", "application/json",
                                            json_head, json_row, json_tail};

/* ---- the stream ------------------------------------------------------------------------------ */

/* Fills x->out with the next piece of the body (possibly nothing: an empty tail). */
static int produce(export_t *x)
{
    lc_reg_row_t row;
    int rc = 0;
    lc_bytes_reset(&x->out);
    x->sent = 0;
    switch (x->stage) {
    case STAGE_HEAD:
        x->stage = STAGE_ROWS;
        return x->fmt->head(x);
    case STAGE_ROWS:
        if ((rc = lc_reg_cursor_next(x->cur, &row)) <= 0) {
            x->stage = STAGE_TAIL;
            return rc;
        }
        rc = x->fmt->row(x, &row);
        x->rows++;
        return rc;
    case STAGE_TAIL:
        x->stage = STAGE_DONE;
        return x->fmt->tail ? x->fmt->tail(x) : 0;
    case STAGE_DONE:
        break;
    }
    return 0;
}

static ssize_t export_read(void *opaque, char *buf, size_t max)
{
    export_t *x = opaque;
    size_t n = 0;
    while (n < max) {
        if (x->sent == x->out.len) {
            if (x->stage == STAGE_DONE)
                break;
            int rc = produce(x);
            if (rc < 0) {
                LC_ERROR("api", "export stopped after %lld rows: %s", (long long)x->rows,
                         lc_strerror(rc));
                return rc;
            }
            continue;
        }
        size_t k = x->out.len - x->sent;
        if (k > max - n)
            k = max - n;
        memcpy(buf + n, x->out.data + x->sent, k);
        n += k;
        x->sent += k;
    }
    return (ssize_t)n;
}

static void export_free(void *opaque)
{
    export_t *x = opaque;
    if (!x)
        return;
    lc_reg_cursor_close(&x->cur);
    json_decref(x->form);
    json_decref(x->polls);
    lc_bytes_free(&x->out);
    free(x);
}

static int export(lc_req_t *req, const export_format_t *fmt)
{
    lc_app_t *app = lc_req_app(req);
    lc_webinar_t w;
    lc_webinar_texts_t texts;
    int64_t count = 0;
    int rc = 0;
    if (lc_api_load_webinar(req, &w, &rc) < 0)
        return rc;
    export_t *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->fmt = fmt;
    lc_bytes_init(&x->out);
    if ((rc = lc_db_webinar_texts(app->db, w.id, &texts)) == 0) {
        x->form = json_loads(texts.form_fields_json, 0, NULL);
        lc_webinar_texts_clear(&texts);
        if (!json_is_array(x->form))
            rc = -EIO; /* the schema only lets arrays in: out of memory */
    }
    if (rc == 0)
        rc = lc_db_poll_lead_answers(app->db, w.id, &x->polls);
    if (rc == 0)
        x->cur = lc_reg_cursor_open(app->db_path, w.id, &count, &rc);
    if (rc < 0) {
        export_free(x);
        return rc;
    }
    /* A HEAD request receives no rows: nothing to record. */
    if (strcmp(lc_req_method(req), MHD_HTTP_METHOD_HEAD) != 0) {
        lc_api_audit(req, fmt->action, w.id, NULL, count);
        LC_INFO("api", "webinar %lld: %lld registrations exported as %s by organiser %lld",
                (long long)w.id, (long long)count, fmt->ext,
                (long long)lc_req_session(req)->user_id);
    }
    char cd[128];
    if ((rc = lc_fmt(cd, sizeof cd, "attachment; filename=\"registrations-%s.%s\"", w.slug,
                     fmt->ext)) < 0) {
        export_free(x);
        return rc;
    }
    const char *hdr[] = {MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd, NULL};
    return lc_reply_stream(req, MHD_HTTP_OK, fmt->content_type, export_read, export_free, x, hdr);
}

int lc_api_admin_export_csv(lc_req_t *req) { return export(req, &format_csv); }
int lc_api_admin_export_json(lc_req_t *req) { return export(req, &format_json); }
