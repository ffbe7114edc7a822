/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The one error enum of the card layer (apdu/).  Every function below
 * module/ returns 0 or a negative enum myna_err; module/ turns these into
 * PKCS#11 return values in exactly one function.  Knows nothing of PKCS#11.
 */
#ifndef MYNA_ERR_H
#define MYNA_ERR_H

enum myna_err {
    MYNA_OK = 0,

    /* Programming and resource errors. */
    MYNA_E_GENERAL = -1,        /* an internal error that should not happen */
    MYNA_E_NOMEM = -2,          /* an allocation failed */
    MYNA_E_ARGS = -3,           /* a caller passed a bad argument */
    MYNA_E_BUFFER_SMALL = -4,   /* the caller's buffer cannot hold the result */

    /* Transport: PC/SC or the in-process virtual card. */
    MYNA_E_NO_SERVICE = -10,    /* pcscd is not running or not reachable */
    MYNA_E_NO_READER = -11,     /* the reader is gone */
    MYNA_E_NO_CARD = -12,       /* no card in the reader, or it was removed */
    MYNA_E_CARD_RESET = -13,    /* the card was reset (by us or another program):
                                 * everything selected and verified is lost;
                                 * the connection has been re-established */
    MYNA_E_TRANSPORT = -14,     /* any other communication failure */
    MYNA_E_CANCELLED = -15,     /* a blocking wait was cancelled */
    MYNA_E_TIMEOUT = -16,       /* a wait timed out (not an error for polls) */

    /* What the card answered. */
    MYNA_E_BAD_RESPONSE = -20,  /* malformed, truncated or unexpected answer */
    MYNA_E_NOT_FOUND = -21,     /* 6A82: no such application or file */
    MYNA_E_SECURITY = -22,      /* 6982: the PIN is not verified */
    MYNA_E_PIN_INCORRECT = -23, /* 63Cx with x > 0: wrong PIN, tries left */
    MYNA_E_PIN_LOCKED = -24,    /* 63C0, 6983, 6984: the PIN is blocked */
    MYNA_E_PIN_FORMAT = -25,    /* the PIN has the wrong format: not sent */
    MYNA_E_PIN_LEN = -26,       /* the PIN has the wrong length: not sent */
    MYNA_E_WRONG_LENGTH = -27,  /* 6700, or 6Cxx that could not be honoured */
    MYNA_E_OFFSET = -28,        /* 6B00: offset past the end of the file */
    MYNA_E_INS = -29,           /* 6D00: instruction not supported */
    MYNA_E_CLA = -30,           /* 6E00: class not supported */
    MYNA_E_P1P2 = -31,          /* 6A86, 6A81, 6A80: parameters refused */
    MYNA_E_CONDITIONS = -32,    /* 6985: conditions of use not satisfied */
    MYNA_E_CARD = -33,          /* any other error status word */
    MYNA_E_NOT_JPKI = -34,      /* the card has no JPKI application */
    MYNA_E_MEMORY_FAILURE = -35 /* 6581: the card's memory failed */
};

/* A short English sentence for @err, for logs and tools: what happened.
 * Never NULL; unknown codes give a generic text. */
const char *myna_strerror(int err);

#endif
