/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: the round trips to the card that issue 6's
 * benchmark targets, as counts (never times).  Firefox-style polling
 * (C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo) sends no APDU once a
 * token was read; a warm CKM_RSA_PKCS signature costs at most 2 APDUs
 * (select the key, sign); start-up as NSS does it reads each certificate
 * once per insertion (and of the token information only its label), and
 * the signature certificate once however often the password is given;
 * the one-token modules read nothing of the other token; a warm signature after another program selected
 * another application is refused without any PIN sent again.  The APDUs
 * are counted by the fixture's spy, the files read by the virtual card's
 * APDU log.  Drives the module only through C_GetFunctionList.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char check_suite_name[] = "module-roundtrips";

/* ---- The virtual card's APDU log ---- */

static char logpath[PATH_MAX];

/* Open the fixture's card with an APDU log, the module showing @v's
 * tokens (in place of mt_setup). */
static void open_logged_variant(enum mynacard_variant v)
{
    const char *base = getenv("MYNACARD_TEST_TMP");
    struct emu_options opt;
    int fd;

    snprintf(logpath, sizeof(logpath), "%s/roundtrips-XXXXXX.log",
             base && *base ? base : "/tmp");
    if (base && *base) {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base);
        ck_assert_int_eq(system(cmd), 0);
    }
    fd = mkstemps(logpath, 4);
    ck_assert_int_ge(fd, 0);
    close(fd);
    memset(&opt, 0, sizeof(opt));
    opt.log_path = logpath;
    mt_open(&(struct mt_open_opts){ .variant = v, .emu = &opt });
}

static void open_logged(void)
{
    open_logged_variant(MYNACARD_VARIANT_BOTH);
}

static void close_logged(void)
{
    mt_close();
    if (logpath[0])
        unlink(logpath);
    logpath[0] = '\0';
}

/* How many command lines of the log start with @prefix ("00 A4 02 0C 02
 * 00 0A" is SELECT EF 000A). */
static unsigned log_count(const char *prefix)
{
    char line[2048];
    unsigned n = 0;
    FILE *fp = fopen(logpath, "r");

    ck_assert_msg(fp != NULL, "%s", logpath);
    while (fgets(line, sizeof(line), fp)) {
        if (line[0] == '>' && strncmp(line + 2, prefix, strlen(prefix)) == 0)
            n++;
    }
    fclose(fp);
    return n;
}

#define SELECT_EF(fid) "00 A4 02 0C 02 00 " fid
#define READ_AT_0 "00 B0 00 00"

/* What NSS does at start-up on one token: information, a session, random
 * bytes, every object and its value. */
static void nss_startup_token(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE objs[16];
    CK_ULONG n;
    unsigned char rnd[32];

    (void)mt_token_info(slot);
    s = mt_session(slot);
    ck_assert_rv(fx.f->C_GenerateRandom(s, rnd, sizeof(rnd)), CKR_OK);
    n = mt_find(s, NULL, 0, objs, 16);
    ck_assert_uint_gt(n, 0);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
        CK_RV rv = fx.f->C_GetAttributeValue(s, objs[i], &a, 1);

        ck_assert(MT_RV_IN(rv, CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID,
                           CKR_ATTRIBUTE_SENSITIVE));
    }
}

/* ---- Polling ---- */

START_TEST(test_poll_sends_no_apdu)
{
    CK_SLOT_ID slots[8];
    unsigned long before;

    /* The first look at the tokens reads the card. */
    (void)mt_token_info(mt_slot(MT_AUTH));
    (void)mt_token_info(mt_slot(MT_SIGN));
    before = mt_spied(&fx.spy.apdus);
    ck_assert_uint_gt(before, 0);
    /* A minute of Firefox: every 3 s, every slot (time compressed). */
    for (int round = 0; round < 20; round++) {
        CK_ULONG n = 8;

        ck_assert_rv(fx.f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
        for (CK_ULONG i = 0; i < n; i++) {
            CK_SLOT_INFO si;

            ck_assert_rv(fx.f->C_GetSlotInfo(slots[i], &si), CKR_OK);
            if (si.flags & CKF_TOKEN_PRESENT)
                (void)mt_token_info(slots[i]);
        }
    }
    ck_assert_uint_eq(mt_spied(&fx.spy.apdus), before);
}
END_TEST

/* ---- Warm signatures ---- */

START_TEST(test_warm_signature_two_apdus)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    unsigned char di[64], sig[MT_SIG_LEN];
    size_t dilen = mt_digest_info("tls", 3, di);
    CK_ULONG siglen = sizeof(sig);

    /* The first signature after the login. */
    ck_assert_rv(mt_sign(s, key, CKM_RSA_PKCS, di, dilen, sig, &siglen,
                         NULL), CKR_OK);
    for (int i = 0; i < 5; i++) {
        unsigned long apdus = mt_spied(&fx.spy.apdus);
        unsigned long cmds = mt_spied(&fx.spy.sign_cmds);

        siglen = sizeof(sig);
        ck_assert_rv(mt_sign(s, key, CKM_RSA_PKCS, di, dilen, sig, &siglen,
                             NULL), CKR_OK);
        ck_assert_uint_le(mt_spied(&fx.spy.apdus) - apdus, 2);
        ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds) - cmds, 1);
    }
}
END_TEST

START_TEST(test_warm_signature_after_other_application)
{
    /* 券面事項入力補助AP: another program reads the card between ours. */
    static const uint8_t select_other[] = {
        0x00, 0xA4, 0x04, 0x0C, 0x0A,
        0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08,
    };
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    unsigned char di[64], sig[MT_SIG_LEN], resp[16];
    size_t dilen = mt_digest_info("tls", 3, di), rlen = sizeof(resp);
    CK_ULONG siglen = sizeof(sig);
    unsigned long pins;

    ck_assert_rv(mt_sign(s, key, CKM_RSA_PKCS, di, dilen, sig, &siglen,
                         NULL), CKR_OK);
    pins = mt_spied(&fx.spy.verify_pin);
    ck_assert_int_eq(mt_raw(select_other, sizeof(select_other), resp, &rlen),
                     0x9000);
    /* Leaving the JPKI AP dropped the PIN on the (virtual) card: the
     * module selects its application again, the card refuses to sign, and
     * the token is logged out; the PIN is never sent again. */
    siglen = sizeof(sig);
    ck_assert_rv(mt_sign(s, key, CKM_RSA_PKCS, di, dilen, sig, &siglen,
                         NULL), CKR_USER_NOT_LOGGED_IN);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    /* A new login works and signs in the application again. */
    mt_login(s, MT_AUTH_PIN);
    siglen = sizeof(sig);
    ck_assert_rv(mt_sign(s, key, CKM_RSA_PKCS, di, dilen, sig, &siglen,
                         NULL), CKR_OK);
}
END_TEST

/* ---- Certificates read once per insertion ---- */

START_TEST(test_startup_reads_each_cert_once)
{
    open_logged();
    /* NSS's start-up, twice over (a second profile, a second look). */
    for (int k = 0; k < 2; k++) {
        nss_startup_token(mt_slot(MT_AUTH));
        nss_startup_token(mt_slot(MT_SIGN));
    }
    ck_assert_uint_eq(log_count(SELECT_EF("0A")), 1);
    ck_assert_uint_eq(log_count(SELECT_EF("0B")), 1);
    ck_assert_uint_eq(log_count(SELECT_EF("02")), 1);
    /* The signature certificate needs the password: not read at all. */
    ck_assert_uint_eq(log_count(SELECT_EF("01")), 0);
    /* Three certificates and the token information, each from its start
     * once; of the token information only the 32 bytes of its label. */
    ck_assert_uint_eq(log_count(READ_AT_0), 4);
    ck_assert_uint_eq(log_count(SELECT_EF("06")), 1);
    ck_assert_uint_eq(log_count(READ_AT_0 " 20"), 1);
    close_logged();
}
END_TEST

START_TEST(test_sign_cert_read_once)
{
    CK_SESSION_HANDLE s;

    open_logged();
    s = mt_session_login(MT_SIGN);
    (void)mt_cert_obj(s, MT_CERT_SIGN);
    /* Logging out resets the card; the certificate, personal data, stays
     * in memory only, and is not read again at the next login. */
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    mt_login(s, MT_SIGN_PIN);
    {
        size_t len = 0;
        const unsigned char *der = mt_cert_der(MT_CERT_SIGN, &len);

        ck_assert(mt_attr_eq(s, mt_cert_obj(s, MT_CERT_SIGN), CKA_VALUE,
                             der, len));
    }
    ck_assert_uint_eq(log_count(SELECT_EF("01")), 1);
    close_logged();
}
END_TEST

/* The one-token modules read only what their token shows: the
 * authentication certificate (both serial numbers come from it), their own
 * CA certificate and their own PIN's tries. */
static void one_token_reads_its_own(bool auth)
{
    open_logged_variant(auth ? MYNACARD_VARIANT_AUTH_ONLY
                             : MYNACARD_VARIANT_SIGN_ONLY);
    ck_assert(fx.has_auth == auth && fx.has_sign == !auth);
    nss_startup_token(auth ? fx.auth_slot : fx.sign_slot);
    ck_assert_uint_eq(log_count(SELECT_EF("0A")), 1);
    ck_assert_uint_eq(log_count(SELECT_EF("0B")), auth);  /* auth CA */
    ck_assert_uint_eq(log_count(SELECT_EF("02")), !auth); /* sign CA */
    ck_assert_uint_eq(log_count(SELECT_EF("18")), auth);  /* auth PIN */
    ck_assert_uint_eq(log_count(SELECT_EF("1B")), !auth); /* sign PIN */
    close_logged();
}

START_TEST(test_one_token_module_reads_its_own)
{
    one_token_reads_its_own(true);
    one_token_reads_its_own(false);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "roundtrips", true);

    check_add_tests(tc, test_poll_sends_no_apdu, test_warm_signature_two_apdus,
                    test_warm_signature_after_other_application,
                    test_startup_reads_each_cert_once, test_sign_cert_read_once,
                    test_one_token_module_reads_its_own);
}
