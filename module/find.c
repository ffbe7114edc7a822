/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Objects as a session sees them: C_FindObjects*, C_GetAttributeValue,
 * C_GetObjectSize, and the calls that would write, which the read-only
 * token refuses.  The objects themselves are the card's (card.c), built
 * by object.c.  Layer: module/; above session.c and card.c.
 */
#include <stdlib.h>
#include <string.h>

#include "module.h"

const struct mc_object *object_find_any_locked(const struct mc_session *s,
                                               CK_OBJECT_HANDLE h)
{
    const struct mc_object *o = card_object_locked(s->card, h);

    return o && o->role == s->role ? o : NULL;
}

static bool visible_locked(const struct mc_session *s,
                           const struct mc_object *o)
{
    return o->role == s->role
           && (!o->priv || card_logged_in_locked(s->card, s->role));
}

CK_RV object_lookup_locked(const struct mc_session *s, CK_OBJECT_HANDLE h,
                           const struct mc_object **out)
{
    const struct mc_object *o = object_find_any_locked(s, h);

    if (!o || !visible_locked(s, o))
        return CKR_OBJECT_HANDLE_INVALID;
    *out = o;
    return CKR_OK;
}

/* ---- C_GetAttributeValue, C_GetObjectSize ---- */

/* The object @hObject as the session @hSession sees it.  Module lock. */
static CK_RV session_object_locked(CK_SESSION_HANDLE hSession,
                                   CK_OBJECT_HANDLE hObject,
                                   const struct mc_object **o)
{
    struct mc_session *s;
    CK_RV rv = session_lookup_locked(hSession, &s);

    return rv == CKR_OK ? object_lookup_locked(s, hObject, o) : rv;
}

CK_RV get_attribute_value_locked(CK_SESSION_HANDLE hSession,
                                 CK_OBJECT_HANDLE hObject,
                                 CK_ATTRIBUTE_PTR pTemplate,
                                 CK_ULONG ulCount)
{
    const struct mc_object *o;
    CK_RV rv;

    rv = session_object_locked(hSession, hObject, &o);
    if (rv != CKR_OK)
        return rv;

    /* PKCS#11 2.40 5.7: every attribute is processed whatever happened to
     * the others; the call returns one of the errors met. */
    for (CK_ULONG i = 0; i < ulCount; i++) {
        CK_ATTRIBUTE *t = &pTemplate[i];
        const struct mc_attr *a = mc_object_attr(o, t->type);
        CK_RV one = CKR_OK;

        if (!a) {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            one = CKR_ATTRIBUTE_TYPE_INVALID;
        } else if (a->sensitive) {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            one = CKR_ATTRIBUTE_SENSITIVE;
        } else if (!t->pValue) {
            t->ulValueLen = a->len;
        } else if (t->ulValueLen >= a->len) {
            if (a->len)
                memcpy(t->pValue, a->val, a->len);
            t->ulValueLen = a->len;
        } else {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            one = CKR_BUFFER_TOO_SMALL;
        }
        if (one != CKR_OK && rv == CKR_OK)
            rv = one;
    }
    return rv;
}

CK_RV get_object_size_locked(CK_SESSION_HANDLE hSession,
                             CK_OBJECT_HANDLE hObject,
                             CK_ULONG_PTR pulSize)
{
    const struct mc_object *o;
    CK_ULONG size = 0;
    CK_RV rv;

    rv = session_object_locked(hSession, hObject, &o);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < o->nattrs; i++)
        size += o->attrs[i].len;
    *pulSize = size;
    return CKR_OK;
}

/* ---- C_FindObjects ---- */

static bool matches(const struct mc_object *o, const CK_ATTRIBUTE *tmpl,
                    CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        const struct mc_attr *a = mc_object_attr(o, tmpl[i].type);

        /* A sensitive value never matches: a search must not reveal it. */
        if (!a || a->sensitive || a->len != tmpl[i].ulValueLen)
            return false;
        if (a->len && (!tmpl[i].pValue || memcmp(a->val, tmpl[i].pValue, a->len)))
            return false;
    }
    return true;
}

CK_RV find_objects_init_locked(CK_SESSION_HANDLE hSession,
                               CK_ATTRIBUTE_PTR pTemplate,
                               CK_ULONG ulCount)
{
    struct mc_session *s;
    struct mc_find_op *op;
    CK_RV rv;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    op = &s->find;
    if (op->active)
        return CKR_OPERATION_ACTIVE;
    op->found = calloc(MC_OBJ_COUNT, sizeof(*op->found));
    if (!op->found)
        return CKR_HOST_MEMORY;
    op->n = 0;
    op->pos = 0;
    for (int i = 0; i < MC_OBJ_COUNT; i++) {
        const struct mc_object *o = card_object_at_locked(s->card, i);

        if (o && visible_locked(s, o) && matches(o, pTemplate, ulCount))
            op->found[op->n++] = o->handle;
    }
    op->active = true;
    return CKR_OK;
}

/* The active search of @hSession, or the error.  Module lock. */
static CK_RV find_op_locked(CK_SESSION_HANDLE hSession, struct mc_session **s)
{
    CK_RV rv = session_lookup_locked(hSession, s);

    if (rv == CKR_OK && !(*s)->find.active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    return rv;
}

CK_RV find_objects_locked(CK_SESSION_HANDLE hSession,
                          CK_OBJECT_HANDLE_PTR phObject,
                          CK_ULONG ulMaxObjectCount,
                          CK_ULONG_PTR pulObjectCount)
{
    struct mc_session *s;
    struct mc_find_op *op;
    CK_ULONG n = 0;
    CK_RV rv;

    rv = find_op_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    op = &s->find;
    while (n < ulMaxObjectCount && op->pos < op->n) {
        const struct mc_object *o;

        /* Skip what a C_Logout since C_FindObjectsInit made invisible. */
        if (object_lookup_locked(s, op->found[op->pos++], &o) == CKR_OK)
            phObject[n++] = o->handle;
    }
    *pulObjectCount = n;
    return CKR_OK;
}

CK_RV find_objects_final_locked(CK_SESSION_HANDLE hSession)
{
    struct mc_session *s;
    CK_RV rv = find_op_locked(hSession, &s);

    if (rv == CKR_OK)
        session_find_end(&s->find);
    return rv;
}

/* ---- The token is read-only ---- */

/* Check the session (and the object, when there is one) so that the
 * caller's mistakes get their own error, then refuse. */
static CK_RV refuse_write_locked(CK_SESSION_HANDLE hSession, bool check_object,
                                 CK_OBJECT_HANDLE hObject)
{
    const struct mc_object *o;
    struct mc_session *s;
    CK_RV rv;

    if (check_object)
        rv = session_object_locked(hSession, hObject, &o);
    else
        rv = session_lookup_locked(hSession, &s);
    return rv == CKR_OK ? CKR_TOKEN_WRITE_PROTECTED : rv;
}

static CK_RV refuse_write(CK_SESSION_HANDLE hSession, bool check_object,
                          CK_OBJECT_HANDLE hObject, bool args_ok)
{
    return MC_LOCKED(args_ok,
                     refuse_write_locked(hSession, check_object, hObject));
}

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
                     CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject)
{
    CK_RV rv = refuse_write(hSession, false, 0,
                            (pTemplate || !ulCount) && phObject);

    return mc_trace(rv, "C_CreateObject(session=%lu)", (unsigned long)hSession);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                   CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                   CK_OBJECT_HANDLE_PTR phNewObject)
{
    CK_RV rv = refuse_write(hSession, true, hObject,
                            (pTemplate || !ulCount) && phNewObject);

    return mc_trace(rv, "C_CopyObject(session=%lu, object=%lu)",
                    (unsigned long)hSession, (unsigned long)hObject);
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    CK_RV rv = refuse_write(hSession, true, hObject, true);

    return mc_trace(rv, "C_DestroyObject(session=%lu, object=%lu)",
                    (unsigned long)hSession, (unsigned long)hObject);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = refuse_write(hSession, true, hObject, pTemplate || !ulCount);

    return mc_trace(rv, "C_SetAttributeValue(session=%lu, object=%lu)",
                    (unsigned long)hSession, (unsigned long)hObject);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                    CK_OBJECT_HANDLE_PTR phKey)
{
    CK_RV rv = refuse_write(hSession, false, 0,
                            pMechanism && (pTemplate || !ulCount) && phKey);

    return mc_trace(rv, "C_GenerateKey(session=%lu)", (unsigned long)hSession);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate,
                        CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
                        CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey,
                        CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    CK_RV rv = refuse_write(hSession, false, 0,
                            pMechanism
                            && (pPublicKeyTemplate || !ulPublicKeyAttributeCount)
                            && (pPrivateKeyTemplate || !ulPrivateKeyAttributeCount)
                            && phPublicKey && phPrivateKey);

    return mc_trace(rv, "C_GenerateKeyPair(session=%lu)",
                    (unsigned long)hSession);
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
                  CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
                  CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CK_RV rv = refuse_write(hSession, false, 0,
                            pMechanism && (pWrappedKey || !ulWrappedKeyLen)
                            && (pTemplate || !ulAttributeCount) && phKey);

    return mc_trace(rv, "C_UnwrapKey(session=%lu)", (unsigned long)hSession);
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
                  CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
    CK_RV rv = refuse_write(hSession, false, 0,
                            pMechanism && (pTemplate || !ulAttributeCount)
                            && phKey);

    return mc_trace(rv, "C_DeriveKey(session=%lu)", (unsigned long)hSession);
}
