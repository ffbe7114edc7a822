/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The entry points: the PKCS#11 2.40 function list and the 3.0 interfaces
 * (C_GetFunctionList, C_GetInterfaceList, C_GetInterface: the only symbols
 * the shipped modules export, see mynacard.map), C_GetInfo, and the
 * functions this card cannot do, which say so, and the shell (MC_SHELL) of
 * every other C_* around its *_locked body, which lives beside what it
 * uses (slot.c, session.c, login.c, object.c, sign.c, ...).  Layer:
 * module/.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "module.h"

#define LIBRARY_MANUFACTURER "mynacard project"
#define LIBRARY_DESCRIPTION "mynacard: My Number Card (JPKI)"

/* ---- C_GetInfo: one per list, each telling its own version ---- */

static void fill_info(CK_INFO *info, CK_BYTE major, CK_BYTE minor)
{
    unsigned lmajor = 0, lminor = 0;

    info->cryptokiVersion.major = major;
    info->cryptokiVersion.minor = minor;
    mc_pad(info->manufacturerID, sizeof(info->manufacturerID),
           LIBRARY_MANUFACTURER);
    info->flags = 0;
    mc_pad(info->libraryDescription, sizeof(info->libraryDescription),
           LIBRARY_DESCRIPTION);
    if (sscanf(MYNACARD_VERSION, "%u.%u", &lmajor, &lminor) != 2)
        lmajor = lminor = 0;
    info->libraryVersion.major = (CK_BYTE)lmajor;
    info->libraryVersion.minor = (CK_BYTE)lminor;
}

static CK_RV get_info(CK_INFO_PTR pInfo, CK_BYTE major, CK_BYTE minor)
{
    if (!pInfo)
        return CKR_ARGUMENTS_BAD;
    fill_info(pInfo, major, minor);
    return CKR_OK;
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    return mc_trace(MC_UNLOCKED(get_info(pInfo, 2, 40)), "C_GetInfo");
}

static CK_RV get_info_v3(CK_INFO_PTR pInfo)
{
    return mc_trace(MC_UNLOCKED(get_info(pInfo, 3, 0)), "C_GetInfo(3.0)");
}

/* ---- The C_* calls that use the module's state: one shell each ---- */

/* slot.c */

MC_SHELL(C_GetSlotList,
         (CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
          CK_ULONG_PTR pulCount),
         pulCount != NULL,
         get_slot_list_locked(tokenPresent, pSlotList, pulCount),
         "C_GetSlotList(present=%d, list=%s, count=%lu)", (int)tokenPresent,
         pSlotList ? "buf" : "NULL", pulCount ? (unsigned long)*pulCount : 0ul)

MC_SHELL(C_GetSlotInfo, (CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo),
         pInfo != NULL, get_slot_info_locked(slotID, pInfo),
         "C_GetSlotInfo(slot=%lu)", (unsigned long)slotID)

MC_SHELL(C_GetTokenInfo, (CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo),
         pInfo != NULL, get_token_info_locked(slotID, pInfo),
         "C_GetTokenInfo(slot=%lu)", (unsigned long)slotID)

/* session.c */

/* No callbacks: PKCS#11 allows a module never to call Notify. */
MC_SHELL(C_OpenSession,
         (CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
          CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession),
         phSession != NULL,
         ((void)pApplication, (void)Notify,
          open_session_locked(slotID, flags, phSession)),
         "C_OpenSession(slot=%lu, flags=0x%lx) session=%lu",
         (unsigned long)slotID, (unsigned long)flags,
         rv == CKR_OK ? (unsigned long)*phSession : 0ul)

MC_SHELL(C_CloseSession, (CK_SESSION_HANDLE hSession),
         true, close_session_locked(hSession),
         "C_CloseSession(session=%lu)", (unsigned long)hSession)

MC_SHELL(C_CloseAllSessions, (CK_SLOT_ID slotID),
         true, close_all_sessions_locked(slotID),
         "C_CloseAllSessions(slot=%lu)", (unsigned long)slotID)

MC_SHELL(C_GetSessionInfo,
         (CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo),
         pInfo != NULL, get_session_info_locked(hSession, pInfo),
         "C_GetSessionInfo(session=%lu)", (unsigned long)hSession)

MC_SHELL(C_SessionCancel, (CK_SESSION_HANDLE hSession, CK_FLAGS flags),
         true, session_cancel_locked(hSession, flags),
         "C_SessionCancel(session=%lu, flags=0x%lx)", (unsigned long)hSession,
         (unsigned long)flags)

/* login.c */

MC_SHELL(C_Login,
         (CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
          CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen),
         true, login_locked(hSession, userType, pPin, ulPinLen),
         "C_Login(session=%lu, user=%lu)", (unsigned long)hSession,
         (unsigned long)userType)

/* The card knows one holder: a user name changes nothing. */
MC_SHELL(C_LoginUser,
         (CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
          CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
          CK_ULONG ulUsernameLen),
         true,
         ((void)pUsername, (void)ulUsernameLen,
          login_locked(hSession, userType, pPin, ulPinLen)),
         "C_LoginUser(session=%lu, user=%lu)", (unsigned long)hSession,
         (unsigned long)userType)

MC_SHELL(C_Logout, (CK_SESSION_HANDLE hSession),
         true, logout_locked(hSession),
         "C_Logout(session=%lu)", (unsigned long)hSession)

MC_SHELL(C_SetPIN,
         (CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
          CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen),
         pOldPin && pNewPin,
         set_pin_locked(hSession, pOldPin, ulOldLen, pNewPin, ulNewLen),
         "C_SetPIN(session=%lu)", (unsigned long)hSession)

/* object.c */

MC_SHELL(C_GetAttributeValue,
         (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount),
         pTemplate || !ulCount,
         get_attribute_value_locked(hSession, hObject, pTemplate, ulCount),
         "C_GetAttributeValue(session=%lu, object=%lu, count=%lu)",
         (unsigned long)hSession, (unsigned long)hObject,
         (unsigned long)ulCount)

MC_SHELL(C_GetObjectSize,
         (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
          CK_ULONG_PTR pulSize),
         pulSize != NULL, get_object_size_locked(hSession, hObject, pulSize),
         "C_GetObjectSize(session=%lu, object=%lu)", (unsigned long)hSession,
         (unsigned long)hObject)

MC_SHELL(C_FindObjectsInit,
         (CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
          CK_ULONG ulCount),
         pTemplate || !ulCount,
         find_objects_init_locked(hSession, pTemplate, ulCount),
         "C_FindObjectsInit(session=%lu, count=%lu)", (unsigned long)hSession,
         (unsigned long)ulCount)

MC_SHELL(C_FindObjects,
         (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
          CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount),
         pulObjectCount && (phObject || !ulMaxObjectCount),
         find_objects_locked(hSession, phObject, ulMaxObjectCount,
                             pulObjectCount),
         "C_FindObjects(session=%lu, max=%lu) found=%lu",
         (unsigned long)hSession, (unsigned long)ulMaxObjectCount,
         rv == CKR_OK && pulObjectCount ? (unsigned long)*pulObjectCount : 0ul)

MC_SHELL(C_FindObjectsFinal, (CK_SESSION_HANDLE hSession),
         true, find_objects_final_locked(hSession),
         "C_FindObjectsFinal(session=%lu)", (unsigned long)hSession)

/* sign.c */

MC_SHELL(C_GetMechanismList,
         (CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
          CK_ULONG_PTR pulCount),
         pulCount != NULL,
         get_mechanism_list_locked(slotID, pMechanismList, pulCount),
         "C_GetMechanismList(slot=%lu)", (unsigned long)slotID)

MC_SHELL(C_GetMechanismInfo,
         (CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
          CK_MECHANISM_INFO_PTR pInfo),
         pInfo != NULL, get_mechanism_info_locked(slotID, type, pInfo),
         "C_GetMechanismInfo(slot=%lu, mech=0x%lx)", (unsigned long)slotID,
         (unsigned long)type)

MC_SHELL(C_SignInit,
         (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
          CK_OBJECT_HANDLE hKey),
         true, op_init_locked(hSession, false, pMechanism, hKey),
         "C_SignInit(session=%lu, mech=0x%lx, key=%lu)",
         (unsigned long)hSession,
         pMechanism ? (unsigned long)pMechanism->mechanism : 0ul,
         (unsigned long)hKey)

MC_SHELL(C_Sign,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
          CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen),
         true,
         sign_locked(hSession, false, pData, ulDataLen, pSignature,
                     pulSignatureLen),
         "C_Sign(session=%lu, len=%lu, out=%s)", (unsigned long)hSession,
         (unsigned long)ulDataLen, pSignature ? "buf" : "NULL")

MC_SHELL(C_SignUpdate,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen),
         true, op_update_locked(hSession, false, pPart, ulPartLen),
         "C_SignUpdate(session=%lu, len=%lu)", (unsigned long)hSession,
         (unsigned long)ulPartLen)

MC_SHELL(C_SignFinal,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
          CK_ULONG_PTR pulSignatureLen),
         true,
         sign_locked(hSession, true, NULL, 0, pSignature, pulSignatureLen),
         "C_SignFinal(session=%lu, out=%s)", (unsigned long)hSession,
         pSignature ? "buf" : "NULL")

MC_SHELL(C_VerifyInit,
         (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
          CK_OBJECT_HANDLE hKey),
         true, op_init_locked(hSession, true, pMechanism, hKey),
         "C_VerifyInit(session=%lu, mech=0x%lx, key=%lu)",
         (unsigned long)hSession,
         pMechanism ? (unsigned long)pMechanism->mechanism : 0ul,
         (unsigned long)hKey)

MC_SHELL(C_Verify,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
          CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen),
         true,
         verify_locked(hSession, false, pData, ulDataLen, pSignature,
                       ulSignatureLen),
         "C_Verify(session=%lu, len=%lu)", (unsigned long)hSession,
         (unsigned long)ulDataLen)

MC_SHELL(C_VerifyUpdate,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen),
         true, op_update_locked(hSession, true, pPart, ulPartLen),
         "C_VerifyUpdate(session=%lu, len=%lu)", (unsigned long)hSession,
         (unsigned long)ulPartLen)

MC_SHELL(C_VerifyFinal,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
          CK_ULONG ulSignatureLen),
         true,
         verify_locked(hSession, true, NULL, 0, pSignature, ulSignatureLen),
         "C_VerifyFinal(session=%lu)", (unsigned long)hSession)

MC_SHELL(C_GenerateRandom,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData,
          CK_ULONG ulRandomLen),
         pRandomData || !ulRandomLen,
         generate_random_locked(hSession, pRandomData, ulRandomLen),
         "C_GenerateRandom(session=%lu, len=%lu)", (unsigned long)hSession,
         (unsigned long)ulRandomLen)

MC_SHELL(C_SeedRandom,
         (CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen),
         pSeed || !ulSeedLen, seed_random_locked(hSession),
         "C_SeedRandom(session=%lu)", (unsigned long)hSession)

/* slot.c: waits for the hub with the module lock dropped. */

MC_SHELL(C_WaitForSlotEvent,
         (CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved),
         pSlot && !pReserved, wait_for_slot_event_locked(flags, pSlot),
         "C_WaitForSlotEvent(flags=0x%lx) slot=%lu", (unsigned long)flags,
         rv == CKR_OK && pSlot ? (unsigned long)*pSlot : 0ul)

/* ---- What the card cannot do ---- */

/* Initialised or not, the answer is "not supported"; PKCS#11 lets such a
 * function skip checking its arguments. */
static CK_RV unsupported(const char *fn)
{
    return mc_trace(MC_UNLOCKED(CKR_FUNCTION_NOT_SUPPORTED), "%s", fn);
}

#define NOT_SUPPORTED(name, args)     \
    CK_RV name args                   \
    {                                 \
        return unsupported(#name);    \
    }

NOT_SUPPORTED(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                              CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_Encrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                          CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_EncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                                CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                               CK_ULONG_PTR c))
NOT_SUPPORTED(C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                              CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_Decrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                          CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                                CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                               CK_ULONG_PTR c))
NOT_SUPPORTED(C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b))
NOT_SUPPORTED(C_Digest, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                         CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
NOT_SUPPORTED(C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
NOT_SUPPORTED(C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                              CK_ULONG_PTR c))
NOT_SUPPORTED(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                  CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_SignRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                              CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                    CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_VerifyRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
                                CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DigestEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                                      CK_ULONG c, CK_BYTE_PTR d,
                                      CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptDigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                                      CK_ULONG c, CK_BYTE_PTR d,
                                      CK_ULONG_PTR e))
NOT_SUPPORTED(C_SignEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                                    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
NOT_SUPPORTED(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b,
                                      CK_ULONG c, CK_BYTE_PTR d,
                                      CK_ULONG_PTR e))
NOT_SUPPORTED(C_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                          CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d, CK_BYTE_PTR e,
                          CK_ULONG_PTR f))
/* PKCS#11 3.0 message-based functions: no AEAD, and signing is one-shot. */
NOT_SUPPORTED(C_MessageEncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                     CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_EncryptMessage, (CK_SESSION_HANDLE a, CK_VOID_PTR b, CK_ULONG c,
                                 CK_BYTE_PTR d, CK_ULONG e, CK_BYTE_PTR f,
                                 CK_ULONG g, CK_BYTE_PTR h, CK_ULONG_PTR i))
NOT_SUPPORTED(C_EncryptMessageBegin, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                      CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e))
NOT_SUPPORTED(C_EncryptMessageNext, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                     CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e,
                                     CK_BYTE_PTR f, CK_ULONG_PTR g, CK_FLAGS h))
NOT_SUPPORTED(C_MessageEncryptFinal, (CK_SESSION_HANDLE a))
NOT_SUPPORTED(C_MessageDecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                     CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_DecryptMessage, (CK_SESSION_HANDLE a, CK_VOID_PTR b, CK_ULONG c,
                                 CK_BYTE_PTR d, CK_ULONG e, CK_BYTE_PTR f,
                                 CK_ULONG g, CK_BYTE_PTR h, CK_ULONG_PTR i))
NOT_SUPPORTED(C_DecryptMessageBegin, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                      CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e))
NOT_SUPPORTED(C_DecryptMessageNext, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                     CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e,
                                     CK_BYTE_PTR f, CK_ULONG_PTR g, CK_FLAGS h))
NOT_SUPPORTED(C_MessageDecryptFinal, (CK_SESSION_HANDLE a))
NOT_SUPPORTED(C_MessageSignInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                  CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_SignMessage, (CK_SESSION_HANDLE a, CK_VOID_PTR b, CK_ULONG c,
                              CK_BYTE_PTR d, CK_ULONG e, CK_BYTE_PTR f,
                              CK_ULONG_PTR g))
NOT_SUPPORTED(C_SignMessageBegin, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                   CK_ULONG c))
NOT_SUPPORTED(C_SignMessageNext, (CK_SESSION_HANDLE a, CK_VOID_PTR b, CK_ULONG c,
                                  CK_BYTE_PTR d, CK_ULONG e, CK_BYTE_PTR f,
                                  CK_ULONG_PTR g))
NOT_SUPPORTED(C_MessageSignFinal, (CK_SESSION_HANDLE a))
NOT_SUPPORTED(C_MessageVerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b,
                                    CK_OBJECT_HANDLE c))
NOT_SUPPORTED(C_VerifyMessage, (CK_SESSION_HANDLE a, CK_VOID_PTR b, CK_ULONG c,
                                CK_BYTE_PTR d, CK_ULONG e, CK_BYTE_PTR f,
                                CK_ULONG g))
NOT_SUPPORTED(C_VerifyMessageBegin, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                     CK_ULONG c))
NOT_SUPPORTED(C_VerifyMessageNext, (CK_SESSION_HANDLE a, CK_VOID_PTR b,
                                    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e,
                                    CK_BYTE_PTR f, CK_ULONG g))
NOT_SUPPORTED(C_MessageVerifyFinal, (CK_SESSION_HANDLE a))

/* Legacy parallel functions: PKCS#11 says they just answer this. */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_PARALLEL);

    return mc_trace(rv, "C_GetFunctionStatus(session=%lu)",
                    (unsigned long)hSession);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_PARALLEL);

    return mc_trace(rv, "C_CancelFunction(session=%lu)",
                    (unsigned long)hSession);
}

/* ---- The lists ---- */

/* Everything after C_GetInfo, which differs between the lists. */
#define LIST_240_AFTER_INFO                                                  \
    C_GetFunctionList, C_GetSlotList,                                        \
    C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo,   \
    C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession,         \
    C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,               \
    C_SetOperationState, C_Login, C_Logout, C_CreateObject, C_CopyObject,    \
    C_DestroyObject, C_GetObjectSize, C_GetAttributeValue,                   \
    C_SetAttributeValue, C_FindObjectsInit, C_FindObjects,                   \
    C_FindObjectsFinal, C_EncryptInit, C_Encrypt, C_EncryptUpdate,           \
    C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate,               \
    C_DecryptFinal, C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey,     \
    C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate, C_SignFinal,            \
    C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify,                \
    C_VerifyUpdate, C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover,     \
    C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate,       \
    C_DecryptVerifyUpdate, C_GenerateKey, C_GenerateKeyPair, C_WrapKey,      \
    C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom,                \
    C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent

static CK_FUNCTION_LIST mc_list_240 = {
    { 2, 40 },
    C_Initialize, C_Finalize, C_GetInfo,
    LIST_240_AFTER_INFO,
};

static CK_FUNCTION_LIST_3_0 mc_list_300 = {
    { 3, 0 },
    C_Initialize, C_Finalize, get_info_v3,
    LIST_240_AFTER_INFO,
    C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel,
    C_MessageEncryptInit, C_EncryptMessage, C_EncryptMessageBegin,
    C_EncryptMessageNext, C_MessageEncryptFinal, C_MessageDecryptInit,
    C_DecryptMessage, C_DecryptMessageBegin, C_DecryptMessageNext,
    C_MessageDecryptFinal, C_MessageSignInit, C_SignMessage,
    C_SignMessageBegin, C_SignMessageNext, C_MessageSignFinal,
    C_MessageVerifyInit, C_VerifyMessage, C_VerifyMessageBegin,
    C_VerifyMessageNext, C_MessageVerifyFinal,
};

#define INTERFACE_NAME "PKCS 11"

/* Newest first: a caller that takes the first gets 3.0.  No
 * CKF_INTERFACE_FORK_SAFE: a forked child must call C_Initialize again. */
static CK_INTERFACE mc_interfaces[] = {
    { (CK_UTF8CHAR *)INTERFACE_NAME, &mc_list_300, 0 },
    { (CK_UTF8CHAR *)INTERFACE_NAME, &mc_list_240, 0 },
};
#define N_INTERFACES (sizeof(mc_interfaces) / sizeof(mc_interfaces[0]))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    /* The only call allowed before C_Initialize, with the two below. */
    if (!ppFunctionList)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &mc_list_240;
    return CKR_OK;
}

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
    if (!pulCount)
        return CKR_ARGUMENTS_BAD;
    if (!pInterfacesList) {
        *pulCount = N_INTERFACES;
        return CKR_OK;
    }
    if (*pulCount < N_INTERFACES) {
        *pulCount = N_INTERFACES;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(pInterfacesList, mc_interfaces, sizeof(mc_interfaces));
    *pulCount = N_INTERFACES;
    return CKR_OK;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
    if (!ppInterface)
        return CKR_ARGUMENTS_BAD;
    for (size_t i = 0; i < N_INTERFACES; i++) {
        CK_INTERFACE *it = &mc_interfaces[i];
        const CK_VERSION *v = it->pFunctionList;   /* each list starts so */

        if (pInterfaceName
            && strcmp((const char *)pInterfaceName,
                      (const char *)it->pInterfaceName))
            continue;
        if (pVersion
            && (pVersion->major != v->major || pVersion->minor != v->minor))
            continue;
        if ((it->flags & flags) != flags)
            continue;
        *ppInterface = it;
        return CKR_OK;
    }
    *ppInterface = NULL;
    return CKR_ARGUMENTS_BAD;   /* no such interface here */
}
