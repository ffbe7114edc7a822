/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Errors of the module layer: the one place where the card layer's enum
 * myna_err becomes a CK_RV, the names of CK_RV values for the debug log,
 * and the trace of every C_* call.  Calls only the logging of apdu/log.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "module.h"
#include "myna-err.h"
#include "log.h"

CK_RV mc_rv_from_err(int err)
{
    switch (err) {
    case MYNA_OK:
        return CKR_OK;
    case MYNA_E_NOMEM:
        return CKR_HOST_MEMORY;
    case MYNA_E_NO_READER:
    case MYNA_E_NO_CARD:
        /* The card went away while we were talking to it. */
        return CKR_DEVICE_REMOVED;
    case MYNA_E_CANCELLED:
        return CKR_FUNCTION_CANCELED;
    case MYNA_E_SECURITY:
        /* 6982: the PIN the operation needs is not verified. */
        return CKR_USER_NOT_LOGGED_IN;
    case MYNA_E_PIN_INCORRECT:
        return CKR_PIN_INCORRECT;
    case MYNA_E_PIN_LOCKED:
        return CKR_PIN_LOCKED;
    case MYNA_E_PIN_FORMAT:
        return CKR_PIN_INVALID;
    case MYNA_E_PIN_LEN:
        return CKR_PIN_LEN_RANGE;
    case MYNA_E_NOT_JPKI:
        return CKR_TOKEN_NOT_RECOGNIZED;
    case MYNA_E_MEMORY_FAILURE:
        return CKR_DEVICE_MEMORY;
    case MYNA_E_NO_SERVICE:     /* pcscd is down */
    case MYNA_E_CARD_RESET:     /* mid-operation: callers that care decide */
    case MYNA_E_TRANSPORT:
    case MYNA_E_BUFFER_SMALL:   /* the card answered more than it may */
    case MYNA_E_BAD_RESPONSE:
    case MYNA_E_NOT_FOUND:
    case MYNA_E_WRONG_LENGTH:
    case MYNA_E_OFFSET:
    case MYNA_E_INS:
    case MYNA_E_CLA:
    case MYNA_E_P1P2:
    case MYNA_E_CONDITIONS:
    case MYNA_E_CARD:
    case MYNA_E_TIMEOUT:
        return CKR_DEVICE_ERROR;
    case MYNA_E_ARGS:           /* we passed the card layer something bad */
    case MYNA_E_GENERAL:
    default:
        return CKR_GENERAL_ERROR;
    }
}

const char *mc_rv_name(CK_RV rv)
{
    switch (rv) {
#define N(x) case x: return #x
    N(CKR_OK);
    N(CKR_CANCEL);
    N(CKR_HOST_MEMORY);
    N(CKR_SLOT_ID_INVALID);
    N(CKR_GENERAL_ERROR);
    N(CKR_FUNCTION_FAILED);
    N(CKR_ARGUMENTS_BAD);
    N(CKR_NO_EVENT);
    N(CKR_NEED_TO_CREATE_THREADS);
    N(CKR_CANT_LOCK);
    N(CKR_ATTRIBUTE_READ_ONLY);
    N(CKR_ATTRIBUTE_SENSITIVE);
    N(CKR_ATTRIBUTE_TYPE_INVALID);
    N(CKR_ATTRIBUTE_VALUE_INVALID);
    N(CKR_ACTION_PROHIBITED);
    N(CKR_DATA_INVALID);
    N(CKR_DATA_LEN_RANGE);
    N(CKR_DEVICE_ERROR);
    N(CKR_DEVICE_MEMORY);
    N(CKR_DEVICE_REMOVED);
    N(CKR_FUNCTION_CANCELED);
    N(CKR_FUNCTION_NOT_PARALLEL);
    N(CKR_FUNCTION_NOT_SUPPORTED);
    N(CKR_KEY_HANDLE_INVALID);
    N(CKR_KEY_TYPE_INCONSISTENT);
    N(CKR_KEY_FUNCTION_NOT_PERMITTED);
    N(CKR_MECHANISM_INVALID);
    N(CKR_MECHANISM_PARAM_INVALID);
    N(CKR_OBJECT_HANDLE_INVALID);
    N(CKR_OPERATION_ACTIVE);
    N(CKR_OPERATION_NOT_INITIALIZED);
    N(CKR_PIN_INCORRECT);
    N(CKR_PIN_INVALID);
    N(CKR_PIN_LEN_RANGE);
    N(CKR_PIN_EXPIRED);
    N(CKR_PIN_LOCKED);
    N(CKR_SESSION_CLOSED);
    N(CKR_SESSION_COUNT);
    N(CKR_SESSION_HANDLE_INVALID);
    N(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    N(CKR_SESSION_READ_ONLY);
    N(CKR_SESSION_EXISTS);
    N(CKR_SIGNATURE_INVALID);
    N(CKR_SIGNATURE_LEN_RANGE);
    N(CKR_TEMPLATE_INCOMPLETE);
    N(CKR_TEMPLATE_INCONSISTENT);
    N(CKR_TOKEN_NOT_PRESENT);
    N(CKR_TOKEN_NOT_RECOGNIZED);
    N(CKR_TOKEN_WRITE_PROTECTED);
    N(CKR_USER_ALREADY_LOGGED_IN);
    N(CKR_USER_NOT_LOGGED_IN);
    N(CKR_USER_PIN_NOT_INITIALIZED);
    N(CKR_USER_TYPE_INVALID);
    N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    N(CKR_USER_TOO_MANY_TYPES);
    N(CKR_RANDOM_SEED_NOT_SUPPORTED);
    N(CKR_RANDOM_NO_RNG);
    N(CKR_BUFFER_TOO_SMALL);
    N(CKR_CRYPTOKI_NOT_INITIALIZED);
    N(CKR_CRYPTOKI_ALREADY_INITIALIZED);
    N(CKR_MUTEX_BAD);
    N(CKR_MUTEX_NOT_LOCKED);
    N(CKR_FUNCTION_REJECTED);
    N(CKR_OPERATION_CANCEL_FAILED);
#undef N
    default:
        return "CKR_(unknown)";
    }
}

bool mc_ossl_nomem(void)
{
    unsigned long e;
    bool nomem = false;

    /* The queue holds the reasons from the innermost out ("nested ASN.1
     * error" wraps "malloc failure"): look at every one. */
    while ((e = ERR_get_error()) != 0)
        nomem |= ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
    return nomem;
}

CK_RV mc_trace(CK_RV rv, const char *fmt, ...)
{
    char call[256];
    va_list ap;

    /* Firefox polls some calls every few seconds: build nothing unless the
     * line will be written. */
    if (myna_log_enabled(MYNA_LOG_DEBUG)) {
        va_start(ap, fmt);
        vsnprintf(call, sizeof(call), fmt, ap);
        va_end(ap);
        myna_log(MYNA_LOG_DEBUG, "%s -> %s (0x%lx)", call, mc_rv_name(rv),
                 (unsigned long)rv);
    }
    return rv;
}
