/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool in the user's language: the locale and the message
 * catalogs (gettext, domain mynacard-tool), the D_() rule that keeps the
 * --json document in English, and the card layer's error texts for
 * people.  Layer: tool/; calls libintl and myna_strerror only.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "myna-err.h"
#include "tool.h"

#ifndef TOOL_LOCALEDIR
#define TOOL_LOCALEDIR "/usr/share/locale"
#endif

void tool_i18n_init(void)
{
    const char *dir = getenv("MYNACARD_LOCALEDIR");

    /* Without a usable locale setlocale fails and the C one stays: the
     * messages are English, nothing worse. */
    (void)setlocale(LC_ALL, "");
    bindtextdomain(TOOL_TEXT_DOMAIN, dir && *dir ? dir : TOOL_LOCALEDIR);
    bind_textdomain_codeset(TOOL_TEXT_DOMAIN, "UTF-8");
    textdomain(TOOL_TEXT_DOMAIN);
}

const char *tool_doc_text(const char *msgid)
{
    return tool_opt.json ? msgid : gettext(msgid);
}

const char *tool_doc_ntext(const char *msgid, const char *plural,
                           unsigned long n)
{
    if (tool_opt.json)
        return n == 1 ? msgid : plural;
    return ngettext(msgid, plural, n);
}

/* myna_strerror's texts, word for word, so that xgettext finds them here
 * (apdu/ knows nothing of languages).  The unit tests check that every
 * text myna_strerror gives is in this table. */
static const struct {
    int err;
    const char *text;
} card_errors[] = {
    { MYNA_OK, N_("Success.") },
    { MYNA_E_GENERAL, N_("An internal error occurred that should not happen.") },
    { MYNA_E_NOMEM, N_("A memory allocation failed.") },
    { MYNA_E_ARGS, N_("A caller passed an invalid argument.") },
    { MYNA_E_BUFFER_SMALL, N_("The buffer is too small to hold the result.") },
    { MYNA_E_NO_SERVICE, N_("The smart card service (pcscd) is not running or not reachable.") },
    { MYNA_E_NO_READER, N_("The card reader is not available.") },
    { MYNA_E_NO_CARD, N_("There is no card in the reader, or it was removed.") },
    { MYNA_E_CARD_RESET, N_("The card was reset; its selected files and verified PINs were lost.") },
    { MYNA_E_TRANSPORT, N_("Communication with the card failed.") },
    { MYNA_E_CANCELLED, N_("The wait was cancelled.") },
    { MYNA_E_TIMEOUT, N_("The wait timed out.") },
    { MYNA_E_BAD_RESPONSE, N_("The card sent a malformed, truncated or unexpected answer.") },
    { MYNA_E_NOT_FOUND, N_("The card has no such application or file.") },
    { MYNA_E_SECURITY, N_("The card requires a PIN that has not been verified.") },
    { MYNA_E_PIN_INCORRECT, N_("The PIN is incorrect.") },
    { MYNA_E_PIN_LOCKED, N_("The PIN is blocked; only the municipal office can unblock it.") },
    { MYNA_E_PIN_FORMAT, N_("The PIN has characters that are not allowed; it was not sent to the card.") },
    { MYNA_E_PIN_LEN, N_("The PIN has the wrong length; it was not sent to the card.") },
    { MYNA_E_WRONG_LENGTH, N_("The card refused the length of the command or of the expected answer.") },
    { MYNA_E_OFFSET, N_("The read offset is past the end of the file.") },
    { MYNA_E_INS, N_("The card does not support the instruction.") },
    { MYNA_E_CLA, N_("The card does not support the command class.") },
    { MYNA_E_P1P2, N_("The card refused the command parameters.") },
    { MYNA_E_CONDITIONS, N_("The conditions of use of the command are not satisfied.") },
    { MYNA_E_CARD, N_("The card returned an error status.") },
    { MYNA_E_NOT_JPKI, N_("The card has no JPKI application; it is not a My Number Card.") },
    { MYNA_E_MEMORY_FAILURE, N_("The card reported a memory failure.") },
};

const char *tool_strerror(int err)
{
    const char *msgid = tool_strerror_msgid(err);

    /* An error added to apdu/ without a line here keeps its English
     * text (the unit tests catch that). */
    return msgid ? D_(msgid) : myna_strerror(err);
}

const char *tool_strerror_msgid(int err)
{
    static const char unknown[] = N_("An unknown error occurred.");

    for (size_t i = 0; i < sizeof(card_errors) / sizeof(card_errors[0]); i++)
        if (card_errors[i].err == err)
            return card_errors[i].text;
    return strcmp(myna_strerror(err), unknown) ? NULL : unknown;
}
