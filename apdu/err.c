/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Texts for the card layer's error enum.  Layer: the bottom of apdu/; a
 * pure function that calls nothing.  module/ and the tools print these in
 * logs; they never reach a PKCS#11 caller as such.
 */
#include "myna-err.h"

const char *myna_strerror(int err)
{
    switch ((enum myna_err)err) {
    case MYNA_OK:
        return "Success.";
    case MYNA_E_GENERAL:
        return "An internal error occurred that should not happen.";
    case MYNA_E_NOMEM:
        return "A memory allocation failed.";
    case MYNA_E_ARGS:
        return "A caller passed an invalid argument.";
    case MYNA_E_BUFFER_SMALL:
        return "The buffer is too small to hold the result.";
    case MYNA_E_NO_SERVICE:
        return "The smart card service (pcscd) is not running or not reachable.";
    case MYNA_E_NO_READER:
        return "The card reader is not available.";
    case MYNA_E_NO_CARD:
        return "There is no card in the reader, or it was removed.";
    case MYNA_E_CARD_RESET:
        return "The card was reset; its selected files and verified PINs were lost.";
    case MYNA_E_TRANSPORT:
        return "Communication with the card failed.";
    case MYNA_E_CANCELLED:
        return "The wait was cancelled.";
    case MYNA_E_TIMEOUT:
        return "The wait timed out.";
    case MYNA_E_BAD_RESPONSE:
        return "The card sent a malformed, truncated or unexpected answer.";
    case MYNA_E_NOT_FOUND:
        return "The card has no such application or file.";
    case MYNA_E_SECURITY:
        return "The card requires a PIN that has not been verified.";
    case MYNA_E_PIN_INCORRECT:
        return "The PIN is incorrect.";
    case MYNA_E_PIN_LOCKED:
        return "The PIN is blocked; only the municipal office can unblock it.";
    case MYNA_E_PIN_FORMAT:
        return "The PIN has characters that are not allowed; it was not sent to the card.";
    case MYNA_E_PIN_LEN:
        return "The PIN has the wrong length; it was not sent to the card.";
    case MYNA_E_WRONG_LENGTH:
        return "The card refused the length of the command or of the expected answer.";
    case MYNA_E_OFFSET:
        return "The read offset is past the end of the file.";
    case MYNA_E_INS:
        return "The card does not support the instruction.";
    case MYNA_E_CLA:
        return "The card does not support the command class.";
    case MYNA_E_P1P2:
        return "The card refused the command parameters.";
    case MYNA_E_CONDITIONS:
        return "The conditions of use of the command are not satisfied.";
    case MYNA_E_CARD:
        return "The card returned an error status.";
    case MYNA_E_NOT_JPKI:
        return "The card has no JPKI application; it is not a My Number Card.";
    case MYNA_E_MEMORY_FAILURE:
        return "The card reported a memory failure.";
    }
    return "An unknown error occurred.";
}
