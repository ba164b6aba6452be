/* Text for error codes. */
#include "core/error.h"

#include <string.h>

#include <libavutil/error.h>

const char *lc_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case LC_EPROTO_RTMP: return "RTMP protocol violation";
    case LC_ENOTFOUND: return "not found";
    case LC_ECONFLICT: return "conflict";
    case LC_EDENIED: return "access denied";
    case LC_EDB: return "database error";
    case LC_EMEDIA: return "media error";
    case LC_ELIMIT: return "limit exceeded";
    default: break;
    }
    if (code < 0 && code > -4096) {
        /* strerror's text for the standard errno values is static in glibc; the rare unknown
         * value gets a shared "Unknown error" string, which is fine for a log line. */
        return strerror(-code);
    }
    return "unknown error";
}

int lc_error_from_av(int averror)
{
    if (averror >= 0)
        return averror;
    if (averror > -4096)
        return averror; /* AVERROR(e) == -e on POSIX */
    return LC_EMEDIA;
}
