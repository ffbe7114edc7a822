/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Slots and tokens: readers as the transport hub lists them, two slots per
 * reader (the user-authentication token and the digital-signature token)
 * or one in the single-token modules, and the bodies of C_GetSlotList,
 * C_GetSlotInfo and C_WaitForSlotEvent (C_GetTokenInfo is token.c's).
 * Layer: module/; it asks the hub (apdu/transport.h) which cards are
 * where, and card.c what is on them.
 *
 * Slot ids are 2 * reader index + role, the index given in the order the
 * readers were first seen, so a reader keeps its slots for the life of the
 * process.  Nothing here sends an APDU except the first C_GetTokenInfo of
 * a new card (card_load), whose answer is then cached until the card goes:
 * Firefox polls these calls every few seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "module.h"
#include "myna-err.h"
#include "log.h"

#define SLOT_MANUFACTURER "mynacard"

CK_SLOT_ID slot_id(const struct mc_reader *r, enum jpki_role role)
{
    return (CK_SLOT_ID)r->index * 2 + (CK_SLOT_ID)role;
}

CK_RV slot_lookup_locked(CK_SLOT_ID id, struct mc_reader **r,
                         enum jpki_role *role)
{
    CK_SLOT_ID index = id / 2;
    enum jpki_role ro = (id % 2) ? JPKI_SIGN : JPKI_AUTH;

    if (index >= mc_g.nreaders || !mc_role_shown(ro))
        return CKR_SLOT_ID_INVALID;
    *r = mc_g.readers[index];
    *role = ro;
    return CKR_OK;
}

CK_RV slot_find_locked(CK_SLOT_ID id, struct mc_reader **r,
                       enum jpki_role *role)
{
    slots_refresh_locked();
    return slot_lookup_locked(id, r, role);
}

bool slot_token_present_locked(const struct mc_reader *r)
{
    return r->listed && r->present
           && !(r->unusable && r->unusable_events == r->events);
}

static struct mc_reader *reader_find_locked(const char *name)
{
    for (unsigned i = 0; i < mc_g.nreaders; i++)
        if (!strcmp(mc_g.readers[i]->name, name))
            return mc_g.readers[i];
    return NULL;
}

static struct mc_reader *reader_add_locked(const struct tp_reader_state *st)
{
    struct mc_reader *r;

    if (mc_g.nreaders >= MC_READERS_MAX)
        return NULL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    memcpy(r->name, st->name, strnlen(st->name, sizeof(r->name) - 1));
    r->index = mc_g.nreaders;
    r->events = st->events;
    /* A reader that appears later with a card in it is an event; the ones
     * there at C_Initialize are the starting point. */
    r->ev_seen = st->events;
    mc_g.readers[mc_g.nreaders++] = r;
    myna_log(MYNA_LOG_INFO, "reader %u: %s", r->index, r->name);
    return r;
}

void slots_refresh_locked(void)
{
    struct tp_reader_state st[TP_READERS_MAX];
    bool seen[MC_READERS_MAX] = { false };
    /* Each one set below before use; zeroed all the same for scan-build,
     * which assumes calls may change mc_g.nreaders. */
    bool was_present[MC_READERS_MAX] = { false };
    size_t n = 0;
    int err;

    err = tp_hub_list(mc_g.hub, st, TP_READERS_MAX, &n);
    if (err < 0) {
        /* pcscd down or the like: no reader now.  Not logged at every
         * call: Firefox polls. */
        n = 0;
    }

    for (unsigned i = 0; i < mc_g.nreaders; i++)
        was_present[i] = mc_g.readers[i]->listed && mc_g.readers[i]->present;

    for (size_t i = 0; i < n; i++) {
        struct mc_reader *r;

        st[i].name[sizeof(st[i].name) - 1] = '\0';
        if (!mc_config_reader_ok(&mc_g.cfg, st[i].name))
            continue;
        r = reader_find_locked(st[i].name);
        if (!r) {
            r = reader_add_locked(&st[i]);
            if (!r)
                continue;
            was_present[r->index] = !mc_g.slots_started && st[i].present;
        }
        seen[r->index] = true;
        r->listed = true;
        r->present = st[i].present;
        r->events = st[i].events;
    }

    for (unsigned i = 0; i < mc_g.nreaders; i++) {
        struct mc_reader *r = mc_g.readers[i];
        bool now_present;

        if (!seen[i]) {
            r->listed = false;
            r->present = false;
        }
        now_present = r->listed && r->present;

        /* A card that left, or was replaced by another (the counter moved
         * on): every session of it ends now. */
        if (r->card
            && (!now_present || r->events != card_events_locked(r->card)))
            card_kill_locked(r->card);
        if (r->unusable && (!now_present || r->unusable_events != r->events))
            r->unusable = false;

        if (mc_g.slots_started
            && (r->events != r->ev_seen || now_present != was_present[i])) {
            r->ev_pending[JPKI_AUTH] = true;
            r->ev_pending[JPKI_SIGN] = true;
        }
        r->ev_seen = r->events;
    }
    if (!mc_g.slots_started)
        mc_g.nlisted = mc_g.nreaders;    /* C_Initialize's first look */
    mc_g.slots_started = true;
}

void slots_free_locked(void)
{
    for (unsigned i = 0; i < mc_g.nreaders; i++)
        free(mc_g.readers[i]);
    mc_g.nreaders = 0;
    mc_g.nlisted = 0;
    mc_g.slots_started = false;
}

/* ---- C_GetSlotList, C_GetSlotInfo ---- */

CK_RV get_slot_list_locked(CK_BBOOL tokenPresent,
                           CK_SLOT_ID_PTR pSlotList,
                           CK_ULONG_PTR pulCount)
{
    CK_SLOT_ID ids[MC_READERS_MAX * 2];
    CK_ULONG n = 0;

    /* PKCS#11 2.40 5.5: the set of slots is established by the length
     * query (NULL list); a reader that appears later joins the list only
     * at the next one.  Whether a token is present is always fresh. */
    slots_refresh_locked();
    if (!pSlotList)
        mc_g.nlisted = mc_g.nreaders;

    for (unsigned i = 0; i < mc_g.nlisted; i++) {
        struct mc_reader *r = mc_g.readers[i];

        if (!r->listed)
            continue;
        for (int role = JPKI_AUTH; role <= JPKI_SIGN; role++) {
            if (!mc_role_shown((enum jpki_role)role))
                continue;
            if (tokenPresent && !slot_token_present_locked(r))
                continue;
            ids[n++] = slot_id(r, (enum jpki_role)role);
        }
    }

    if (pSlotList && *pulCount < n) {
        *pulCount = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    if (pSlotList)
        memcpy(pSlotList, ids, n * sizeof(ids[0]));
    *pulCount = n;
    return CKR_OK;
}

CK_RV get_slot_info_locked(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    struct mc_reader *r;
    enum jpki_role role;
    char desc[96];
    CK_RV rv;

    rv = slot_find_locked(slotID, &r, &role);
    if (rv != CKR_OK)
        return rv;

    /* The suffix must survive: two slots of one reader must differ. */
    snprintf(desc, sizeof(desc), "%.*s %s", 50, r->name,
             role == JPKI_AUTH ? "(Auth)" : "(Sign)");
    mc_pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), desc);
    mc_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID),
           SLOT_MANUFACTURER);
    pInfo->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
    if (slot_token_present_locked(r))
        pInfo->flags |= CKF_TOKEN_PRESENT;
    pInfo->hardwareVersion.major = 0;
    pInfo->hardwareVersion.minor = 0;
    pInfo->firmwareVersion.major = 0;
    pInfo->firmwareVersion.minor = 0;
    return CKR_OK;
}

CK_RV slot_loaded_card_locked(struct mc_reader *r, struct mc_card **out)
{
    struct mc_card *c;
    int err;

    if (!slot_token_present_locked(r))
        return CKR_TOKEN_NOT_PRESENT;
    /* With a token present, only a failed allocation makes no card: the
     * token is there all the same. */
    c = card_current_locked(r);
    if (!c)
        return CKR_HOST_MEMORY;
    card_ref_locked(c);
    if (!card_loaded_locked(c)) {
        /* A new card: read it once, without the module lock, so that a
         * slow card never blocks C_GetSlotInfo in other threads. */
        mc_unlock_for_io();
        err = card_load(c);
        mc_relock_after_io();
        if (err == MYNA_E_NO_CARD || err == MYNA_E_NO_READER
            || card_dead_locked(c)) {
            card_unref_locked(c);
            return CKR_TOKEN_NOT_PRESENT;
        }
        if (err < 0) {
            CK_RV rv = mc_rv_from_err(err);

            card_unref_locked(c);
            /* An error never maps to CKR_OK; said for scan-build, which
             * cannot see into mc_rv_from_err() and then warns that *out
             * is unset on success. */
            return rv != CKR_OK ? rv : CKR_GENERAL_ERROR;
        }
    }
    *out = c;
    return CKR_OK;
}

/* ---- C_WaitForSlotEvent ---- */

/* The first slot with an event not yet reported.  Module lock held. */
static bool take_event_locked(CK_SLOT_ID *slot)
{
    for (unsigned i = 0; i < mc_g.nreaders; i++) {
        struct mc_reader *r = mc_g.readers[i];

        for (int role = JPKI_AUTH; role <= JPKI_SIGN; role++) {
            if (!r->ev_pending[role])
                continue;
            r->ev_pending[role] = false;
            if (!mc_role_shown((enum jpki_role)role))
                continue;
            *slot = slot_id(r, (enum jpki_role)role);
            return true;
        }
    }
    return false;
}

static void nap_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Wait for the next slot event.  Module lock held, dropped while the hub
 * is asked. */
CK_RV wait_for_slot_event_locked(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot)
{
    CK_RV rv;
    int err;

    /* Counted while the module lock is held: C_Finalize takes it after it
     * stopped waiting for waiters, so it either sees us or we see it. */
    mc_waiter_enter();
    for (;;) {
        if (mc_finalizing()) {
            rv = CKR_CRYPTOKI_NOT_INITIALIZED;
            break;
        }
        slots_refresh_locked();
        if (take_event_locked(pSlot)) {
            rv = CKR_OK;
            break;
        }
        if (flags & CKF_DONT_BLOCK) {
            rv = CKR_NO_EVENT;
            break;
        }
        mc_unlock_for_io();
        /* Bounded, so that a change between our list and the wait is seen
         * within a second whatever the hub does with it. */
        err = tp_hub_wait(mc_g.hub, 1000);
        if (!mc_finalizing() && err < 0 && err != MYNA_E_TIMEOUT)
            nap_ms(err == MYNA_E_CANCELLED ? 10 : 250); /* no busy loop */
        /* C_Finalize waits for this call before it takes the lock or
         * frees it: taking it again is safe even when it woke us. */
        mc_relock_after_io();
    }
    mc_waiter_leave();
    return rv;
}
