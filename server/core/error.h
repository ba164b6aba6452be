/* Error codes: functions return 0 or a negative code, either -errno or one of LC_E* below. */
#ifndef LC_CORE_ERROR_H
#define LC_CORE_ERROR_H

/* Our own codes live far below any errno value. */
enum {
    LC_EPROTO_RTMP = -10001, /* peer broke the RTMP protocol */
    LC_ENOTFOUND = -10002,   /* no such object */
    LC_ECONFLICT = -10003,   /* object exists / is busy (e.g. webinar already live) */
    LC_EDENIED = -10004,     /* credentials wrong */
    LC_EDB = -10005,         /* SQLite failed; details were logged where it happened */
    LC_EMEDIA = -10006,      /* media could not be parsed or muxed; details were logged */
    LC_ELIMIT = -10007,      /* a configured limit was exceeded */
};

/* Text for 0, -errno or LC_E*; the pointer is static, any thread. */
const char *lc_strerror(int code);

/* Converts an AVERROR to our codes: AVERROR(e) becomes -e, other libav errors LC_EMEDIA. */
int lc_error_from_av(int averror);

#endif
