/* Live interaction in the database: polls and votes, questions and upvotes, chat and mutes,
 * raised hands (migrations/0006_interaction.sql). Reads use the shared connection; every change
 * is one writer job (lc_db_ix_run), so that changes commit in batches and are published in
 * commit order. Rows come back as JSON objects in the moderators' view (the API derives what
 * attendees see from it): times ISO 8601, names from the registration. */
#ifndef LC_DB_INTERACTION_H
#define LC_DB_INTERACTION_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "db/writer.h"

#define LC_POLL_OPTIONS_MIN 2
#define LC_POLL_OPTIONS_MAX 10
#define LC_VOTER_LEN 16

/* ---- reads (any thread; each returns 0 and a new reference in *out, or LC_EDB / -ENOMEM) --- */

/* The webinar's polls, oldest first: [{"id", "question", "multiple", "anonymous",
 * "allow_change", "state", "results_shown", "created_at", "opened_at", "closed_at", "options":
 * [{"id", "label"}]}]. With poll_id > 0 only that poll (an empty array when it is not the
 * webinar's). */
int lc_db_polls(lc_db_t *db, int64_t webinar_id, int64_t poll_id, json_t **out);
/* {"total", "voters", "counts": [{"option_id", "votes"}]} in option order; total is the sum of
 * the counts (a multiple-choice voter counts once per option), voters the number of votes. */
int lc_db_poll_results(lc_db_t *db, int64_t poll_id, json_t **out);
/* The options `voter` chose in the poll as a bit mask over their positions; 0 when none. */
int lc_db_poll_vote_mask(lc_db_t *db, int64_t poll_id, const uint8_t voter[LC_VOTER_LEN],
                         int *mask);
/* The attributed answers of a poll, for its results file: calls fn(opaque, name, email, mask)
 * per voter, oldest vote first. Returns 0, fn's negative result, or LC_EDB. */
int lc_db_poll_answers(lc_db_t *db, int64_t poll_id,
                       int (*fn)(void *opaque, const char *name, const char *email, int mask),
                       void *opaque);
/* The attributed polls of a webinar with each registration's answer, for the lead export:
 * *out = [{"id", "question", "options": [{"id", "label"}], "answers": {"REG_ID": mask}}]. */
int lc_db_poll_lead_answers(lc_db_t *db, int64_t webinar_id, json_t **out);
/* Questions, oldest first: [{"id", "registration_id", "name", "show_name", "body", "state",
 * "upvotes", "asked_at", "public"}]; question_id > 0: that one only. "public": whether other
 * attendees see it (the webinar's questions_public when it was asked). */
int lc_db_questions(lc_db_t *db, int64_t webinar_id, int64_t question_id, json_t **out);
/* The ids of the webinar's questions this registration upvoted: [id, ...]. */
int lc_db_question_upvoted(lc_db_t *db, int64_t webinar_id, int64_t registration_id,
                           json_t **out);
/* The newest `limit` chat messages, oldest first: [{"id", "registration_id", "name",
 * "show_name", "to_moderators", "to_registration_id", "body", "at", "deleted"}]. */
int lc_db_chat_recent(lc_db_t *db, int64_t webinar_id, int limit, json_t **out);
/* Raised hands in order: [{"registration_id", "name", "raised": true, "raised_at",
 * "acknowledged_at"}]. */
int lc_db_hands(lc_db_t *db, int64_t webinar_id, json_t **out);
/* The registrations muted in the webinar's chat: [id, ...]. */
int lc_db_chat_mutes(lc_db_t *db, int64_t webinar_id, json_t **out);

/* What a registration wrote or did in the live room, for data-subject access (Art. 15):
 * {"questions": [{"body", "state", "asked_at"}], "chat_messages": [{"body", "to_moderators",
 * "at", "deleted_at"}], "poll_answers": [{"poll_id", "question", "options": [labels],
 * "voted_at"}] (attributed polls; an anonymous vote cannot be traced to anyone),
 * "raised_hand": null | {"raised_at", "acknowledged_at"}}. */
int lc_db_subject_interaction(lc_db_t *db, int64_t registration_id, json_t **out);

/* ---- changes: one writer job each ---------------------------------------------------------- */

typedef enum {
    LC_IX_POLL_CREATE,   /* text, options, multiple, anonymous, allow_change, flag (open) */
    LC_IX_POLL_UPDATE,   /* target; set: which of text/options/multiple/anonymous/allow_change */
    LC_IX_POLL_STATE,    /* target; state "open" | "closed" */
    LC_IX_POLL_RESULTS,  /* target; flag (shown) */
    LC_IX_POLL_DELETE,   /* target */
    LC_IX_VOTE,          /* target (poll), registration_id, voter, option_ids */
    LC_IX_QUESTION_ADD,  /* registration_id, text, flag (show_name), limit */
    LC_IX_QUESTION_UPVOTE, /* target, registration_id */
    LC_IX_QUESTION_STATE,  /* target; state */
    LC_IX_CHAT_ADD,      /* registration_id (0: a moderator), text, flag (show_name),
                          * to_moderators, to_registration_id */
    LC_IX_CHAT_DELETE,   /* target */
    LC_IX_MUTE,          /* to_registration_id, flag (muted) */
    LC_IX_HAND,          /* registration_id; flag: raised (attendee) / state "acknowledge" |
                          * "lower" (moderator) */
} lc_ix_op_t;

/* Which members LC_IX_POLL_UPDATE changes. */
enum {
    LC_IX_SET_TEXT = 1,
    LC_IX_SET_OPTIONS = 2,
    LC_IX_SET_MULTIPLE = 4,
    LC_IX_SET_ANONYMOUS = 8,
    LC_IX_SET_ALLOW_CHANGE = 16,
};

typedef struct lc_ix_job {
    lc_ix_op_t op;
    int64_t webinar_id;
    int64_t registration_id; /* the attendee acting, 0 for a moderator */
    int64_t target_id;
    int64_t to_registration_id;
    int64_t now_ms;
    char *text;         /* owned */
    json_t *options;    /* owned: labels (create/update) or option ids (vote) */
    const char *state;  /* a string literal */
    bool flag, multiple, anonymous, allow_change, to_moderators;
    int set;
    int limit;
    uint8_t voter[LC_VOTER_LEN];
    /* Outputs. */
    const char *why;    /* a refusal's code (the job's result is then negative), e.g.
                         * "poll_closed", "already_voted", "unknown_option" */
    json_t *out;        /* the row after the change, moderators' view */
    json_t *before;     /* LC_IX_POLL_DELETE / CHAT_DELETE: the row before */
    bool changed;       /* LC_IX_VOTE: a vote changed; LC_IX_HAND: anything changed */
    /* For the submitter: the commit hook's context, and the webinar's settings the published
     * views depend on. */
    void *ctx;
    bool names_hidden, questions_public;
} lc_ix_job_t;

/* The writer job (lc_write_fn). Refusals: LC_ENOTFOUND (no such poll / question / message /
 * hand in this webinar), LC_ECONFLICT or -EINVAL or LC_ELIMIT with `why` set. */
int lc_db_ix_run(lc_wtx_t *tx, void *arg);
/* Frees a job and what it owns (NULL-safe). */
void lc_ix_job_free(void *arg);

#endif
