/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Shared fixture of the in-process module tests (tests/module/).  It makes
 * a virtual card once per test program (SoftHSM key generation is slow),
 * copies it for each test, puts it in a callback hub behind a spy that
 * counts the APDUs the module sends, and hands the hub to the module's
 * static library through mynacard-test.h.  The tests then drive the module
 * only through C_GetFunctionList (and C_GetInterface for the 3.0 tests),
 * and check what it says against the virtual card (tries, counters, raw
 * APDUs) and OpenSSL (certificate fields, signatures).
 */
#ifndef MT_FIXTURE_H
#define MT_FIXTURE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "check-run.h"
#include "emu.h"
#include "mynacard-test.h"
#include "transport.h"

/* PKCS#11 3.0 names that p11-kit 0.24's 2.40 header lacks. */
#ifndef CKO_PROFILE
#define CKO_PROFILE 0x00000009UL
#endif
#ifndef CKA_PROFILE_ID
#define CKA_PROFILE_ID 0x00000601UL
#endif
#ifndef CKP_PUBLIC_CERTIFICATES_TOKEN
#define CKP_PUBLIC_CERTIFICATES_TOKEN 0x00000004UL
#endif
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL
#endif
#ifndef CK_CERTIFICATE_CATEGORY_TOKEN_USER
#define CK_CERTIFICATE_CATEGORY_TOKEN_USER 1UL
#endif
#ifndef CK_CERTIFICATE_CATEGORY_AUTHORITY
#define CK_CERTIFICATE_CATEGORY_AUTHORITY 2UL
#endif

/* CK_INTERFACE and the head of CK_FUNCTION_LIST_3_0 (PKCS#11 3.0, 5.16),
 * under our own names so that no header of the module can clash. */
struct mt_interface {
    CK_UTF8CHAR *pInterfaceName;
    void *pFunctionList;
    CK_FLAGS flags;
};

struct mt_function_list_3_0 {
    CK_FUNCTION_LIST v2;  /* the version and the 68 functions of 2.40 */
    CK_RV (*C_GetInterfaceList)(struct mt_interface *list, CK_ULONG *count);
    CK_RV (*C_GetInterface)(CK_UTF8CHAR *name, CK_VERSION *version,
                            struct mt_interface **iface, CK_FLAGS flags);
    CK_RV (*C_LoginUser)(CK_SESSION_HANDLE s, CK_USER_TYPE type,
                         CK_UTF8CHAR *pin, CK_ULONG pin_len,
                         CK_UTF8CHAR *user, CK_ULONG user_len);
    CK_RV (*C_SessionCancel)(CK_SESSION_HANDLE s, CK_FLAGS flags);
    CK_RV (*C_MessageEncryptInit)(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                  CK_OBJECT_HANDLE key);
    void (*message_rest[19])(void);  /* the other message functions */
};

/* The 3.0 entry points, exported by the module beside C_GetFunctionList. */
CK_RV C_GetInterfaceList(struct mt_interface *list, CK_ULONG *count);
CK_RV C_GetInterface(CK_UTF8CHAR *name, CK_VERSION *version,
                     struct mt_interface **iface, CK_FLAGS flags);

#define MT_AUTH_PIN "1234"
#define MT_SIGN_PIN "ABC123"
#define MT_SIG_LEN 256u

enum mt_role { MT_AUTH = 0, MT_SIGN = 1 };  /* as emu_card_tries() */
enum mt_cert { MT_CERT_AUTH, MT_CERT_AUTH_CA, MT_CERT_SIGN, MT_CERT_SIGN_CA,
               MT_CERT_N };

/* Counts what the module sends to the card; sits between the hub and the
 * virtual card.  All fields are updated atomically from any thread. */
struct mt_spy {
    struct tp_card_cb inner;
    atomic_ulong apdus;
    atomic_ulong verify_pin;   /* VERIFY carrying a PIN */
    atomic_ulong verify_query; /* VERIFY without data: tries left */
    atomic_ulong change_pin;   /* CHANGE REFERENCE DATA */
    atomic_ulong sign_cmds;    /* COMPUTE DIGITAL SIGNATURE */
    atomic_ulong challenges;   /* GET CHALLENGE */
    atomic_ulong resets;       /* power cycles asked for by the module */
    atomic_ulong overlaps;     /* APDUs sent while another was in flight */
    atomic_int inflight;
};

/* A spy counter's value (a function, so that assertion messages stay
 * readable). */
static inline unsigned long mt_spied(atomic_ulong *counter)
{
    return atomic_load(counter);
}

struct mt_open_opts {
    enum mynacard_variant variant;
    unsigned nreaders;             /* 0 means 1 */
    bool empty;                    /* leave every reader empty */
    bool no_init;                  /* do not call C_Initialize */
    int tmpl;                      /* 0 the first card, 1 the second */
    const struct emu_options *emu; /* NULL: defaults */
};

/* The current test's world.  Written by the fixture, read by the tests. */
struct mt_fx {
    char dir[PATH_MAX];
    struct emu_card *card;
    struct tp_card_cb cb;       /* the spy's callbacks, inserted in the hub */
    struct mt_spy spy;
    struct tp_hub *hub;
    unsigned reader;            /* where the card is (or goes) */
    enum mynacard_variant variant;
    CK_FUNCTION_LIST *f;
    bool initialized;
    bool has_auth, has_sign;
    CK_SLOT_ID auth_slot, sign_slot;
};
extern struct mt_fx fx;

/* ---- Fixtures ---- */

/* Unchecked fixtures: make the virtual card(s) once per program. */
void mt_template_setup(void);
void mt_template2_setup(void);
void mt_template_teardown(void);

/* Checked fixtures: a fresh copy of the card in a hub, module initialised
 * (mt_setup) or not (mt_setup_noinit). */
void mt_setup(void);
void mt_setup_noinit(void);
void mt_teardown(void);

/* Close what a checked fixture opened, then open again with @o. */
void mt_open(const struct mt_open_opts *o);
void mt_close(void);

/* A test case of @s with the fixtures above and a long timeout; @s runs
 * its test cases in the order they were made. */
TCase *mt_tcase(Suite *s, const char *name, bool init);
TCase *mt_tcase2(Suite *s, const char *name, bool init); /* and card two */
/* Each test file names its program's suite and adds its test cases to
 * it (check_suite_name, check_add_suite_tests()); main() is check-run's. */

/* ---- The module ---- */

void mt_init(void);                 /* C_Initialize(NULL), asserts OK */
void mt_finalize(void);             /* C_Finalize(NULL), asserts OK */
void mt_reinit(enum mynacard_variant v);  /* finalize, set @v, initialize */
/* Find the auth and sign slots among the present tokens by their PIN
 * lengths (4 and 6); sets fx.has_auth/has_sign. */
void mt_find_slots(void);
CK_ULONG mt_slot_count(CK_BBOOL present);
CK_SESSION_HANDLE mt_session(CK_SLOT_ID slot);
/* A read/write session (C_SetPIN needs one). */
CK_SESSION_HANDLE mt_session_rw(CK_SLOT_ID slot);
void mt_login(CK_SESSION_HANDLE s, const char *pin);
/* The token's slot, session and PIN by role. */
CK_SLOT_ID mt_slot(enum mt_role r);
const char *mt_pin(enum mt_role r);
CK_SESSION_HANDLE mt_session_login(enum mt_role r);
CK_TOKEN_INFO mt_token_info(CK_SLOT_ID slot);

/* Objects. */
CK_ULONG mt_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                 CK_OBJECT_HANDLE *out, CK_ULONG cap);
CK_ULONG mt_find_class(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                       CK_OBJECT_HANDLE *out, CK_ULONG cap);
/* Exactly one object of @cls; asserts. */
CK_OBJECT_HANDLE mt_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls);
/* The certificate whose CKA_VALUE is the card's @which; asserts one. */
CK_OBJECT_HANDLE mt_cert_obj(CK_SESSION_HANDLE s, enum mt_cert which);
/* An attribute's value (malloc'd, caller frees); asserts CKR_OK. */
unsigned char *mt_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE t, CK_ULONG *len);
CK_ULONG mt_attr_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE t);
CK_BBOOL mt_attr_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE t);
bool mt_attr_eq(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                const void *val, size_t len);

/* Signing: C_SignInit, C_Login(CKU_CONTEXT_SPECIFIC, @ctx_pin) if not
 * NULL, C_Sign.  Returns the first failure. */
CK_RV mt_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE m,
              const void *data, size_t len, unsigned char *sig,
              CK_ULONG *siglen, const char *ctx_pin);
/* Is @sig a valid signature of @data under @mech by the certificate @der? */
bool mt_verify(const unsigned char *der, size_t derlen, CK_MECHANISM_TYPE m,
               const void *data, size_t len, const unsigned char *sig,
               size_t siglen);
const EVP_MD *mt_md(CK_MECHANISM_TYPE m);   /* NULL for CKM_RSA_PKCS */
/* A DER DigestInfo of SHA-256(@data) in @out (51 bytes). */
size_t mt_digest_info(const void *data, size_t len, unsigned char out[64]);

/* ---- The virtual card ---- */

/* The DER the virtual card holds (read by raw APDUs when it was made). */
const unsigned char *mt_cert_der(enum mt_cert which, size_t *len);
const unsigned char *mt_cert_der2(enum mt_cert which, size_t *len);
int mt_tries(enum mt_role r);
unsigned long mt_apdus(void);               /* emu_card_counters */
/* Remove the card from its reader (and power it off), insert it again,
 * or reset it as another program would. */
void mt_remove(void);
void mt_insert(unsigned reader);
void mt_reset(void);
/* Raw APDUs straight to the virtual card, bypassing the module.  Return
 * the status word, or -1 on a transport error. */
int mt_raw(const uint8_t *cmd, size_t len, uint8_t *resp, size_t *resplen);
int mt_raw_verify(enum mt_role r, const char *pin);
/* SELECT the JPKI AP and the @r key, COMPUTE DIGITAL SIGNATURE over a
 * DigestInfo: 9000 when the PIN is verified on the card, 6982 when not. */
int mt_raw_sign_probe(enum mt_role r);

/* ---- Small things ---- */

/* A blank-padded PKCS#11 string: no NUL, not all blank. */
bool mt_padded(const CK_UTF8CHAR *p, size_t n);
/* The string without its padding, in @buf. */
const char *mt_unpad(const CK_UTF8CHAR *p, size_t n, char *buf, size_t cap);
bool mt_rv_in(CK_RV rv, const CK_RV *set, size_t n);
#define MT_RV_IN(rv, ...) \
    mt_rv_in((rv), (const CK_RV[]){__VA_ARGS__}, \
             sizeof((const CK_RV[]){__VA_ARGS__}) / sizeof(CK_RV))
void mt_sleep_ms(unsigned ms);

#define ck_assert_rv(got, want) \
    ck_assert_msg((CK_RV)(got) == (CK_RV)(want), \
                  "%s: expected %s (0x%lx), got 0x%lx", #got, #want, \
                  (unsigned long)(want), (unsigned long)(got))

#endif
