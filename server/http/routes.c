/* The one route table. Order matters only where patterns overlap (none do today). Who may use
 * each route, and the checks every state-changing request gets, are in http.h (lc_route_t). */
#include "api/accounts.h"
#include "api/leads.h"
#include "api/registration.h"
#include "api/webinars.h"
#include "http/http.h"
#include "http/media.h"
#include "http/pages.h"

const lc_route_t lc_routes[] = {
    {"GET", "/", lc_page_index, LC_ROUTE_PUBLIC},
    {"GET", "/watch/*", lc_page_watch, LC_ROUTE_PUBLIC},
    {"GET", "/replay/*/*", lc_page_replay, LC_ROUTE_PUBLIC},
    {"GET", "/setup/*", lc_page_setup, LC_ROUTE_PUBLIC},
    {"GET", "/login", lc_page_login, LC_ROUTE_PUBLIC},
    {"GET", "/w/*", lc_page_register, LC_ROUTE_PUBLIC},
    {"GET", "/j/*", lc_page_join, LC_ROUTE_PUBLIC},
    {"GET", "/j/*/calendar.ics", lc_api_join_calendar, LC_ROUTE_PUBLIC},
    {"GET", "/admin", lc_page_admin, LC_ROUTE_PUBLIC},
    {"GET", "/admin/*", lc_page_admin, LC_ROUTE_PUBLIC},
    {"GET", "/console/*", lc_page_console, LC_ROUTE_PUBLIC},
    {"GET", "/static/*", lc_page_static, LC_ROUTE_PUBLIC},
    {"GET", "/favicon.ico", lc_page_favicon, LC_ROUTE_PUBLIC},
    {"GET", "/live/*/master.m3u8", lc_media_live_master, LC_ROUTE_PUBLIC},
    {"GET", "/live/*/*/*", lc_media_live_file, LC_ROUTE_PUBLIC},
    {"GET", "/vod/*/*/*", lc_media_vod_file, LC_ROUTE_PUBLIC},
    {"GET", "/api/webinars/*", lc_api_webinar_get, LC_ROUTE_PUBLIC},
    {"GET", "/api/sessions/*", lc_api_session_get, LC_ROUTE_PUBLIC},
    {"POST", "/api/webinars/*/registrations", lc_api_register, LC_ROUTE_PUBLIC},
    {"GET", "/api/join/*", lc_api_join_get, LC_ROUTE_PUBLIC},
    {"POST", "/api/join/*/password", lc_api_join_password, LC_ROUTE_PUBLIC},
    {"POST", "/api/join/*/heartbeat", lc_api_join_heartbeat, LC_ROUTE_PUBLIC},
    {"GET", "/api/replays/*/*", lc_api_replay_get, LC_ROUTE_PUBLIC},
    {"POST", "/api/login", lc_api_login, LC_ROUTE_PUBLIC},
    {"POST", "/api/setup", lc_api_setup, LC_ROUTE_PUBLIC},
    {"POST", "/api/logout", lc_api_logout, LC_ROUTE_ORGANISER},
    {"GET", "/api/me", lc_api_me, LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars", lc_api_admin_webinar_list, LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/webinars", lc_api_admin_webinar_create, LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars/*", lc_api_admin_webinar_get, LC_ROUTE_ORGANISER},
    {"PATCH", "/api/admin/webinars/*", lc_api_admin_webinar_update, LC_ROUTE_ORGANISER},
    {"DELETE", "/api/admin/webinars/*", lc_api_admin_webinar_delete, LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/webinars/*/stream-key", lc_api_admin_webinar_rotate_key,
     LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars/*/registrations", lc_api_admin_reg_list, LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars/*/registrations.csv", lc_api_admin_export_csv,
     LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars/*/registrations.json", lc_api_admin_export_json,
     LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/webinars/*/registrations/decision", lc_api_admin_reg_decide,
     LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/webinars/*/waiting", lc_api_admin_waiting, LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/webinars/*/admission", lc_api_admin_admit, LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/data-subject/access", lc_api_admin_subject_access, LC_ROUTE_ORGANISER},
    {"POST", "/api/admin/data-subject/erasure", lc_api_admin_subject_erasure,
     LC_ROUTE_ORGANISER},
    {"GET", "/api/admin/audit", lc_api_admin_audit_list, LC_ROUTE_ORGANISER},
    {NULL, NULL, NULL, LC_ROUTE_PUBLIC},
};
