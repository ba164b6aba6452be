/* Registration and joining (api/registration.h). */
#include "api/registration.h"

const char lc_default_privacy_notice[] =
    "Who is responsible: the organiser of this webinar, named on this page.\n"
    "What we store: your name, email address, your answers to this form, when you agreed, "
    "the campaign or page that brought you here, and when and how long you watched.\n"
    "Why: to let you take part in this webinar and its recording, and, where you agreed, to "
    "contact you about it (Art. 6(1)(a) and (b) GDPR).\n"
    "How long: until the retention period set for this webinar ends after it; then it is "
    "deleted.\n"
    "Your rights: access, correction, erasure, restriction, portability, objection, and "
    "complaint to a supervisory authority. Ask the organiser.\n"
    "No IP address is stored; nothing on this page is loaded from another site.";

const char lc_default_consent_text[] =
    "I agree that my details are stored and used for this webinar as described in the privacy "
    "notice. I can withdraw this at any time.";
