/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Sessions: C_OpenSession, C_CloseSession, C_CloseAllSessions,
 * C_GetSessionInfo, C_SessionCancel.  A session belongs to one token (a
 * card and a role) and holds a reference to the card; the login state is
 * the token's, shared by all its sessions.  Closing the last session of a
 * token logs it out and leaves no verified PIN on the card.  Layer:
 * module/; calls card.c for the card and nothing of apdu/ directly.
 *
 * Handles count up from 1 and are never reused in a process, so the
 * handle of a session closed by a card removal stays invalid for good.
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "myna-err.h"
#include "log.h"

void session_find_end(struct mc_find_op *op)
{
    free(op->found);
    memset(op, 0, sizeof(*op));
}

void session_op_end(struct mc_op *op)
{
    EVP_MD_CTX_free(op->mdctx);
    EVP_PKEY_free(op->pkey);
    /* The buffer may hold what is about to be signed: wipe it. */
    OPENSSL_cleanse(op, sizeof(*op));
}

/* Unlink and free session @i of the table.  Module lock held. */
static void session_free_at_locked(size_t i)
{
    struct mc_session *s = mc_g.sessions[i];

    mc_g.sessions[i] = mc_g.sessions[--mc_g.nsessions];
    session_find_end(&s->find);
    session_op_end(&s->sign);
    session_op_end(&s->verify);
    card_unref_locked(s->card);
    free(s);
}

static struct mc_session *session_find_locked(CK_SESSION_HANDLE h, size_t *at)
{
    for (size_t i = 0; i < mc_g.nsessions; i++) {
        if (mc_g.sessions[i]->handle == h) {
            if (at)
                *at = i;
            return mc_g.sessions[i];
        }
    }
    return NULL;
}

CK_RV session_lookup_locked(CK_SESSION_HANDLE h, struct mc_session **out)
{
    struct mc_session *s;

    if (h == CK_INVALID_HANDLE)
        return CKR_SESSION_HANDLE_INVALID;
    s = session_find_locked(h, NULL);
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    /* The card may have left since the last call: a refresh closes its
     * sessions, this one included.  It costs no APDU. */
    slots_refresh_locked();
    s = session_find_locked(h, NULL);
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    *out = s;
    return CKR_OK;
}

void sessions_close_card_locked(struct mc_card *c)
{
    size_t i = 0;

    while (i < mc_g.nsessions) {
        if (mc_g.sessions[i]->card == c) {
            myna_log(MYNA_LOG_INFO, "session %lu closed: card gone",
                     (unsigned long)mc_g.sessions[i]->handle);
            session_free_at_locked(i);  /* moves the last one to i */
        } else {
            i++;
        }
    }
}

unsigned sessions_count_locked(const struct mc_card *c, enum jpki_role role)
{
    unsigned n = 0;

    for (size_t i = 0; i < mc_g.nsessions; i++)
        if (mc_g.sessions[i]->card == c && mc_g.sessions[i]->role == role)
            n++;
    return n;
}

unsigned sessions_count_rw_locked(const struct mc_card *c,
                                  enum jpki_role role)
{
    unsigned n = 0;

    for (size_t i = 0; i < mc_g.nsessions; i++)
        if (mc_g.sessions[i]->card == c && mc_g.sessions[i]->role == role &&
            (mc_g.sessions[i]->flags & CKF_RW_SESSION))
            n++;
    return n;
}

void sessions_free_all_locked(void)
{
    while (mc_g.nsessions > 0)
        session_free_at_locked(mc_g.nsessions - 1);
    free(mc_g.sessions);
    mc_g.sessions = NULL;
    mc_g.cap_sessions = 0;
}

static CK_RV session_add_locked(struct mc_session *s)
{
    if (mc_g.nsessions == mc_g.cap_sessions) {
        size_t cap = mc_g.cap_sessions ? 2 * mc_g.cap_sessions : 16;
        struct mc_session **grown = realloc(mc_g.sessions, cap * sizeof(*grown));

        if (!grown)
            return CKR_HOST_MEMORY;
        mc_g.sessions = grown;
        mc_g.cap_sessions = cap;
    }
    mc_g.sessions[mc_g.nsessions++] = s;
    return CKR_OK;
}

CK_RV open_session_locked(CK_SLOT_ID slotID, CK_FLAGS flags,
                          CK_SESSION_HANDLE_PTR phSession)
{
    struct mc_session *s;
    struct mc_reader *r;
    struct mc_card *c;
    enum jpki_role role;
    CK_RV rv;

    rv = slot_find_locked(slotID, &r, &role);
    if (rv != CKR_OK)
        return rv;
    /* PKCS#11: CKF_SERIAL_SESSION must always be set (legacy flag). */
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    /*
     * The token is write-protected, and PKCS#11 2.40 would have us refuse
     * read/write sessions.  We open them all the same, on purpose: OpenSC's
     * pkcs11-tool (--test, --change-pin) and other applications ask for a
     * R/W session even to sign, and abort when refused.  Nothing can be
     * written through one: every object-changing call still answers
     * CKR_TOKEN_WRITE_PROTECTED, and CKF_WRITE_PROTECTED stays set.
     */
    rv = slot_loaded_card_locked(r, &c);
    if (rv != CKR_OK)
        return rv;

    s = calloc(1, sizeof(*s));
    if (!s) {
        rv = CKR_HOST_MEMORY;
        goto out_unref;
    }
    s->handle = mc_g.next_session++;
    s->reader = r;
    s->role = role;
    s->card = c;                /* takes over our reference */
    s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
    rv = session_add_locked(s);
    if (rv != CKR_OK) {
        free(s);
        goto out_unref;
    }
    *phSession = s->handle;
    /* Another program may have spent tries since we last looked: the
     * token flags must say so in this session.  A failure leaves the
     * last count. */
    card_io_begin_locked(c);
    (void)card_session_opened(c, role);
    card_io_end_locked(c);
    return CKR_OK;

out_unref:
    card_unref_locked(c);
    return rv;
}

/* Close session @at; if it was the last of its token, log the token out
 * and leave no PIN verified on the card (card I/O, without the module
 * lock).  Module lock held.  Returns whether the lock was dropped (the
 * session table may have changed). */
static bool session_close_locked(size_t at)
{
    struct mc_session *s = mc_g.sessions[at];
    struct mc_card *c = s->card;
    enum jpki_role role = s->role;

    bool last;

    card_ref_locked(c);
    session_free_at_locked(at);
    last = !card_dead_locked(c) && sessions_count_locked(c, role) == 0;
    if (last) {
        /* PKCS#11: closing the last session of a token logs it out. */
        card_set_logged_out_locked(c, role);
        mc_unlock_for_io();
        card_logout(c, role);
        mc_relock_after_io();
    }
    card_unref_locked(c);
    return last;
}

CK_RV close_session_locked(CK_SESSION_HANDLE hSession)
{
    struct mc_session *s;
    size_t at = 0;
    CK_RV rv;

    rv = session_lookup_locked(hSession, &s);
    if (rv == CKR_OK && session_find_locked(hSession, &at))
        session_close_locked(at);
    return rv;
}

CK_RV close_all_sessions_locked(CK_SLOT_ID slotID)
{
    struct mc_reader *r;
    enum jpki_role role;
    CK_RV rv;
    size_t i = 0;

    rv = slot_find_locked(slotID, &r, &role);
    if (rv != CKR_OK)
        return rv;
    /* Closing moves the last session to @i.  The table may change while
     * the card is logged out (the lock is dropped): then look again from
     * the top. */
    while (i < mc_g.nsessions) {
        struct mc_session *s = mc_g.sessions[i];

        if (s->reader != r || s->role != role) {
            i++;
            continue;
        }
        if (session_close_locked(i))
            i = 0;
    }
    return CKR_OK;
}

CK_RV get_session_info_locked(CK_SESSION_HANDLE hSession,
                              CK_SESSION_INFO_PTR pInfo)
{
    struct mc_session *s;
    bool user;
    CK_RV rv;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    user = card_logged_in_locked(s->card, s->role);
    pInfo->slotID = slot_id(s->reader, s->role);
    if (s->flags & CKF_RW_SESSION)
        pInfo->state = user ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
    else
        pInfo->state = user ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
    pInfo->flags = s->flags;
    pInfo->ulDeviceError = 0;
    return CKR_OK;
}

CK_RV session_cancel_locked(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
    struct mc_session *s;
    CK_RV rv;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    /* Operations here never run in the background: cancelling one is
     * ending it.  Kinds we do not have are nothing to cancel. */
    if (flags & CKF_SIGN)
        session_op_end(&s->sign);
    if (flags & CKF_VERIFY)
        session_op_end(&s->verify);
    if (flags & CKF_FIND_OBJECTS)
        session_find_end(&s->find);
    return CKR_OK;
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession,
                          CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen)
{
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_SUPPORTED);

    (void)pOperationState;
    (void)pulOperationStateLen;
    return mc_trace(rv, "C_GetOperationState(session=%lu)",
                    (unsigned long)hSession);
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession,
                          CK_BYTE_PTR pOperationState,
                          CK_ULONG ulOperationStateLen,
                          CK_OBJECT_HANDLE hEncryptionKey,
                          CK_OBJECT_HANDLE hAuthenticationKey)
{
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_SUPPORTED);

    (void)pOperationState;
    (void)ulOperationStateLen;
    (void)hEncryptionKey;
    (void)hAuthenticationKey;
    return mc_trace(rv, "C_SetOperationState(session=%lu)",
                    (unsigned long)hSession);
}
