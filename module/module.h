/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Internals of the PKCS#11 module shared between its files.  Layer: the
 * top of the stack; the only place that knows CK_* types.  Calls go one
 * way, and between the files of module/ never in a circle (check-calls.py
 * keeps it so):
 *
 *   entry.c    every C_*: one MC_SHELL line each, around a *_locked body
 *   init.c     C_Initialize, C_Finalize
 *   token.c, find.c, sign.c, login.c   the bodies that need sessions
 *   session.c  sessions; slot.c  readers and slots
 *   card.c     the card manager: alone owns struct mc_card and talks to
 *              the card through the JPKI application (apdu/jpki.h)
 *   object.c, rsa.c, config.c   objects, RSA checks, configuration
 *   call.c, error.c   locks and call accounting; errors and the trace
 *
 * slot.c and card.c use the transport hub (apdu/transport.h) to see
 * readers; login.c uses jpki_pin_normalize, a pure function.  Nothing
 * here builds an APDU or calls PC/SC.
 *
 * Locking.  Two kinds of lock, always taken in this order:
 *
 *   1. a card's I/O lock (struct mc_card.io), one per card, held for a
 *      whole card operation (a transaction, maybe a second of signing);
 *   2. the module lock (mc_g.lock), held briefly by every C_* call for the
 *      reader, card-state, session and object tables.
 *
 * A thread holding the module lock never waits for an I/O lock, so a slow
 * card never blocks C_GetSlotInfo or C_GetTokenInfo (Firefox polls them).
 * A thread holding an I/O lock may take the module lock briefly to publish
 * what the card said.  Functions that need the module lock held are named
 * *_locked; the card_* functions of card.c that talk to the card must be
 * called without it.  The hub is used only under the module lock, except
 * tp_hub_wait() and tp_hub_cancel(), which the transport allows anywhere.
 */
#ifndef MYNACARD_MODULE_H
#define MYNACARD_MODULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "pkcs11-v3.h"
#include "jpki.h"
#include "transport.h"
#include "mynacard-test.h"

#define MC_READERS_MAX 32u
#define MC_SIG_LEN JPKI_SIG_LEN          /* RSA-2048 */
#define MC_KEY_BITS 2048ul
#define MC_PIN_MEMO_MAX 8u               /* rejected PINs remembered per role */
#define MC_MAC_LEN 32u                   /* HMAC-SHA256 */
#define MC_HANDLES_PER_CARD 16ul

/* ---- Locks (call.c) ---- */

/* A mutex of the kind the application chose in C_Initialize: its own
 * callbacks or pthreads.  Returns CKR_OK, CKR_HOST_MEMORY or what the
 * application's CreateMutex returned. */
CK_RV mc_mutex_new(void **out);
void mc_mutex_free(void *m);
void mc_mutex_lock(void *m);
void mc_mutex_unlock(void *m);
/* Check CK_C_INITIALIZE_ARGS and choose the kind of lock (PKCS#11 2.40
 * 5.4); whether it is the application's. */
CK_RV mc_locks_choose(const CK_C_INITIALIZE_ARGS *a);
bool mc_locks_are_app(void);

/* ---- Configuration (config.c) ---- */

struct mc_config {
    char **readers;                /* substrings; NULL or empty: every reader */
    size_t nreaders;
    int debug;                     /* 0..4, see enum myna_log_level */
    char *log_file;                /* NULL: stderr */
    bool sign_always_authenticate; /* CKA_ALWAYS_AUTHENTICATE of the sign key */
    bool pss;                      /* the authentication token lists and
                                    * does RSA-PSS (the card's P1 04) */
};

/* Read the configuration (MYNACARD_CONF; else the system's file under
 * MYNACARD_SYSCONFDIR, then the user's, whose keys win) into @cfg and
 * apply MYNACARD_DEBUG.  A missing file is no error; unknown keys and bad
 * values are warned about and skipped.  Returns CKR_OK or
 * CKR_HOST_MEMORY.  Called by C_Initialize before any lock exists. */
CK_RV mc_config_load(struct mc_config *cfg);
void mc_config_free(struct mc_config *cfg);
/* The user's configuration file: $XDG_CONFIG_HOME/mynacard/mynacard.conf,
 * else ~/.config/mynacard/mynacard.conf.  Returns 0, or -1 when there is
 * none (no HOME, or a set-uid program). */
int mc_config_user_path(char *buf, size_t cap);
/* True if @name passes the `readers =` filter. */
bool mc_config_reader_ok(const struct mc_config *cfg, const char *name);
/* Whether this module shows @role's token at all (the variant in
 * mc_g). */
bool mc_role_shown(enum jpki_role role);
/* Install the log sink the configuration asks for (file or stderr) and
 * log the warnings collected while reading it; mc_log_close() undoes. */
void mc_log_open(const struct mc_config *cfg);
void mc_log_close(void);

/* ---- Errors and tracing (error.c) ---- */

/* The one mapping from an enum myna_err (0 or negative) to a CK_RV.  Card
 * states that need context (a reset that lost a login, say) are decided by
 * the caller before it maps what is left. */
CK_RV mc_rv_from_err(int err);
/* Whether OpenSSL failed for want of memory (rather than for the bytes it
 * was given, a card's certificate say): reads and empties this thread's
 * OpenSSL error queue.  No lock needed. */
bool mc_ossl_nomem(void);
/* "CKR_PIN_INCORRECT" and so on; never NULL. */
const char *mc_rv_name(CK_RV rv);
/* Log one finished C_* call, "@fmt -> CKR_NAME", at the debug level, and
 * return @rv.  Only a trace: the call's accounting ended in the shell
 * (MC_LOCKED), so a C_* that does not trace holds nothing up.  The
 * arguments must never carry a PIN or personal data: handles, slot ids,
 * lengths and mechanism numbers only. */
CK_RV mc_trace(CK_RV rv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- Objects (object.c) ---- */

enum mc_obj_id {
    MC_OBJ_AUTH_CERT = 0,
    MC_OBJ_AUTH_PUB,
    MC_OBJ_AUTH_PRIV,
    MC_OBJ_AUTH_CA,
    MC_OBJ_AUTH_PROFILE,
    MC_OBJ_SIGN_CA,
    MC_OBJ_SIGN_CERT,
    MC_OBJ_SIGN_PUB,
    MC_OBJ_SIGN_PRIV,
    MC_OBJ_COUNT
};

struct mc_attr {
    CK_ATTRIBUTE_TYPE type;
    bool sensitive;          /* exists but never revealed */
    CK_ULONG len;
    void *val;               /* malloc'd, NULL when len == 0 */
};

struct mc_object {
    CK_OBJECT_HANDLE handle;
    enum jpki_role role;     /* the token it belongs to */
    CK_OBJECT_CLASS cls;
    bool priv;               /* CKA_PRIVATE: visible only when logged in */
    size_t nattrs;
    struct mc_attr *attrs;
};

/* Build the objects one certificate gives (certificate; public and
 * private key for a user certificate) into @objs[] at their fixed
 * indices, with handles @handle_base + index + 1.  @always_auth is the
 * signature key's CKA_ALWAYS_AUTHENTICATE.  Returns CKR_OK,
 * CKR_HOST_MEMORY or CKR_DEVICE_ERROR for a certificate OpenSSL cannot
 * parse.  No lock needed: works on private data the caller publishes. */
CK_RV mc_objects_from_cert(enum jpki_cert which, const uint8_t *der,
                           size_t len, CK_OBJECT_HANDLE handle_base,
                           bool always_auth, struct mc_object **objs);
/* The CKO_PROFILE object of the authentication token. */
CK_RV mc_object_profile(CK_OBJECT_HANDLE handle_base, struct mc_object **out);
/* Free @o, cleansing every value (the signature certificate is personal
 * data). */
void mc_object_free(struct mc_object *o);
/* The attribute @type of @o, or NULL. */
const struct mc_attr *mc_object_attr(const struct mc_object *o,
                                     CK_ATTRIBUTE_TYPE type);

/* ---- Cards (card.c) ---- */

struct mc_reader;

/* One card in one reader, from its insertion to its removal: the
 * card-session manager.  Its state is card.c's alone; the rest of the
 * module asks through the functions below. */
struct mc_card;

/* The live card in @r, made if the reader holds one that is not known to
 * be unusable; NULL when there is none.  Module lock held.  The reader
 * holds the returned card's first reference; take your own. */
struct mc_card *card_current_locked(struct mc_reader *r);
void card_ref_locked(struct mc_card *c);
/* What the card is and shows (module lock): removed; read once
 * (card_load); the reader's events counter it was made at; the token
 * kind and card serial (16 hex digits) card_load read; @role's PIN tries
 * left (-1 unknown); whether @role's token is logged in. */
bool card_dead_locked(const struct mc_card *c);
bool card_loaded_locked(const struct mc_card *c);
uint32_t card_events_locked(const struct mc_card *c);
enum jpki_token_kind card_kind_locked(const struct mc_card *c);
const char *card_serial_locked(const struct mc_card *c);
int card_tries_locked(const struct mc_card *c, enum jpki_role role);
bool card_logged_in_locked(const struct mc_card *c, enum jpki_role role);
/* Log @role's token out in software (C_Logout, the last session
 * closed); card_logout() then clears the card. */
void card_set_logged_out_locked(struct mc_card *c, enum jpki_role role);
/* The card's object with handle @h, or NULL; the object at @index of
 * enum mc_obj_id, or NULL. */
const struct mc_object *card_object_locked(const struct mc_card *c,
                                           CK_OBJECT_HANDLE h);
const struct mc_object *card_object_at_locked(const struct mc_card *c,
                                              unsigned index);
/* What card_kill_locked() calls to close the sessions of a card that
 * died (session.c's sessions_close_card_locked, set by C_Initialize):
 * card.c does not call up into the files that use it. */
void card_on_kill(void (*close_sessions)(struct mc_card *c));
/* Drop a reference; frees the card when it is dead and unused.  Module
 * lock held. */
void card_unref_locked(struct mc_card *c);
/* Around a card operation from a C_* body: take a reference to @c and
 * drop the module lock (mc_unlock_for_io), then take the lock again and
 * drop the reference. */
void card_io_begin_locked(struct mc_card *c);
void card_io_end_locked(struct mc_card *c);
/* The card is gone (removed, or unusable): mark it dead, close its
 * sessions and detach it from its reader.  Module lock held. */
void card_kill_locked(struct mc_card *c);

/*
 * Card operations.  Each is called with a card reference and WITHOUT the
 * module lock; it takes the card's I/O lock and opens a transaction for
 * its whole duration.  They return 0 or a negative enum myna_err; a
 * removed card is killed on the way (MYNA_E_NO_CARD).
 */
/* Read what the tokens show (token info, certificates, tries left) once
 * per insertion.  MYNA_E_NOT_JPKI marks the reader unusable until the card
 * changes. */
int card_load(struct mc_card *c);
/* Verify @pin (normalised by jpki_pin_normalize) for @role.  @mac is its
 * HMAC under the process key: a PIN the card already rejected is refused
 * here with MYNA_E_PIN_INCORRECT unless the card's counter is full again
 * (a PIN was verified since, by another program: it may have changed the
 * PIN; an empty VERIFY asks, the rejected PIN itself is not sent), and a
 * PIN known blocked with MYNA_E_PIN_LOCKED, without any APDU.  Returns
 * CARD_ALREADY_LOGGED_IN, sending nothing, for a user login of a token
 * that is logged in.  @context: a CKU_CONTEXT_SPECIFIC
 * login (does not change the token's login state).  On success for
 * JPKI_SIGN the signature certificate is read and its objects made. */
int card_login(struct mc_card *c, enum jpki_role role, bool context,
               const uint8_t *pin, size_t len, const uint8_t *mac);
/* Verify @oldpin then change it to @newpin (both normalised; @oldmac as
 * above).  Leaves no PIN verified unless the token was logged in. */
int card_set_pin(struct mc_card *c, enum jpki_role role,
                 const uint8_t *oldpin, size_t oldlen, const uint8_t *oldmac,
                 const uint8_t *newpin, size_t newlen);
/* Leave no verified PIN of @role on the card: power it down if one may be
 * (which also logs the other token out: the card has no other way). */
int card_logout(struct mc_card *c, enum jpki_role role);
/* A session was opened on @role's token: read its tries left again (the
 * token flags; another program may have spent tries) unless card_load
 * just did, and forget the PINs the card rejected (the card may have
 * changed since). */
int card_session_opened(struct mc_card *c, enum jpki_role role);
/* card_login()'s answer when the token was logged in by another thread
 * meanwhile: the PIN was not sent. */
#define CARD_ALREADY_LOGGED_IN 1
/* Sign @in (1..245 bytes, a DigestInfo or raw PKCS#1 input) with @role's
 * key into @sig (MC_SIG_LEN bytes).  MYNA_E_SECURITY when the login was
 * lost (reset, or the card said 6982): the token is then logged out. */
int card_sign(struct mc_card *c, enum jpki_role role, const uint8_t *in,
              size_t inlen, uint8_t *sig, size_t *siglen);
/* An RSASSA-PSS signature (MGF1-SHA256, 32-byte salt) over the SHA-256
 * @hash, by the card's P1 04 mode, checked with the certificate's key
 * before it is given out.  As card_sign(); also MYNA_E_P1P2 when the card
 * refuses the mode, MYNA_E_BAD_RESPONSE when its answer does not verify. */
int card_sign_pss(struct mc_card *c, enum jpki_role role,
                  const uint8_t hash[JPKI_PSS_HASH_LEN], uint8_t *sig,
                  size_t *siglen);
/* @len random bytes from GET CHALLENGE. */
int card_random(struct mc_card *c, uint8_t *out, size_t len);

/* ---- Readers and slots (slot.c) ---- */

struct mc_reader {
    char name[TP_READER_NAME_MAX];
    unsigned index;             /* slot ids are 2 * index + role */
    bool listed;                /* the hub lists it now */
    bool present;               /* a card is in it */
    uint32_t events;            /* the hub's counter */
    bool unusable;              /* the card with unusable_events cannot */
    uint32_t unusable_events;   /*   serve (not JPKI, vanished) */
    struct mc_card *card;       /* the live card, NULL until needed */
    uint32_t ev_seen;           /* C_WaitForSlotEvent bookkeeping */
    bool ev_pending[2];
};

/* Ask the hub what changed and bring the reader table up to date: new
 * readers get slots, removed or replaced cards are killed.  Cheap, no
 * APDU.  Module lock held. */
void slots_refresh_locked(void);
/* The reader and role of @id, or CKR_SLOT_ID_INVALID.  Module lock held. */
CK_RV slot_lookup_locked(CK_SLOT_ID id, struct mc_reader **r,
                         enum jpki_role *role);
/* The same after a refresh (slots_refresh_locked). */
CK_RV slot_find_locked(CK_SLOT_ID id, struct mc_reader **r,
                       enum jpki_role *role);
CK_SLOT_ID slot_id(const struct mc_reader *r, enum jpki_role role);
/* Token present: a card the hub sees, not known to be unusable. */
bool slot_token_present_locked(const struct mc_reader *r);
/* Free the reader table (C_Finalize, after the cards). */
void slots_free_locked(void);
/*
 * The card whose token @r shows, read from the card once per insertion
 * (card_load) if that has not happened yet.  Module lock held; it is
 * dropped while the card is read, so the caller must not rely on state it
 * looked at before.  On CKR_OK *@out holds a reference the caller drops
 * with card_unref_locked(); otherwise CKR_TOKEN_NOT_PRESENT (no card, or it
 * went away meanwhile) or the card's error.
 */
CK_RV slot_loaded_card_locked(struct mc_reader *r, struct mc_card **out);

/* ---- Sessions (session.c) ---- */

struct mc_find_op {
    bool active;
    CK_OBJECT_HANDLE *found;
    size_t n, pos;
};

/* A signature or a verification: one shape for both (sign.c drives them
 * with one core). */
struct mc_op {
    bool active;
    CK_MECHANISM_TYPE mech;
    const EVP_MD *md;           /* NULL for CKM_RSA_PKCS */
    EVP_MD_CTX *mdctx;          /* multi-part hashing, made on first use */
    bool multipart;             /* C_*Update was called */
    uint8_t buf[JPKI_SIGN_INPUT_MAX]; /* CKM_RSA_PKCS multi-part input */
    size_t len;
    /* Signing only. */
    bool always_auth;           /* needs a CKU_CONTEXT_SPECIFIC login */
    bool context_ok;            /* ... and had it */
    /* Verifying only. */
    EVP_PKEY *pkey;
};

struct mc_session {
    CK_SESSION_HANDLE handle;
    struct mc_reader *reader;
    enum jpki_role role;
    struct mc_card *card;       /* holds a reference */
    CK_FLAGS flags;
    struct mc_find_op find;
    struct mc_op sign;
    struct mc_op verify;
};

/* The session @h after a refresh (a removed card's sessions are gone), or
 * CKR_SESSION_HANDLE_INVALID.  Module lock held. */
CK_RV session_lookup_locked(CK_SESSION_HANDLE h, struct mc_session **out);
/* Close every session of @c (its card died).  Module lock held. */
void sessions_close_card_locked(struct mc_card *c);
/* How many sessions the token (@c, @role) has.  Module lock held. */
unsigned sessions_count_locked(const struct mc_card *c, enum jpki_role role);
/* The same, read/write sessions only (CK_TOKEN_INFO.ulRwSessionCount). */
unsigned sessions_count_rw_locked(const struct mc_card *c,
                                  enum jpki_role role);
/* Free every session (C_Finalize).  Module lock held. */
void sessions_free_all_locked(void);
/* End the operations of a session (C_SessionCancel and close). */
void session_op_end(struct mc_op *op);
void session_find_end(struct mc_find_op *op);

/* ---- Objects as a session sees them (object.c) ---- */

/* The object @h if the session's token shows it now (CKA_PRIVATE ones
 * only when logged in), or CKR_OBJECT_HANDLE_INVALID.  Module lock. */
CK_RV object_lookup_locked(const struct mc_session *s, CK_OBJECT_HANDLE h,
                           const struct mc_object **out);
/* The object @h of the session's token even when it is private and the
 * token is logged out (to tell CKR_USER_NOT_LOGGED_IN from an invalid
 * handle).  Module lock. */
const struct mc_object *object_find_any_locked(const struct mc_session *s,
                                               CK_OBJECT_HANDLE h);

/* ---- RSA checks in software (rsa.c) ---- */

/* The public key of the DER SubjectPublicKeyInfo @spki, or NULL. */
EVP_PKEY *mc_rsa_pkey_from_spki(const uint8_t *spki, size_t len);
/* Check @sig over @tbs with @pkey: RSASSA-PSS over the SHA-256 hash @tbs
 * (@pss; MGF1-SHA256, a 32-byte salt), else PKCS#1 v1.5 type 1.  Returns
 * 1 valid, 0 invalid, -1 when the key cannot be used or OpenSSL ran out
 * of memory. */
int mc_rsa_verify_pkey(EVP_PKEY *pkey, bool pss, const uint8_t *tbs,
                       size_t tbslen, const uint8_t *sig, size_t siglen);

/* Check an RSA PKCS#1 v1.5 type-1 signature over @tbs (raw input: a
 * DigestInfo or what CKM_RSA_PKCS was given) with the public key @spki (a
 * DER SubjectPublicKeyInfo).  Returns 1 valid, 0 invalid, -1 when the key
 * cannot be used.  No lock needed. */
int mc_rsa_pkcs1_verify(const uint8_t *spki, size_t spkilen,
                        const uint8_t *tbs, size_t tbslen,
                        const uint8_t *sig, size_t siglen);
/* Check an RSASSA-PSS signature over the SHA-256 @hash with MGF1-SHA256
 * and a salt of exactly 32 bytes, the only parameters the module offers.
 * Returns as mc_rsa_pkcs1_verify().  No lock needed. */
int mc_rsa_pss_verify(const uint8_t *spki, size_t spkilen,
                      const uint8_t *hash, size_t hashlen,
                      const uint8_t *sig, size_t siglen);
/* The same check made cheap for a key used again and again: the key is
 * parsed and the verification context set up once (OpenSSL 3's decoders
 * cost more than the RSA itself).  mc_rsa_verify_ctx_new() returns NULL
 * when the key cannot be used; the context is freed with
 * EVP_PKEY_CTX_free() and used by one thread at a time.
 * mc_rsa_pkcs1_verify_ctx() returns 1 valid, 0 invalid, -1 when OpenSSL
 * ran out of memory. */
EVP_PKEY_CTX *mc_rsa_verify_ctx_new(const uint8_t *spki, size_t spkilen);
int mc_rsa_pkcs1_verify_ctx(EVP_PKEY_CTX *ctx, const uint8_t *tbs,
                            size_t tbslen, const uint8_t *sig, size_t siglen);

/* ---- The bodies of the C_* calls (entry.c holds their shells) ---- */

/* Each is called by its C_* (MC_SHELL in entry.c) with the module lock
 * held, returns with it held, and has had its pointer arguments checked
 * as the table says. */
/* slot.c */
CK_RV get_slot_list_locked(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
                           CK_ULONG_PTR pulCount);
CK_RV get_slot_info_locked(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CK_RV get_token_info_locked(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
/* session.c */
CK_RV open_session_locked(CK_SLOT_ID slotID, CK_FLAGS flags,
                          CK_SESSION_HANDLE_PTR phSession);
CK_RV close_session_locked(CK_SESSION_HANDLE hSession);
CK_RV close_all_sessions_locked(CK_SLOT_ID slotID);
CK_RV get_session_info_locked(CK_SESSION_HANDLE hSession,
                              CK_SESSION_INFO_PTR pInfo);
CK_RV session_cancel_locked(CK_SESSION_HANDLE hSession, CK_FLAGS flags);
/* login.c */
CK_RV login_locked(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                   CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);
CK_RV logout_locked(CK_SESSION_HANDLE hSession);
CK_RV set_pin_locked(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
                     CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
                     CK_ULONG ulNewLen);
/* object.c */
CK_RV get_attribute_value_locked(CK_SESSION_HANDLE hSession,
                                 CK_OBJECT_HANDLE hObject,
                                 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV get_object_size_locked(CK_SESSION_HANDLE hSession,
                             CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize);
CK_RV find_objects_init_locked(CK_SESSION_HANDLE hSession,
                               CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV find_objects_locked(CK_SESSION_HANDLE hSession,
                          CK_OBJECT_HANDLE_PTR phObject,
                          CK_ULONG ulMaxObjectCount,
                          CK_ULONG_PTR pulObjectCount);
CK_RV find_objects_final_locked(CK_SESSION_HANDLE hSession);
/* sign.c */
CK_RV get_mechanism_list_locked(CK_SLOT_ID slotID,
                                CK_MECHANISM_TYPE_PTR pMechanismList,
                                CK_ULONG_PTR pulCount);
CK_RV get_mechanism_info_locked(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
                                CK_MECHANISM_INFO_PTR pInfo);
/* C_SignInit and C_VerifyInit (@verify), their *Update, and the one-shot
 * (@final false) or final call of each. */
CK_RV op_init_locked(CK_SESSION_HANDLE hSession, bool verify,
                     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV op_update_locked(CK_SESSION_HANDLE hSession, bool verify,
                       const uint8_t *part, CK_ULONG len);
CK_RV sign_locked(CK_SESSION_HANDLE hSession, bool final, const uint8_t *data,
                  CK_ULONG len, CK_BYTE_PTR pSignature,
                  CK_ULONG_PTR pulSignatureLen);
CK_RV verify_locked(CK_SESSION_HANDLE hSession, bool final,
                    const uint8_t *data, CK_ULONG len, const uint8_t *sig,
                    CK_ULONG siglen);
CK_RV generate_random_locked(CK_SESSION_HANDLE hSession,
                             CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen);
CK_RV seed_random_locked(CK_SESSION_HANDLE hSession);
/* slot.c */
CK_RV wait_for_slot_event_locked(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot);

/* ---- PINs (login.c) ---- */

/* The HMAC-SHA256 of @pin under the process key, for the rejected-PIN
 * memo.  The key is made in C_Initialize and wiped in C_Finalize. */
void mc_pin_mac(enum jpki_role role, const uint8_t *pin, size_t len,
                uint8_t mac[MC_MAC_LEN]);
CK_RV mc_pin_key_init(void);
void mc_pin_key_wipe(void);

/* ---- The module (init.c; its state in call.c) ---- */

struct mc_global {
    void *lock;                 /* the module lock */
    struct tp_hub *hub;
    bool hub_owned;
    enum mynacard_variant variant;
    struct mc_config cfg;

    /* Module lock. */
    struct mc_reader *readers[MC_READERS_MAX];
    unsigned nreaders;
    unsigned nlisted;           /* readers C_GetSlotList shows: those known
                                 * at its last length query */
    bool slots_started;         /* C_Initialize's first look is done:
                                 * readers seen then raise no slot event */
    struct mc_session **sessions;
    size_t nsessions, cap_sessions;
    CK_SESSION_HANDLE next_session;
    CK_OBJECT_HANDLE next_handle_base;
};

extern struct mc_global mc_g;

/* Whether the module is initialised in this process (not a forked child
 * that has not called C_Initialize again). */
bool mc_initialized(void);
/*
 * The shell of every C_* call that uses the module's state.  mc_enter()
 * counts the call (C_Finalize waits until no call is inside), checks
 * initialisation and takes the module lock: CKR_OK (lock held, counted)
 * or CKR_CRYPTOKI_NOT_INITIALIZED (neither).  mc_leave() releases the lock
 * and ends the count, and returns @rv.  Every such C_* is an MC_SHELL
 * entry in entry.c around a *_locked body in the file of its area.
 *
 * MC_LOCKED(@args_ok, @body): CKR_CRYPTOKI_NOT_INITIALIZED first, then
 * CKR_ARGUMENTS_BAD unless @args_ok, then what @body (called with the
 * lock held, and returning with it held) says.  No hidden return: the
 * expression is the call's CK_RV.
 */
CK_RV mc_enter(void);
CK_RV mc_leave(CK_RV rv);
#define MC_LOCKED(args_ok, body)                                            \
    (mc_enter() != CKR_OK ? CKR_CRYPTOKI_NOT_INITIALIZED                    \
                          : mc_leave((args_ok) ? (body) : CKR_ARGUMENTS_BAD))
/*
 * MC_SHELL(@name, (@params), @args_ok, @body, @fmt, ...) defines the
 * entry point @name: the shell above around @body, then the trace of
 * @fmt and the arguments after it, which may use the call's result, rv.
 * Every C_* that uses the module's state is one of these, in entry.c;
 * the body, a *_locked function declared below ("The bodies of the C_*
 * calls") and defined in the file of its area, is the call's logic alone.
 */
#define MC_SHELL(name, params, args_ok, body, ...)                          \
    CK_RV name params                                                       \
    {                                                                       \
        CK_RV rv = MC_LOCKED(args_ok, body);                                \
                                                                            \
        return mc_trace(rv, __VA_ARGS__);                                   \
    }
/* For the calls that touch no state (not supported, C_GetInfo): an
 * expression, CKR_CRYPTOKI_NOT_INITIALIZED or @body; the C_* around it is
 * written by hand and ends in mc_trace(), as C_GetInfo in entry.c. */
#define MC_UNLOCKED(body)                                                   \
    (mc_initialized() ? (body) : CKR_CRYPTOKI_NOT_INITIALIZED)
/*
 * Drop the module lock for card I/O, and take it again after: the one
 * pair every such place uses (a thread holding the module lock never
 * waits for a card, see "Locking" above).  Whatever was looked at under
 * the lock may have changed when mc_relock_after_io() returns; the call
 * stays counted in between, so C_Finalize waits for the card.
 */
void mc_unlock_for_io(void);
void mc_relock_after_io(void);
/* For init.c: a forked child's copy of the parent's state (initialised,
 * another pid); forget the parent's calls; the module is initialised
 * now; C_Finalize has begun (new calls are refused); calls and
 * C_WaitForSlotEvent waiters still inside; the module is finalised. */
bool mc_inherited(void);
void mc_calls_reset(void);
void mc_mark_initialized(void);
void mc_finalize_begin(void);
bool mc_calls_inside(void);
bool mc_waiters_inside(void);
void mc_mark_finalized(void);
/* C_Finalize has begun: waiters must leave. */
bool mc_finalizing(void);
/* Threads inside C_WaitForSlotEvent, so that C_Finalize can wait for them
 * to leave before it frees the hub. */
void mc_waiter_enter(void);
void mc_waiter_leave(void);

/* What a build of the module fixes, read at each C_Initialize: which
 * tokens it shows, and the hub its readers come from (NULL: PC/SC, which
 * C_Initialize opens and owns).  The static library leaves both undefined:
 * a shipped module links variant.c (its variant, PC/SC), the in-process
 * tests link test-hooks.c (set through mynacard-test.h), so no test hook
 * is ever in a shipped module. */
enum mynacard_variant mc_build_variant(void);
struct tp_hub *mc_build_hub(void);

/* Copy @src into a blank-padded PKCS#11 string field of @n bytes. */
void mc_pad(CK_UTF8CHAR *dst, size_t n, const char *src);

#endif
