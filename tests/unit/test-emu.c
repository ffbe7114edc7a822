/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Check tests of the virtual My Number Card (tests/emu/) through raw APDUs:
 * every rule of doc/jpki-card.md the emulator promises, the
 * certificates it makes, its persistence, and each fault of struct
 * emu_options.  SoftHSM key generation is slow, so one card is made once
 * (an unchecked fixture) and each test works on a copy of its directory.
 * Uses the emulator's public header, apdu/ for error codes, and OpenSSL to
 * check certificates and signatures.
 */
#include "emu.h"

#include "apdu.h"
#include "cardinfo.h"
#include "check-run.h"
#include "myna-err.h"
#include "transport.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define AID_JPKI "D392F000260100000001"
#define AID_INPUT "D39210003100010104 08"
#define AID_FACE "D3921000310001010402"
#define AID_JUKI "D3921000310001010401"
#define AID_MFG "D3921000310001010100"
#define RESP_CAP (65536u + 512u)

static char base_dir[PATH_MAX];    /* the card made once */
static char custom_dir[PATH_MAX];  /* an expired card with custom data */
static char test_dir[PATH_MAX];    /* this test's copy */
static struct emu_card *card;      /* this test's card, on test_dir */
static uint8_t resp[RESP_CAP];

/* ---- Helpers ---- */

static void run_cmd(const char *prog, const char *a1, const char *a2,
                    const char *a3)
{
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execlp(prog, prog, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void make_tmpdir(char *out)
{
    const char *root = getenv("MYNACARD_TEST_TMP");

    if (!root || !root[0])
        root = "/tmp";
    mkdir(root, 0700);
    snprintf(out, PATH_MAX, "%s/emu-XXXXXX", root);
    ck_assert_ptr_nonnull(mkdtemp(out));
}

/* rm -rf without assertions, for main(). */
static void remove_tree(const char *dir)
{
    pid_t pid;

    if (!dir[0])
        return;
    pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static void remove_dir(char *dir)
{
    if (dir[0])
        run_cmd("rm", "-rf", dir, NULL);
    dir[0] = '\0';
}

/* A fresh copy of the card in @src: PIN counters may change freely. */
static void copy_card(const char *src, char *dst)
{
    char from[PATH_MAX + 8];

    make_tmpdir(dst);
    snprintf(from, sizeof(from), "%s/.", src);
    run_cmd("cp", "-a", from, dst);
}

/* @opt with its profile made classic unless it names one: most tests
 * here pin the first model; the "profiles" case tests the others. */
static struct emu_options with_profile(const struct emu_options *opt)
{
    struct emu_options o = { 0 };

    if (opt)
        o = *opt;
    if (o.profile == EMU_PROFILE_DEFAULT)
        o.profile = EMU_PROFILE_CLASSIC;
    return o;
}

static struct emu_card *open_copy(const struct emu_options *opt)
{
    struct emu_options o = with_profile(opt);
    struct emu_card *c = NULL;

    copy_card(base_dir, test_dir);
    ck_assert_int_eq(emu_card_open(test_dir, &o, &c), 0);
    card = c;
    return c;
}

static void reopen(const struct emu_options *opt)
{
    struct emu_options o = with_profile(opt);

    emu_card_close(card);
    card = NULL;
    ck_assert_int_eq(emu_card_open(test_dir, &o, &card), 0);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int v;

        if (*hex == ' ')
            continue;
        if (*hex >= '0' && *hex <= '9')
            v = *hex - '0';
        else if (*hex >= 'A' && *hex <= 'F')
            v = *hex - 'A' + 10;
        else if (*hex >= 'a' && *hex <= 'f')
            v = *hex - 'a' + 10;
        else
            ck_abort_msg("bad hex %s", hex);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_int_lt(hi, 0);
    return n;
}

/* Send @cmd; return the SW, the data in @out (if not NULL). */
static uint16_t xfer_bytes(struct emu_card *c, const uint8_t *cmd, size_t n,
                           uint8_t *out, size_t *outlen)
{
    size_t rl = 0;

    ck_assert_int_eq(emu_card_apdu(c, cmd, n, resp, sizeof(resp), &rl), 0);
    ck_assert_uint_ge(rl, 2);
    if (out)
        memcpy(out, resp, rl - 2);
    if (outlen)
        *outlen = rl - 2;
    return (uint16_t)(resp[rl - 2] << 8 | resp[rl - 1]);
}

static uint16_t xfer(struct emu_card *c, const char *hex, uint8_t *out,
                     size_t *outlen)
{
    uint8_t cmd[600];

    return xfer_bytes(c, cmd, unhex(hex, cmd), out, outlen);
}

static uint16_t select_ef(struct emu_card *c, uint16_t fid)
{
    uint8_t cmd[] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, (uint8_t)(fid >> 8),
                      (uint8_t)fid };

    return xfer_bytes(c, cmd, sizeof(cmd), NULL, NULL);
}

static void select_jpki(struct emu_card *c)
{
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_JPKI, NULL, NULL), 0x9000);
}

static uint16_t verify(struct emu_card *c, int role, const char *pin)
{
    uint8_t cmd[64] = { 0x00, 0x20, 0x00, 0x80 };
    size_t n = strlen(pin);

    ck_assert_uint_eq(select_ef(c, role ? 0x001B : 0x0018), 0x9000);
    if (n == 0)
        return xfer_bytes(c, cmd, 4, NULL, NULL);
    cmd[4] = (uint8_t)n;
    memcpy(cmd + 5, pin, n);
    return xfer_bytes(c, cmd, 5 + n, NULL, NULL);
}

static uint16_t read_at(struct emu_card *c, size_t off, unsigned le,
                        uint8_t *out, size_t *outlen)
{
    uint8_t cmd[] = { 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off,
                      (uint8_t)le };

    return xfer_bytes(c, cmd, sizeof(cmd), out, outlen);
}

/* The whole of file @fid, 256 bytes at a time, up to 6B00 or a short
 * answer. */
static size_t read_file(struct emu_card *c, uint16_t fid, uint8_t *out,
                        size_t cap)
{
    size_t off = 0, n;
    uint16_t sw;

    ck_assert_uint_eq(select_ef(c, fid), 0x9000);
    for (;;) {
        ck_assert_uint_le(off + 256, cap);
        sw = read_at(c, off, 0, out + off, &n);
        if (sw == 0x6B00)
            break;
        ck_assert_uint_eq(sw, 0x9000);
        off += n;
        if (n < 256)
            break;
    }
    return off;
}

/* The certificate in @fid (the JPKI AP selected). */
static X509 *read_cert(struct emu_card *c, uint16_t fid)
{
    static uint8_t buf[8192];
    const unsigned char *p = buf;
    size_t len = read_file(c, fid, buf, sizeof(buf));
    X509 *x;

    ck_assert_uint_gt(len, 4);
    x = d2i_X509(NULL, &p, (long)len);
    ck_assert_ptr_nonnull(x);
    return x;
}

static X509 *load_pem_cert(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    FILE *f;
    X509 *x;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    return x;
}

/* The SHA-256 DigestInfo of @msg, as every client sends it. */
static size_t digest_info(const char *msg, uint8_t *out)
{
    static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
                                      0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                      0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
                                      0x20 };
    unsigned int n = 32;

    memcpy(out, prefix, sizeof(prefix));
    ck_assert(EVP_Digest(msg, strlen(msg), out + sizeof(prefix), &n,
                         EVP_sha256(), NULL));
    return sizeof(prefix) + n;
}

static uint16_t sign(struct emu_card *c, uint16_t key, const char *msg,
                     uint8_t *sig, size_t *siglen)
{
    uint8_t cmd[300] = { 0x80, 0x2A, 0x00, 0x80 };
    size_t n;

    ck_assert_uint_eq(select_ef(c, key), 0x9000);
    n = digest_info(msg, cmd + 5);
    cmd[4] = (uint8_t)n;
    cmd[5 + n] = 0x00;
    return xfer_bytes(c, cmd, 6 + n, sig, siglen);
}

static void check_signature(X509 *x, const char *msg, const uint8_t *sig,
                            size_t siglen)
{
    EVP_PKEY *pub = X509_get0_pubkey(x);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    ck_assert_ptr_nonnull(pub);
    ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub),
                     1);
    ck_assert_int_eq(EVP_DigestVerify(md, sig, siglen,
                                      (const unsigned char *)msg,
                                      strlen(msg)),
                     1);
    EVP_MD_CTX_free(md);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 20);
    size_t n;

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(buf);
    n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ---- Fixtures ---- */

static void make_base(void)
{
    struct emu_init_params p;

    if (base_dir[0])
        return;
    make_tmpdir(base_dir);
    emu_init_params_default(&p);
    ck_assert_int_eq(emu_card_init(base_dir, &p), 0);
}

static void make_custom(void)
{
    struct emu_init_params p;

    if (custom_dir[0])
        return;
    make_tmpdir(custom_dir);
    emu_init_params_default(&p);
    p.not_before_days = -30;
    p.valid_days = 10;
    p.serial = 0x1234;
    p.name_alt = "テスト";
    p.address_alt = "一番町";
    p.token_label = "JPKIAPICCTOKEN";
    p.auth_pin = "9876";
    p.sign_pin = "PASSWORD1";
    p.city = "Sapporo-shi";
    p.sex = "3";
    p.birth = "419900101";
    p.text_pin = "5678";
    p.mfg_number = "ZZ 0000000042";
    ck_assert_int_eq(emu_card_init(custom_dir, &p), 0);
}

static void teardown_test(void)
{
    emu_card_close(card);
    card = NULL;
    remove_dir(test_dir);
}

/* ---- Applications and files ---- */

START_TEST(test_select_applications)
{
    struct emu_card *c = open_copy(NULL);

    /* Nothing is selected after reset: no file can be. */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A40000", NULL, NULL), 0x6A86);
    ck_assert_uint_eq(xfer(c, "00A4000C023F00", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4040C0AD392F000260100000002", NULL, NULL),
                      0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_INPUT, NULL, NULL), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_FACE, NULL, NULL), 0x9000);
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_JUKI, NULL, NULL), 0x9000);
    select_jpki(c);
    ck_assert_uint_eq(xfer(c, "00A4020C023F00", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4000C023F00", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4080C023F00", NULL, NULL), 0x6A86);
    ck_assert_uint_eq(xfer(c, "00A4020C03000A00", NULL, NULL), 0x6700);
    /* An unknown AID leaves the JPKI AP selected. */
    ck_assert_uint_eq(xfer(c, "00A4040C0AD392F000260100000002", NULL, NULL),
                      0x6A82);
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
}
END_TEST

START_TEST(test_select_files)
{
    static const uint16_t fids[] = { 0x000A, 0x000B, 0x0001, 0x0002, 0x0006,
                                     0x0008, 0x0017, 0x0018, 0x001A,
                                     0x001B };
    struct emu_card *c = open_copy(NULL);
    size_t i;

    select_jpki(c);
    for (i = 0; i < sizeof(fids) / sizeof(fids[0]); i++)
        ck_assert_uint_eq(select_ef(c, fids[i]), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0003), 0x6A82);
    ck_assert_uint_eq(select_ef(c, 0x0019), 0x6A82);
    /* P2 00 works too (no FCI). */
    ck_assert_uint_eq(xfer(c, "00A4020002000A", NULL, NULL), 0x9000);
    ck_assert_uint_eq(xfer(c, "00A40000 02000A", NULL, NULL), 0x9000);
}
END_TEST

START_TEST(test_read_certificate_padding)
{
    static uint8_t buf[8192];
    struct emu_card *c = open_copy(NULL);
    size_t len, der, i, n;

    select_jpki(c);
    len = read_file(c, 0x000A, buf, sizeof(buf));
    ck_assert_uint_ge(len, 2048);
    ck_assert_uint_eq(len % 256, 0);
    /* The DER length comes from its header: 30 82 hi lo. */
    ck_assert_uint_eq(buf[0], 0x30);
    ck_assert_uint_eq(buf[1], 0x82);
    der = 4 + ((size_t)buf[2] << 8 | buf[3]);
    ck_assert_uint_lt(der, len);
    for (i = der; i < len; i++)
        ck_assert_uint_eq(buf[i], 0xFF);
    /* At the end: fewer bytes, then 6B00 at and past the end. */
    ck_assert_uint_eq(read_at(c, len - 10, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(read_at(c, len, 0, buf, &n), 0x6B00);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(read_at(c, len + 300, 16, buf, &n), 0x6B00);
    /* Le is honoured. */
    ck_assert_uint_eq(read_at(c, 0, 4, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 4);
    /* No Le at all is a wrong length. */
    ck_assert_uint_eq(xfer(c, "00B00000", NULL, NULL), 0x6700);
}
END_TEST

START_TEST(test_read_signature_certificate_needs_password)
{
    struct emu_card *c = open_copy(NULL);
    uint8_t buf[300];
    size_t n;

    select_jpki(c);
    /* Its CA certificate is free. */
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x6982);
    ck_assert_uint_eq(n, 0);
    /* The authentication PIN does not open it. */
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x6982);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    ck_assert_uint_eq(buf[0], 0x30);
}
END_TEST

START_TEST(test_read_short_ef_id)
{
    static uint8_t full[8192], part[300];
    struct emu_card *c = open_copy(NULL);
    size_t n;

    select_jpki(c);
    /* SFI 0A, offset 10, with 000B current. */
    ck_assert_uint_eq(select_ef(c, 0x000B), 0x9000);
    ck_assert_uint_eq(xfer(c, "00B08A0A20", part, &n), 0x9000);
    ck_assert_uint_eq(n, 0x20);
    read_file(c, 0x000A, full, sizeof(full));
    ck_assert_mem_eq(part, full + 10, 0x20);
    /* The SFI read made 000A current. */
    ck_assert_uint_eq(read_at(c, 10, 0x20, part, &n), 0x9000);
    ck_assert_mem_eq(part, full + 10, 0x20);
    ck_assert_uint_eq(xfer(c, "00B0880003", part, &n), 0x9000);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(part, "\x8f\x8f\x00", 3);
    ck_assert_uint_eq(xfer(c, "00B0810000", NULL, NULL), 0x6982);
    ck_assert_uint_eq(xfer(c, "00B0970000", NULL, NULL), 0x6981);
    ck_assert_uint_eq(xfer(c, "00B0980000", NULL, NULL), 0x6981);
    ck_assert_uint_eq(xfer(c, "00B0830000", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00B0A00000", NULL, NULL), 0x6A86);
}
END_TEST

START_TEST(test_read_key_and_pin_files)
{
    static const uint16_t fids[] = { 0x0017, 0x0018, 0x001A, 0x001B };
    struct emu_card *c = open_copy(NULL);
    size_t i;

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    for (i = 0; i < 4; i++) {
        ck_assert_uint_eq(select_ef(c, fids[i]), 0x9000);
        ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x6981);
    }
    /* READ BINARY with no file selected. */
    select_jpki(c);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x6986);
}
END_TEST

START_TEST(test_extended_length)
{
    static uint8_t full[8192], one[8192];
    struct emu_options opt = { 0 };
    struct emu_card *c;
    size_t n, len;

    opt.extended_length = (_i == 1);
    c = open_copy(&opt);
    select_jpki(c);
    len = read_file(c, 0x000A, full, sizeof(full));
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    /* 00 B0 00 00 00 08 00: 2048 bytes in one go. */
    if (!opt.extended_length) {
        ck_assert_uint_eq(xfer(c, "00B00000000800", one, &n), 0x6700);
        return;
    }
    ck_assert_uint_eq(xfer(c, "00B00000000800", one, &n), 0x9000);
    ck_assert_uint_eq(n, 2048);
    ck_assert_mem_eq(one, full, 2048);
    /* Le 00 00 = 65536: the whole file. */
    ck_assert_uint_eq(xfer(c, "00B00000000000", one, &n), 0x9000);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(one, full, len);
}
END_TEST

START_TEST(test_token_info)
{
    struct emu_card *c = open_copy(NULL);
    uint8_t buf[300];
    size_t n;

    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0006), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 160);
    ck_assert_mem_eq(buf, "JPKIAPICCTOKEN2                 ", 32);
    ck_assert_uint_ne(buf[80], ' ');
    ck_assert_uint_eq(select_ef(c, 0x0008), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(buf, "\x8f\x8f\x00", 3);
}
END_TEST

START_TEST(test_command_errors)
{
    struct emu_card *c = open_copy(NULL);
    uint8_t a[300], b[300];
    size_t n;

    select_jpki(c);
    ck_assert_uint_eq(xfer(c, "00CA000000", NULL, NULL), 0x6D00);
    ck_assert_uint_eq(xfer(c, "A0A4040C0A" AID_JPKI, NULL, NULL), 0x6E00);
    ck_assert_uint_eq(xfer(c, "80A4040C0A" AID_JPKI, NULL, NULL), 0x6E00);
    ck_assert_uint_eq(xfer(c, "002A0080020102", NULL, NULL), 0x6E00);
    /* Lc says 10, 3 bytes follow. */
    ck_assert_uint_eq(xfer(c, "00A4040C0AD392F0", NULL, NULL), 0x6700);
    ck_assert_uint_eq(xfer(c, "00A4", NULL, NULL), 0x6700);
    /* GET CHALLENGE: no PIN, random, Le honoured. */
    ck_assert_uint_eq(xfer(c, "0084000008", a, &n), 0x9000);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(xfer(c, "0084000008", b, &n), 0x9000);
    ck_assert_mem_ne(a, b, 8);
    ck_assert_uint_eq(xfer(c, "0084000000", a, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    ck_assert_uint_eq(xfer(c, "00840000", a, &n), 0x6700);
    ck_assert_uint_eq(xfer(c, "0084010008", a, &n), 0x6A86);
    /* GET RESPONSE with nothing pending. */
    ck_assert_uint_eq(xfer(c, "00C0000010", a, &n), 0x6985);
}
END_TEST

START_TEST(test_buffer_small)
{
    struct emu_card *c = open_copy(NULL);
    uint8_t cmd[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
    uint8_t small[100];
    size_t n;

    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), small, sizeof(small),
                                   &n),
                     MYNA_E_BUFFER_SMALL);
}
END_TEST

/* ---- PINs ---- */

START_TEST(test_tries_query)
{
    struct emu_card *c = open_copy(NULL);

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, ""), 0x63C3);
    ck_assert_uint_eq(verify(c, 1, ""), 0x63C5);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    /* Even right after a correct VERIFY: the card cannot tell. */
    ck_assert_uint_eq(verify(c, 0, ""), 0x63C3);
    ck_assert_int_eq(emu_card_tries(c, 0), 3);
    ck_assert_int_eq(emu_card_tries(c, 1), 5);
    /* VERIFY without a PIN file selected. */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    ck_assert_uint_eq(xfer(c, "00200080", NULL, NULL), 0x6986);
    ck_assert_uint_eq(select_ef(c, 0x0018), 0x9000);
    ck_assert_uint_eq(xfer(c, "00200180", NULL, NULL), 0x6A86);
}
END_TEST

START_TEST(test_wrong_pin_costs_one_try)
{
    struct emu_card *c = open_copy(NULL);

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1235"), 0x63C2);
    ck_assert_int_eq(emu_card_tries(c, 0), 2);
    ck_assert_int_eq(emu_card_tries(c, 1), 5);
    ck_assert_uint_eq(verify(c, 0, ""), 0x63C2);
    ck_assert_uint_eq(verify(c, 1, "ABC124"), 0x63C4);
    /* Lowercase is a wrong try: the card compares bytes. */
    ck_assert_uint_eq(verify(c, 1, "abc123"), 0x63C3);
    ck_assert_int_eq(emu_card_tries(c, 1), 3);
    /* A correct PIN resets the counter. */
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_int_eq(emu_card_tries(c, 0), 3);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_int_eq(emu_card_tries(c, 1), 5);
}
END_TEST

START_TEST(test_blocking)
{
    struct emu_card *c = open_copy(NULL);

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "0000"), 0x63C2);
    ck_assert_uint_eq(verify(c, 0, "0000"), 0x63C1);
    ck_assert_uint_eq(verify(c, 0, "0000"), 0x63C0);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x6984);
    ck_assert_uint_eq(verify(c, 0, "0000"), 0x6984);
    ck_assert_uint_eq(verify(c, 0, ""), 0x63C0);
    ck_assert_int_eq(emu_card_tries(c, 0), 0);
    /* Blocked for good, across close and open. */
    reopen(NULL);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x6984);
    ck_assert_int_eq(emu_card_tries(c, 0), 0);
    /* Signing with the blocked PIN's key is refused. */
    ck_assert_uint_eq(sign(c, 0x0017, "x", NULL, NULL), 0x6982);
    /* The other PIN is untouched. */
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
}
END_TEST

START_TEST(test_counter_persists)
{
    struct emu_card *c = open_copy(NULL);
    char path[PATH_MAX + 32];
    char *state;

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, "WRONG1"), 0x63C4);
    ck_assert_uint_eq(verify(c, 1, "WRONG2"), 0x63C3);
    /* Written before the answer: the file says so already. */
    snprintf(path, sizeof(path), "%s/card.state", test_dir);
    state = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(state, "sign_tries=3\n"));
    ck_assert_ptr_nonnull(strstr(state, "auth_tries=3\n"));
    free(state);
    reopen(NULL);
    c = card;
    ck_assert_int_eq(emu_card_tries(c, 1), 3);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, ""), 0x63C3);
}
END_TEST

START_TEST(test_reset_drops_verification)
{
    struct emu_card *c = open_copy(NULL);

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x9000);
    emu_card_reset(c);
    /* The selection is gone too. */
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x6A82);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x6982);
    ck_assert_uint_eq(sign(c, 0x001A, "x", NULL, NULL), 0x6982);
}
END_TEST

START_TEST(test_reselect)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;

    opt.reselect_clears_pin = (_i == 1);
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL),
                      opt.reselect_clears_pin ? 0x6982 : 0x9000);
    /* Selecting another application always drops it. */
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_FACE, NULL, NULL), 0x9000);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x6982);
}
END_TEST

START_TEST(test_change_pin)
{
    struct emu_card *c = open_copy(NULL);

    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0018), 0x9000);
    ck_assert_uint_eq(xfer(c, "002401800435363738", NULL, NULL), 0x6982);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    /* Five digits, a letter: refused. */
    ck_assert_uint_eq(xfer(c, "00240180053536373839", NULL, NULL), 0x6A80);
    ck_assert_uint_eq(xfer(c, "002401800435363741", NULL, NULL), 0x6A80);
    ck_assert_uint_eq(xfer(c, "002400800435363738", NULL, NULL), 0x6A86);
    ck_assert_uint_eq(xfer(c, "002401800435363738", NULL, NULL), 0x9000);
    /* The signature password: 6-16 of A-Z 0-9. */
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_uint_eq(xfer(c, "0024018006616263313233", NULL, NULL), 0x6A80);
    ck_assert_uint_eq(xfer(c, "00240180054142433132", NULL, NULL), 0x6A80);
    ck_assert_uint_eq(xfer(c, "0024018007585955313233 34", NULL, NULL),
                      0x9000);
    reopen(NULL);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x63C2);
    ck_assert_uint_eq(verify(c, 0, "5678"), 0x9000);
    ck_assert_uint_eq(verify(c, 1, "XYU1234"), 0x9000);
}
END_TEST

START_TEST(test_log_redacts_pins)
{
    struct emu_options opt = { 0 };
    char log[PATH_MAX + 32];
    struct emu_card *c;
    char *text;

    copy_card(base_dir, test_dir);
    snprintf(log, sizeof(log), "%s/apdu.log", test_dir);
    opt.log_path = log;
    ck_assert_int_eq(emu_card_open(test_dir, &opt, &card), 0);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(verify(c, 1, "ABC124"), 0x63C4);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x001B), 0x9000);
    ck_assert_uint_eq(xfer(c, "0024018007585955313233 34", NULL, NULL),
                      0x9000);
    emu_card_close(card);
    card = NULL;
    text = slurp(log, NULL);
    ck_assert_ptr_nonnull(strstr(text, "> 00 A4 04 0C 0A D3 92 F0"));
    ck_assert_ptr_nonnull(strstr(text, "< 90 00"));
    ck_assert_ptr_nonnull(strstr(text, "< 63 C4"));
    ck_assert_ptr_nonnull(strstr(text, "> 00 20 00 80 [data redacted]"));
    ck_assert_ptr_null(strstr(text, "31 32 33 34"));
    ck_assert_ptr_null(strstr(text, "41 42 43 31 32 33"));
    ck_assert_ptr_null(strstr(text, "41 42 43 31 32 34"));
    ck_assert_ptr_null(strstr(text, "58 59 55 31"));
    free(text);
}
END_TEST

/* ---- Signatures ---- */

START_TEST(test_sign_verifies)
{
    struct emu_card *c = open_copy(NULL);
    uint16_t key = _i ? 0x001A : 0x0017;
    uint8_t sig[300];
    size_t n;
    X509 *x;

    select_jpki(c);
    ck_assert_uint_eq(sign(c, key, "hello", sig, &n), 0x6982);
    ck_assert_uint_eq(verify(c, _i, _i ? "ABC123" : "1234"), 0x9000);
    x = read_cert(c, _i ? 0x0001 : 0x000A);
    ck_assert_uint_eq(sign(c, key, "hello", sig, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    check_signature(x, "hello", sig, n);
    /* Still verified for a second signature. */
    ck_assert_uint_eq(sign(c, key, "again", sig, &n), 0x9000);
    check_signature(x, "again", sig, n);
    /* The other key needs the other PIN. */
    ck_assert_uint_eq(sign(c, _i ? 0x0017 : 0x001A, "x", sig, &n), 0x6982);
    X509_free(x);
}
END_TEST

START_TEST(test_sign_errors)
{
    struct emu_card *c = open_copy(NULL);
    uint8_t cmd[300] = { 0x80, 0x2A, 0x00, 0x80 };
    size_t n;

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0017), 0x9000);
    ck_assert_uint_eq(xfer(c, "802A0180020102 00", NULL, NULL), 0x6A86);
    ck_assert_uint_eq(xfer(c, "802A0480020102 00", NULL, NULL), 0x6A86);
    /* 246 bytes: more than PKCS#1 type 1 leaves room for. */
    memset(cmd + 5, 0x55, 246);
    cmd[4] = 246;
    cmd[5 + 246] = 0;
    ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 246, NULL, NULL), 0x6700);
    cmd[4] = 245;
    cmd[5 + 245] = 0;
    ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 245, NULL, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    /* One byte works as well; without Le too. */
    ck_assert_uint_eq(xfer(c, "802A00800101", NULL, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    /* Not a key file. */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    ck_assert_uint_eq(xfer(c, "802A0080020102 00", NULL, NULL), 0x6986);
}
END_TEST

START_TEST(test_two_cards_at_once)
{
    char other_dir[PATH_MAX];
    struct emu_card *c = open_copy(NULL), *d = NULL;
    uint8_t sig[300];
    size_t n;
    X509 *x;

    copy_card(base_dir, other_dir);
    ck_assert_int_eq(emu_card_open(other_dir, NULL, &d), 0);
    select_jpki(c);
    select_jpki(d);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(verify(d, 0, "0000"), 0x63C2);
    ck_assert_int_eq(emu_card_tries(c, 0), 3);
    x = read_cert(d, 0x000A);
    ck_assert_uint_eq(verify(d, 0, "1234"), 0x9000);
    ck_assert_uint_eq(sign(d, 0x0017, "two", sig, &n), 0x9000);
    check_signature(x, "two", sig, n);
    ck_assert_uint_eq(sign(c, 0x0017, "one", sig, &n), 0x9000);
    check_signature(x, "one", sig, n);
    emu_card_close(d);
    X509_free(x);
    remove_dir(other_dir);
}
END_TEST

/* ---- Faults ---- */

START_TEST(test_chain_chunk)
{
    static uint8_t full[8192];
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t buf[300], sig[600];
    size_t n, got = 0;
    X509 *x;

    opt.chain_chunk = 100;
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, full, &n), 0x619C);
    ck_assert_uint_eq(n, 100);
    ck_assert_uint_eq(xfer(c, "00C0000000", full + 100, &n), 0x6138);
    ck_assert_uint_eq(n, 100);
    ck_assert_uint_eq(xfer(c, "00C0000000", full + 200, &n), 0x9000);
    ck_assert_uint_eq(n, 56);
    ck_assert_uint_eq(xfer(c, "00C0000000", NULL, NULL), 0x6985);
    /* Le of GET RESPONSE is honoured; another command drops the rest. */
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x619C);
    ck_assert_uint_eq(xfer(c, "00C0000010", buf, &n), 0x618C);
    ck_assert_uint_eq(n, 16);
    ck_assert_mem_eq(buf, full + 100, 16);
    ck_assert_uint_eq(read_at(c, 0, 50, buf, &n), 0x9000);
    ck_assert_uint_eq(n, 50);
    ck_assert_uint_eq(xfer(c, "00C0000000", NULL, NULL), 0x6985);
    /* Same bytes as without chaining. */
    emu_card_close(card);
    ck_assert_int_eq(emu_card_open(test_dir, NULL, &card), 0);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_mem_eq(buf, full, 256);
    /* A chained signature. */
    x = read_cert(c, 0x000A);
    reopen(&opt);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(sign(c, 0x0017, "chained", sig, &n), 0x619C);
    got = n;
    while (1) {
        uint16_t sw = xfer(c, "00C0000000", sig + got, &n);

        got += n;
        if (sw == 0x9000)
            break;
        ck_assert_uint_eq(sw >> 8, 0x61);
    }
    ck_assert_uint_eq(got, 256);
    check_signature(x, "chained", sig, got);
    X509_free(x);
}
END_TEST

START_TEST(test_reset_after)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t cmd[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
    size_t n;

    opt.reset_after = 4;
    c = open_copy(&opt);
    select_jpki(c);                                  /* 1 */
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000); /* 2, 3 */
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);   /* 4 */
    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp),
                                   &n),
                     MYNA_E_CARD_RESET);
    /* Once; the card is as after a reset. */
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x6A82);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, NULL), 0x6982);
    ck_assert_uint_eq(xfer(c, "0084000008", NULL, NULL), 0x9000);
}
END_TEST

START_TEST(test_remove_after)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t cmd[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
    unsigned long apdus;
    size_t n;

    opt.remove_after = 2;
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(xfer_bytes(c, cmd, sizeof(cmd), NULL, NULL), 0x9000);
    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp),
                                   &n),
                     MYNA_E_NO_CARD);
    emu_card_reset(c);
    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp),
                                   &n),
                     MYNA_E_NO_CARD);
    emu_card_counters(c, &apdus, NULL, NULL);
    ck_assert_uint_eq(apdus, 2);
}
END_TEST

START_TEST(test_corrupt)
{
    static uint8_t good[300];
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
    size_t n, gl;

    opt.corrupt = (int)_i;
    opt.corrupt_after = 4;
    c = open_copy(&opt);
    select_jpki(c);                                    /* 1 */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);   /* 2 */
    ck_assert_uint_eq(xfer_bytes(c, cmd, sizeof(cmd), good, &gl), 0x9000);
    ck_assert_uint_eq(gl, 256);                        /* 3 */
    /* From the 4th on, every answer. */
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp,
                                       sizeof(resp), &n),
                         0);
        switch (_i) {
        case EMU_CORRUPT_SW:
            ck_assert_uint_eq(n, 258);
            ck_assert_mem_eq(resp, good, 256);
            ck_assert_uint_eq(resp[256] << 8 | resp[257], 0x6F00);
            break;
        case EMU_CORRUPT_TRUNCATE:
            ck_assert_uint_eq(n, 1);
            break;
        case EMU_CORRUPT_GARBAGE:
            ck_assert_uint_eq(n, 258);
            ck_assert_mem_ne(resp, good, 256);
            break;
        case EMU_CORRUPT_OVERLONG:
            ck_assert_uint_gt(n, 258);
            ck_assert_mem_eq(resp, good, 256);
            break;
        }
    }
}
END_TEST

/* --corrupt-sw and --corrupt-count: one answer, and the status word
 * chosen (a correct VERIFY's 9000 read as "wrong PIN"); the card's state
 * changed all the same. */
START_TEST(test_corrupt_one_sw)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
    size_t n;

    opt.corrupt = EMU_CORRUPT_SW;
    opt.corrupt_sw = 0x63C2;
    opt.corrupt_after = 2;
    opt.corrupt_count = 1;
    c = open_copy(&opt);
    select_jpki(c);                                    /* 1 */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x63C2);   /* 2: corrupted */
    /* The card did select the file; the next answer is whole again. */
    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp),
                                   &n),
                     0);
    ck_assert_uint_eq(n, 258);
    ck_assert_uint_eq(resp[256] << 8 | resp[257], 0x9000);
}
END_TEST

/* --corrupt-ins 20: the first VERIFY with a PIN gets the chosen SW, however
 * many other commands come before it; an empty VERIFY does not count. */
START_TEST(test_corrupt_ins)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;

    opt.corrupt = EMU_CORRUPT_SW;
    opt.corrupt_sw = 0x63C2;
    opt.corrupt_ins = 0x20;
    opt.corrupt_count = 1;
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0018), 0x9000);
    ck_assert_uint_eq(xfer(c, "00200080", NULL, NULL) & 0xFFF0, 0x63C0);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x63C2);    /* it was right */
    ck_assert_uint_eq(emu_card_tries(c, 0), 3);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);    /* once only */
}
END_TEST

START_TEST(test_latency_and_counters)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    struct timespec t0, t1;
    unsigned long apdus, in, out;
    double ms;

    opt.latency_apdu_us = 20000;
    opt.latency_byte_us = 100;
    c = open_copy(&opt);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    select_jpki(c);                                  /* 15 + 2 bytes */
    ck_assert_uint_eq(xfer(c, "0084000010", NULL, NULL), 0x9000); /* 5 + 18 */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
         (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    /* 2 x 20 ms + 40 bytes x 0.1 ms */
    ck_assert_double_ge(ms, 44.0);
    emu_card_counters(c, &apdus, &in, &out);
    ck_assert_uint_eq(apdus, 2);
    ck_assert_uint_eq(in, 20);
    ck_assert_uint_eq(out, 20);
}
END_TEST

START_TEST(test_sign_latency)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    struct timespec t0, t1;
    double ms;

    opt.latency_sign_us = 150000;
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_uint_eq(sign(c, 0x0017, "slow", NULL, NULL), 0x9000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
         (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    ck_assert_double_ge(ms, 150.0);
}
END_TEST

START_TEST(test_callbacks)
{
    struct emu_card *c = open_copy(NULL);
    struct tp_card_cb cb;
    const uint8_t *atr;
    uint8_t cmd[] = { 0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0,
                      0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01 };
    uint8_t r[300];
    size_t n;

    emu_card_callbacks(c, &cb);
    atr = emu_card_atr(c, &n);
    ck_assert_uint_eq(n, 9);
    ck_assert_mem_eq(atr, "\x3B\xE0\x00\xFF\x81\x31\xFE\x45\x14", 9);
    ck_assert_uint_eq(cb.atr_len, 9);
    ck_assert_mem_eq(cb.atr, atr, 9);
    ck_assert_ptr_eq(cb.ctx, c);
    ck_assert_int_eq(cb.xfer(cb.ctx, cmd, sizeof(cmd), r, sizeof(r), &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(r[0] << 8 | r[1], 0x9000);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_ptr_nonnull(cb.reset);
    cb.reset(cb.ctx);
    ck_assert_uint_eq(select_ef(c, 0x0018), 0x6A82);
}
END_TEST

/* The callback transport and apdu_transmit() over the card, with answers
 * chained in chunks of 16 bytes: what the layers above will see. */
START_TEST(test_transport_chained)
{
    static const uint8_t aid[] = { 0xD3, 0x92, 0xF0, 0x00, 0x26,
                                   0x01, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t ef_auth[] = { 0x00, 0x0A }, ef_pin[] = { 0x00, 0x18 },
                         ef_key[] = { 0x00, 0x17 };
    struct emu_options opt = { 0 };
    struct tp_card_cb cb;
    struct transport *t = NULL;
    struct apdu a;
    static uint8_t cert[8192];
    uint8_t di[64], sig[300];
    size_t n, len = 0;
    uint16_t sw;
    X509 *x;
    const unsigned char *p = cert;

    opt.chain_chunk = 16;
    open_copy(&opt);
    emu_card_callbacks(card, &cb);
    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    memset(&a, 0, sizeof(a));
    a.ins = 0xA4;
    a.p1 = 0x04;
    a.p2 = 0x0C;
    a.data = aid;
    a.lc = sizeof(aid);
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);
    a.p1 = 0x02;
    a.data = ef_auth;
    a.lc = 2;
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);
    memset(&a, 0, sizeof(a));
    a.ins = 0xB0;
    a.le = 256;
    for (;;) {
        a.p1 = (uint8_t)(len >> 8);
        a.p2 = (uint8_t)len;
        ck_assert_int_eq(apdu_transmit(t, &a, cert + len, 256, &n, &sw), 0);
        if (sw == 0x6B00)
            break;
        ck_assert_uint_eq(sw, 0x9000);
        ck_assert_uint_eq(n, 256);
        len += n;
    }
    x = d2i_X509(NULL, &p, (long)len);
    ck_assert_ptr_nonnull(x);
    memset(&a, 0, sizeof(a));
    a.ins = 0xA4;
    a.p1 = 0x02;
    a.p2 = 0x0C;
    a.data = ef_pin;
    a.lc = 2;
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    a.ins = 0x20;
    a.p1 = 0x00;
    a.p2 = 0x80;
    a.data = (const uint8_t *)"1234";
    a.lc = 4;
    a.secret = true;
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);
    memset(&a, 0, sizeof(a));
    a.ins = 0xA4;
    a.p1 = 0x02;
    a.p2 = 0x0C;
    a.data = ef_key;
    a.lc = 2;
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    a.cla = 0x80;
    a.ins = 0x2A;
    a.p1 = 0x00;
    a.p2 = 0x80;
    a.lc = digest_info("over the transport", di);
    a.data = di;
    a.le = 256;
    ck_assert_int_eq(apdu_transmit(t, &a, sig, sizeof(sig), &n, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);
    ck_assert_uint_eq(n, 256);
    check_signature(x, "over the transport", sig, n);
    X509_free(x);
    tp_free(t);
}
END_TEST

struct thread_arg {
    struct emu_card *c;
    int bad;
};

static void *hammer(void *p)
{
    struct thread_arg *t = p;
    uint8_t cmd[] = { 0x00, 0x84, 0x00, 0x00, 0x20 };
    uint8_t r[300];
    size_t n;
    int i;

    for (i = 0; i < 100; i++) {
        if (emu_card_apdu(t->c, cmd, sizeof(cmd), r, sizeof(r), &n) != 0 ||
            n != 0x22 || r[0x20] != 0x90)
            t->bad++;
    }
    return NULL;
}

START_TEST(test_threads)
{
    struct emu_card *c = open_copy(NULL);
    struct thread_arg args[4];
    pthread_t th[4];
    unsigned long apdus, in, out;
    int i;

    for (i = 0; i < 4; i++) {
        args[i].c = c;
        args[i].bad = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].bad, 0);
    }
    emu_card_counters(c, &apdus, &in, &out);
    ck_assert_uint_eq(apdus, 400);
    ck_assert_uint_eq(in, 400 * 5);
    ck_assert_uint_eq(out, 400 * 0x22);
}
END_TEST

/* ---- Certificates ---- */

static int name_count(X509_NAME *n, int nid)
{
    int i, k = 0;

    for (i = X509_NAME_get_index_by_NID(n, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(n, nid, i))
        k++;
    return k;
}

static bool name_has(X509_NAME *n, int nid, const char *value)
{
    int i;

    for (i = X509_NAME_get_index_by_NID(n, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(n, nid, i)) {
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
        unsigned char *u = NULL;
        int len = ASN1_STRING_to_UTF8(&u, s);
        bool eq = len >= 0 && (size_t)len == strlen(value) &&
                  memcmp(u, value, (size_t)len) == 0;

        OPENSSL_free(u);
        if (eq)
            return true;
    }
    return false;
}

static void check_rsa2048(X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    BIGNUM *e = NULL;

    ck_assert_int_eq(EVP_PKEY_get_base_id(pk), EVP_PKEY_RSA);
    ck_assert_int_eq(EVP_PKEY_get_bits(pk), 2048);
    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e));
    ck_assert(BN_is_word(e, 65537));
    BN_free(e);
    ck_assert_int_eq(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
}

static void check_issued_by(X509 *x, X509 *ca, const char *ou)
{
    X509_NAME *iss = X509_get_issuer_name(x);

    ck_assert_int_eq(X509_NAME_cmp(iss, X509_get_subject_name(ca)), 0);
    ck_assert(name_has(iss, NID_countryName, "JP"));
    ck_assert(name_has(iss, NID_organizationName, "JPKI"));
    ck_assert(name_has(iss, NID_organizationalUnitName, ou));
    ck_assert(name_has(iss, NID_organizationalUnitName,
                       "Japan Agency for Local Authority Information "
                       "Systems"));
    ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(ca)), 1);
    ck_assert_int_eq(X509_verify(ca, X509_get0_pubkey(ca)), 1);
}

START_TEST(test_auth_certificate)
{
    struct emu_card *c = open_copy(NULL);
    X509 *x, *ca, *pem;
    X509_NAME *sub;
    time_t now = time(NULL);
    int diff_days, diff_secs;

    select_jpki(c);
    x = read_cert(c, 0x000A);
    ca = read_cert(c, 0x000B);
    check_rsa2048(x);
    check_rsa2048(ca);
    check_issued_by(x, ca, "JPKI for user authentication");
    sub = X509_get_subject_name(x);
    ck_assert_int_eq(X509_NAME_entry_count(sub), 2);
    ck_assert(name_has(sub, NID_countryName, "JP"));
    ck_assert_int_eq(name_count(sub, NID_commonName), 1);
    ck_assert_int_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    ck_assert_int_lt(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), 0);
    /* Five years from now. */
    ck_assert_int_le(X509_cmp_time(X509_get0_notBefore(x), &now), 0);
    ck_assert(ASN1_TIME_diff(&diff_days, &diff_secs, X509_get0_notBefore(x),
                             X509_get0_notAfter(x)));
    ck_assert_int_eq(diff_days, 5 * 365 + 1);
    /* The CA's PEM files in the directory are the ones on the card. */
    pem = load_pem_cert(test_dir, "ca-auth.crt.pem");
    ck_assert_int_eq(X509_cmp(pem, ca), 0);
    X509_free(pem);
    X509_free(ca);
    X509_free(x);
}
END_TEST

/* The otherName under 1.2.392.200149.8.5.5.@arc, or NULL. */
static char *san_value(X509 *x, int arc)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
                                           NULL);
    char want[40], got[64];
    char *out = NULL;
    int i;

    ck_assert_ptr_nonnull(gens);
    snprintf(want, sizeof(want), "1.2.392.200149.8.5.5.%d", arc);
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        ASN1_OBJECT *oid;
        ASN1_TYPE *val;

        ck_assert_int_eq(g->type, GEN_OTHERNAME);
        ck_assert(GENERAL_NAME_get0_otherName(g, &oid, &val));
        OBJ_obj2txt(got, sizeof(got), oid, 1);
        if (strcmp(got, want) != 0)
            continue;
        ck_assert_int_eq(val->type, V_ASN1_UTF8STRING);
        free(out); /* a second one: the last wins */
        out = strndup((const char *)ASN1_STRING_get0_data(
                          val->value.utf8string),
                      (size_t)ASN1_STRING_length(val->value.utf8string));
    }
    GENERAL_NAMES_free(gens);
    return out;
}

static void check_san(X509 *x, int arc, const char *want)
{
    char *v = san_value(x, arc);

    if (!want) {
        ck_assert_ptr_null(v);
        return;
    }
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, want);
    free(v);
}

START_TEST(test_sign_certificate)
{
    struct emu_card *c = open_copy(NULL);
    struct emu_init_params d;
    X509 *x, *ca;
    X509_NAME *sub;

    emu_init_params_default(&d);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    x = read_cert(c, 0x0001);
    ca = read_cert(c, 0x0002);
    check_rsa2048(x);
    check_issued_by(x, ca, "JPKI for digital signature");
    sub = X509_get_subject_name(x);
    ck_assert(name_has(sub, NID_countryName, "JP"));
    ck_assert(name_has(sub, NID_localityName, d.city));
    ck_assert_int_eq(name_count(sub, NID_commonName), 1);
    ck_assert_int_eq(X509_get_key_usage(x),
                     KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
    check_san(x, 1, d.name);
    check_san(x, 2, NULL);
    check_san(x, 3, d.sex);
    check_san(x, 4, d.birth);
    check_san(x, 5, d.address);
    check_san(x, 6, NULL);
    X509_free(ca);
    X509_free(x);
}
END_TEST

START_TEST(test_custom_card)
{
    struct emu_card *c = NULL, *b = NULL;
    uint8_t ti[300], bti[300];
    size_t n;
    time_t now = time(NULL);
    X509 *auth, *sig;
    ASN1_INTEGER *want;

    copy_card(custom_dir, test_dir);
    ck_assert_int_eq(emu_card_open(test_dir, NULL, &card), 0);
    c = card;
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x63C2);
    ck_assert_uint_eq(verify(c, 0, "9876"), 0x9000);
    ck_assert_uint_eq(verify(c, 1, "PASSWORD1"), 0x9000);
    auth = read_cert(c, 0x000A);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    sig = read_cert(c, 0x0001);
    /* Expired: notAfter 20 days ago. */
    ck_assert_int_lt(X509_cmp_time(X509_get0_notAfter(auth), &now), 0);
    ck_assert_int_lt(X509_cmp_time(X509_get0_notAfter(sig), &now), 0);
    /* Serials from params->serial. */
    want = ASN1_INTEGER_new();
    ASN1_INTEGER_set_uint64(want, 0x12340a);
    ck_assert_int_eq(ASN1_INTEGER_cmp(X509_get0_serialNumber(auth), want), 0);
    ASN1_INTEGER_set_uint64(want, 0x123401);
    ck_assert_int_eq(ASN1_INTEGER_cmp(X509_get0_serialNumber(sig), want), 0);
    ASN1_INTEGER_free(want);
    check_san(sig, 2, "テスト");
    check_san(sig, 6, "一番町");
    ck_assert(name_has(X509_get_subject_name(sig), NID_localityName,
                       "Sapporo-shi"));
    /* Token label and a serial of its own. */
    ck_assert_uint_eq(select_ef(c, 0x0006), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, ti, &n), 0x9000);
    ck_assert_mem_eq(ti, "JPKIAPICCTOKEN                  ", 32);
    ck_assert_int_eq(emu_card_open(base_dir, NULL, &b), 0);
    select_jpki(b);
    ck_assert_uint_eq(select_ef(b, 0x0006), 0x9000);
    ck_assert_uint_eq(read_at(b, 0, 0, bti, &n), 0x9000);
    ck_assert_mem_ne(ti + 80, bti + 80, 16);
    emu_card_close(b);
    X509_free(sig);
    X509_free(auth);
}
END_TEST

START_TEST(test_init_refusals)
{
    struct emu_init_params p;

    emu_init_params_default(&p);
    /* A directory that holds a card already. */
    ck_assert_int_eq(emu_card_init(base_dir, &p), -1);
    make_tmpdir(test_dir);
    p.auth_pin = "12345";
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    p.auth_pin = "1234";
    p.sign_pin = "abc123";
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    p.sign_pin = "ABC123";
    p.token_label = "A LABEL THAT IS FAR TOO LONG FOR THIRTY-TWO";
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    p.token_label = "JPKIAPICCTOKEN2";
    p.text_pin = "12a4";
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    p.text_pin = "1234";
    p.mfg_number = "AB1234567890";      /* 12 characters */
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    p.mfg_number = "AB123456789\x01" "1";
    ck_assert_int_eq(emu_card_init(test_dir, &p), -1);
    ck_assert_int_eq(emu_card_open("/nonexistent/card", NULL, &card), -1);
    ck_assert_ptr_null(card);
}
END_TEST

/* ---- Profiles: the behaviours real cards differ in ---- */

static struct emu_card *open_profile(enum emu_profile p)
{
    struct emu_options o = { .profile = p };

    return open_copy(&o);
}

/* classic, strict, contactless: what a warm reset, a re-select and a
 * power cycle do to a verified PIN, and the 6F00 after power-up. */
START_TEST(test_profile_pin_lifetime)
{
    enum emu_profile p = (enum emu_profile)(EMU_PROFILE_CLASSIC + _i);
    struct emu_card *c = open_profile(p);
    bool keeps = p != EMU_PROFILE_CLASSIC;

    ck_assert_int_eq(emu_card_profile(c), p);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    /* A re-select keeps it on every profile (without the switch). */
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 4, NULL, NULL), 0x9000);
    /* A warm reset: the selection goes; the PIN only on classic. */
    emu_card_reset(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x6A82);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 4, NULL, NULL), keeps ? 0x9000 : 0x6982);
    /* A power-down clears it everywhere; after power comes back the
     * strict cards answer the first command 6F00 without doing it. */
    ck_assert_uint_eq(verify(c, 1, "ABC123"), 0x9000);
    emu_card_power_cycle(c);
    ck_assert_uint_eq(xfer(c, "00A4040C0A" AID_JPKI, NULL, NULL),
                      keeps ? 0x6F00 : 0x9000);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x0001), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 4, NULL, NULL), 0x6982);
    /* A card put in a reader for the first time: no 6F00. */
    emu_card_power_on(c);
    select_jpki(c);
}
END_TEST

START_TEST(test_profile_status_words)
{
    enum emu_profile p = (enum emu_profile)(EMU_PROFILE_CLASSIC + _i);
    struct emu_card *c = open_profile(p);
    bool strict = p != EMU_PROFILE_CLASSIC;

    /* 00 A4 00 00: 6A86 with nothing selected; 9000 inside an
     * application on the strict cards. */
    ck_assert_uint_eq(xfer(c, "00A40000", NULL, NULL), 0x6A86);
    select_jpki(c);
    ck_assert_uint_eq(xfer(c, "00A40000", NULL, NULL),
                      strict ? 0x9000 : 0x6A86);
    /* ...and it changed nothing: the JPKI files are still there. */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    /* Empty VERIFY of a verified PIN. */
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(verify(c, 0, ""), strict ? 0x9000 : 0x63C3);
    ck_assert_uint_eq(verify(c, 1, ""), 0x63C5);
    /* A signature input of the wrong length (246 bytes). */
    {
        uint8_t cmd[5 + 246 + 1] = { 0x80, 0x2A, 0x00, 0x80, 246 };

        ck_assert_uint_eq(select_ef(c, 0x0017), 0x9000);
        ck_assert_uint_eq(xfer_bytes(c, cmd, sizeof(cmd), NULL, NULL),
                          strict ? 0x6985 : 0x6700);
    }
    /* Signing modes: P1 06 is refused everywhere, 04 and 05 only exist on
     * the strict cards. */
    ck_assert_uint_eq(xfer(c, "802A06800101 00", NULL, NULL), 0x6A86);
    if (!strict)
        ck_assert_uint_eq(xfer(c, "802A04800101 00", NULL, NULL), 0x6A86);
}
END_TEST

/* P1 04: RSASSA-PSS over a SHA-256 hash sent; P1 05: the card hashes.
 * Both verify with the certificate's key as PSS, MGF1-SHA256, 32-byte
 * salt, and differ each time (a random salt). */
START_TEST(test_profile_pss)
{
    struct emu_card *c = open_profile(EMU_PROFILE_STRICT);
    uint8_t cmd[300] = { 0x80, 0x2A, 0x04, 0x80, 32 };
    uint8_t sig[2][256], hash[32];
    const char *msg = "TLS 1.3 CertificateVerify";
    unsigned int hl = 32;
    size_t n = 0;
    X509 *x;

    select_jpki(c);
    x = read_cert(c, 0x000A);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert(EVP_Digest(msg, strlen(msg), hash, &hl, EVP_sha256(), NULL));
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);

        ck_assert_uint_eq(select_ef(c, 0x0017), 0x9000);
        if (i == 0) {
            cmd[2] = 0x04;
            cmd[4] = 32;
            memcpy(cmd + 5, hash, 32);
            cmd[5 + 32] = 0x00;
            ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 32, sig[i], &n),
                              0x9000);
        } else {
            size_t ml = strlen(msg);

            cmd[2] = 0x05;
            cmd[4] = (uint8_t)ml;
            memcpy(cmd + 5, msg, ml);
            cmd[5 + ml] = 0x00;
            ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + ml, sig[i], &n),
                              0x9000);
        }
        ck_assert_uint_eq(n, 256);
        ck_assert_ptr_nonnull(pc);
        ck_assert_int_eq(EVP_PKEY_verify_init(pc), 1);
        ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(pc,
                                                      RSA_PKCS1_PSS_PADDING), 0);
        ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()), 0);
        ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()), 0);
        ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 0);
        ck_assert_int_eq(EVP_PKEY_verify(pc, sig[i], 256, hash, 32), 1);
        EVP_PKEY_CTX_free(pc);
    }
    ck_assert(memcmp(sig[0], sig[1], 256) != 0);
    /* P1 04 wants exactly 32 bytes. */
    ck_assert_uint_eq(xfer(c, "802A04800101 00", NULL, NULL), 0x6985);
    X509_free(x);
}
END_TEST

/* --no-sign-pss: 6A86 to P1 04 and 05 even on the strict profile;
 * --sign-pss-bad: 9000 and a signature that does not verify as PSS. */
START_TEST(test_pss_switches)
{
    struct emu_options opt = { 0 };
    struct emu_card *c;
    uint8_t cmd[64] = { 0x80, 0x2A, 0x04, 0x80, 32 }, sig[256], hash[32];
    EVP_PKEY_CTX *pc;
    size_t n = 0;
    X509 *x;

    memset(hash, 0x33, sizeof(hash));
    memcpy(cmd + 5, hash, 32);
    cmd[5 + 32] = 0x00;

    opt.profile = EMU_PROFILE_STRICT;
    opt.sign_pss_refused = true;
    c = open_copy(&opt);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0017), 0x9000);
    ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 32, sig, &n), 0x6A86);
    cmd[2] = 0x05;
    ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 32, sig, &n), 0x6A86);
    cmd[2] = 0x04;

    opt.sign_pss_refused = false;
    opt.sign_pss_bad = true;
    reopen(&opt);
    c = card;
    select_jpki(c);
    x = read_cert(c, 0x000A);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(select_ef(c, 0x0017), 0x9000);
    ck_assert_uint_eq(xfer_bytes(c, cmd, 6 + 32, sig, &n), 0x9000);
    ck_assert_uint_eq(n, 256);
    pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    ck_assert_ptr_nonnull(pc);
    ck_assert_int_eq(EVP_PKEY_verify_init(pc), 1);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING),
                     0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()), 0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()), 0);
    ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 0);
    ck_assert_int_ne(EVP_PKEY_verify(pc, sig, 256, hash, 32), 1);
    EVP_PKEY_CTX_free(pc);
    X509_free(x);
}
END_TEST

/* contactless: its ATR, and a reader that fails extended APDUs. */
START_TEST(test_profile_contactless)
{
    static const uint8_t cl_atr[] = { 0x3B, 0x88, 0x80, 0x01, 0x00, 0x00,
                                      0x05, 0xE0, 0xB3, 0x81, 0xA1, 0x00,
                                      0x7F };
    struct emu_card *c = open_profile(EMU_PROFILE_CONTACTLESS);
    uint8_t cmd[] = { 0x00, 0xB0, 0x00, 0x00, 0x00, 0x03, 0x00 };
    size_t len = 0, rl = 0;
    const uint8_t *atr = emu_card_atr(c, &len);

    ck_assert_uint_eq(len, sizeof(cl_atr));
    ck_assert_mem_eq(atr, cl_atr, len);
    select_jpki(c);
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x9000);
    ck_assert_int_eq(emu_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp),
                                   &rl), MYNA_E_TRANSPORT);
    /* Short ones go through. */
    ck_assert_uint_eq(read_at(c, 0, 0, NULL, &rl), 0x9000);
    ck_assert_uint_eq(rl, 256);
}
END_TEST

/* --atr and a single switch on the classic profile; the profile named by
 * MYNACARD_EMU_PROFILE when none is given. */
START_TEST(test_profile_switches_and_env)
{
    struct emu_options o = { .profile = EMU_PROFILE_CLASSIC,
                             .empty_verify_9000 = true,
                             .atr = { 0x3B, 0xC5, 0xFF, 0x81, 0x31, 0xFB,
                                      0x45, 0x80, 0x73, 0xC6, 0x01, 0x00,
                                      0x00 },
                             .atr_len = 13 };
    struct emu_card *c = open_copy(&o);
    size_t len = 0;

    ck_assert_uint_eq(emu_card_atr(c, &len)[1], 0xC5);
    ck_assert_uint_eq(len, 13);
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
    ck_assert_uint_eq(verify(c, 0, ""), 0x9000);
    emu_card_reset(c);          /* classic: the PIN goes */
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, ""), 0x63C3);

    ck_assert_int_eq(setenv("MYNACARD_EMU_PROFILE", "contactless", 1), 0);
    ck_assert_int_eq(emu_profile_resolve(EMU_PROFILE_DEFAULT),
                     EMU_PROFILE_CONTACTLESS);
    ck_assert_int_eq(setenv("MYNACARD_EMU_PROFILE", "nonsense", 1), 0);
    ck_assert_int_eq(emu_profile_resolve(EMU_PROFILE_DEFAULT),
                     EMU_PROFILE_STRICT);
    ck_assert_int_eq(unsetenv("MYNACARD_EMU_PROFILE"), 0);
    ck_assert_int_eq(emu_profile_resolve(EMU_PROFILE_DEFAULT),
                     EMU_PROFILE_STRICT);
    ck_assert_int_eq(emu_profile_from_name("classic"), EMU_PROFILE_CLASSIC);
    ck_assert_str_eq(emu_profile_name(EMU_PROFILE_CONTACTLESS),
                     "contactless");
}
END_TEST

/* ---- The manufacture-number and card-info applications ---- */

static void select_aid(struct emu_card *c, const char *aid_hex)
{
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "00A4040C0A%s", aid_hex);
    ck_assert_uint_eq(xfer(c, cmd, NULL, NULL), 0x9000);
}

/* VERIFY of the card-info PIN (EF 0011 selected first); "" asks for the
 * tries. */
static uint16_t verify_text(struct emu_card *c, const char *pin)
{
    uint8_t cmd[16] = { 0x00, 0x20, 0x00, 0x80 };
    size_t n = strlen(pin);

    ck_assert_uint_eq(select_ef(c, 0x0011), 0x9000);
    if (n == 0)
        return xfer_bytes(c, cmd, 4, NULL, NULL);
    cmd[4] = (uint8_t)n;
    memcpy(cmd + 5, pin, n);
    return xfer_bytes(c, cmd, 5 + n, NULL, NULL);
}

/* The manufacture number's record, in every profile: exactly the READ
 * RECORD the Mynaportal programs send, the number as characters 2 to 14
 * of the value, and ISO's answers to the wrong ones. */
START_TEST(test_mfg_record)
{
    static const enum emu_profile profiles[] = {
        EMU_PROFILE_CLASSIC, EMU_PROFILE_STRICT, EMU_PROFILE_CONTACTLESS
    };
    struct emu_card *c = open_profile(profiles[_i]);
    char num[MYNA_MFG_NUMBER_LEN + 1];
    uint8_t rec[300];
    size_t n;

    /* Not in the JPKI AP: as before, an unknown instruction. */
    select_jpki(c);
    ck_assert_uint_eq(xfer(c, "00B2010C00", NULL, NULL), 0x6D00);
    select_aid(c, AID_MFG);
    ck_assert_uint_eq(xfer(c, "00B2010C00", rec, &n), 0x9000);
    ck_assert_uint_eq(n, 17);
    ck_assert_mem_eq(rec, "\x80\x0f<AB12345678901>", 17);
    ck_assert_int_eq(myna_parse_mfg_record(rec, n, num), 0);
    ck_assert_str_eq(num, "AB12345678901");
    /* Le too short: 6C with the record's length. */
    ck_assert_uint_eq(xfer(c, "00B2010C05", NULL, NULL), 0x6C11);
    ck_assert_uint_eq(xfer(c, "00B2020C00", NULL, NULL), 0x6A83);
    ck_assert_uint_eq(xfer(c, "00B2011400", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00B2010D00", NULL, NULL), 0x6A86);
    /* SFI 0, the current EF: there is none. */
    ck_assert_uint_eq(xfer(c, "00B2010400", NULL, NULL), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00B2010C", NULL, NULL), 0x6700);
    /* It has no file to select, and an unknown AID is still 6A82. */
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x6A82);
    ck_assert_uint_eq(xfer(c, "00A4040C0AD3921000310001010101", NULL, NULL),
                      0x6A82);
}
END_TEST

/* The card-info PIN in every profile: EF 0002 is 6982 before it, its
 * own counter of 3, reset by a correct PIN, blocked at 0 (6984, then 63C0
 * to the query), persisted, and independent of the JPKI PINs. */
START_TEST(test_cardinfo_pin)
{
    static const enum emu_profile profiles[] = {
        EMU_PROFILE_CLASSIC, EMU_PROFILE_STRICT, EMU_PROFILE_CONTACTLESS
    };
    struct emu_options o = { .profile = profiles[_i] };
    struct emu_card *c = open_copy(&o);
    char path[PATH_MAX + 32];
    uint8_t buf[300];
    size_t n;
    char *state;

    select_aid(c, AID_INPUT);
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x6982);
    ck_assert_uint_eq(n, 0);
    /* The JPKI files are not here. */
    ck_assert_uint_eq(select_ef(c, 0x000A), 0x6A82);
    ck_assert_uint_eq(verify_text(c, ""), 0x63C3);
    ck_assert_uint_eq(verify_text(c, "0000"), 0x63C2);
    ck_assert_uint_eq(verify_text(c, "1111"), 0x63C1);
    snprintf(path, sizeof(path), "%s/card.state", test_dir);
    state = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(state, "text_tries=1\n"));
    free(state);
    ck_assert_uint_eq(verify_text(c, "1234"), 0x9000);
    ck_assert_int_eq(emu_card_tries(c, 2), 3);
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x9000);
    ck_assert_uint_eq(buf[0], 0xFF);
    ck_assert_uint_eq(buf[1], 0x20);
    /* Leaving the application drops the verification. */
    select_jpki(c);
    select_aid(c, AID_INPUT);
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x6982);

    ck_assert_uint_eq(verify_text(c, "9999"), 0x63C2);
    ck_assert_uint_eq(verify_text(c, "9999"), 0x63C1);
    ck_assert_uint_eq(verify_text(c, "9999"), 0x63C0);
    ck_assert_uint_eq(verify_text(c, "1234"), 0x6984);
    ck_assert_uint_eq(verify_text(c, ""), 0x63C0);
    ck_assert_int_eq(emu_card_tries(c, 2), 0);
    ck_assert_int_eq(emu_card_tries(c, 0), 3);
    ck_assert_int_eq(emu_card_tries(c, 1), 5);
    reopen(&o);
    c = card;
    ck_assert_int_eq(emu_card_tries(c, 2), 0);
    select_aid(c, AID_INPUT);
    ck_assert_uint_eq(verify_text(c, "1234"), 0x6984);
    ck_assert_uint_eq(select_ef(c, 0x0002), 0x9000);
    ck_assert_uint_eq(read_at(c, 0, 0, buf, &n), 0x6982);
    /* The JPKI PINs still work. */
    select_jpki(c);
    ck_assert_uint_eq(verify(c, 0, "1234"), 0x9000);
}
END_TEST

/* EF 0002 of the card @c, read after @pin, parsed. */
static void read_cardinfo(struct emu_card *c, const char *pin,
                          struct cardinfo *ci)
{
    static uint8_t buf[4096];
    size_t len;

    select_aid(c, AID_INPUT);
    ck_assert_uint_eq(verify_text(c, pin), 0x9000);
    len = read_file(c, 0x0002, buf, sizeof(buf));
    ck_assert_uint_gt(len, 4);
    ck_assert_uint_eq(buf[0], 0xFF);
    ck_assert_uint_eq(buf[1], 0x20);
    ck_assert_int_eq(cardinfo_parse(buf, len, ci), 0);
}

/* The four facts equal the signature certificate's: the same name and
 * address bytes, the birth date without the era digit, sex 1 and 2 as
 * they are and 3 as 9. */
static void check_facts_match(struct emu_card *c, const char *sign_pin,
                              const char *text_pin, const char *want_sex)
{
    struct cardinfo ci;
    X509 *x;
    char *name, *addr, *birth, *sex;

    select_jpki(c);
    ck_assert_uint_eq(verify(c, 1, sign_pin), 0x9000);
    x = read_cert(c, 0x0001);
    name = san_value(x, 1);
    sex = san_value(x, 3);
    birth = san_value(x, 4);
    addr = san_value(x, 5);
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(sex);
    ck_assert_ptr_nonnull(birth);
    ck_assert_ptr_nonnull(addr);

    read_cardinfo(c, text_pin, &ci);
    ck_assert_str_eq(ci.name, name);
    ck_assert_uint_eq(ci.name_len, strlen(name));
    ck_assert_str_eq(ci.address, addr);
    ck_assert_uint_eq(strlen(birth), 9);
    ck_assert_str_eq(ci.birth, birth + 1);
    ck_assert_str_eq(ci.sex, want_sex);
    ck_assert_str_eq(sex, strcmp(want_sex, "9") == 0 ? "3" : want_sex);
    cardinfo_clear(&ci);
    free(addr);
    free(birth);
    free(sex);
    free(name);
    X509_free(x);
}

START_TEST(test_cardinfo_matches_certificate)
{
    struct emu_init_params d;
    struct emu_card *c = open_copy(NULL);
    struct cardinfo ci;

    check_facts_match(c, "ABC123", "1234", "1");
    /* The default name: family and given name separated by U+3000. */
    emu_init_params_default(&d);
    read_cardinfo(c, "1234", &ci);
    ck_assert_str_eq(ci.name, "テスト\xe3\x80\x80太郎");
    ck_assert_str_eq(ci.name, d.name);
    ck_assert_str_eq(ci.birth, "19850401");
    cardinfo_clear(&ci);
}
END_TEST

/* A card made with its own PIN, number and sex 3. */
START_TEST(test_custom_small_aps)
{
    uint8_t rec[300];
    size_t n;
    char num[MYNA_MFG_NUMBER_LEN + 1];
    struct emu_card *c;

    copy_card(custom_dir, test_dir);
    ck_assert_int_eq(emu_card_open(test_dir, NULL, &card), 0);
    c = card;
    select_aid(c, AID_MFG);
    ck_assert_uint_eq(xfer(c, "00B2010C00", rec, &n), 0x9000);
    ck_assert_int_eq(myna_parse_mfg_record(rec, n, num), 0);
    ck_assert_str_eq(num, "ZZ 0000000042");
    select_aid(c, AID_INPUT);
    ck_assert_uint_eq(verify_text(c, "1234"), 0x63C2);
    check_facts_match(c, "PASSWORD1", "5678", "9");
}
END_TEST

/* ---- Suite ---- */

static TCase *tcase(Suite *s, const char *name, void (*fixture)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, fixture, NULL);
    tcase_add_checked_fixture(tc, NULL, teardown_test);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *emu_suite(void)
{
    Suite *s = suite_create("emu");
    TCase *tc = tcase(s, "files", make_base);
    check_add_tests(tc, test_select_applications, test_select_files,
                    test_read_certificate_padding,
                    test_read_signature_certificate_needs_password,
                    test_read_short_ef_id, test_read_key_and_pin_files);
    tcase_add_loop_test(tc, test_extended_length, 0, 2);
    check_add_tests(tc, test_token_info, test_command_errors,
                    test_buffer_small);

    tc = tcase(s, "pins", make_base);
    check_add_tests(tc, test_tries_query, test_wrong_pin_costs_one_try,
                    test_blocking, test_counter_persists,
                    test_reset_drops_verification);
    tcase_add_loop_test(tc, test_reselect, 0, 2);
    check_add_tests(tc, test_change_pin, test_log_redacts_pins);

    tc = tcase(s, "sign", make_base);
    tcase_add_loop_test(tc, test_sign_verifies, 0, 2);
    check_add_tests(tc, test_sign_errors, test_two_cards_at_once);

    tc = tcase(s, "faults", make_base);
    check_add_tests(tc, test_chain_chunk, test_reset_after, test_remove_after,
                    test_corrupt_one_sw, test_corrupt_ins);
    tcase_add_loop_test(tc, test_corrupt, EMU_CORRUPT_SW,
                        EMU_CORRUPT_OVERLONG + 1);
    check_add_tests(tc, test_latency_and_counters, test_sign_latency,
                    test_callbacks, test_transport_chained, test_threads);

    tc = tcase(s, "certificates", make_base);
    check_add_tests(tc, test_auth_certificate, test_sign_certificate,
                    test_init_refusals, test_cardinfo_matches_certificate);

    tc = tcase(s, "small-aps", make_base);
    tcase_add_loop_test(tc, test_mfg_record, 0, 3);
    tcase_add_loop_test(tc, test_cardinfo_pin, 0, 3);

    tc = tcase(s, "profiles", make_base);
    tcase_add_loop_test(tc, test_profile_pin_lifetime, 0, 3);
    tcase_add_loop_test(tc, test_profile_status_words, 0, 3);
    check_add_tests(tc, test_profile_pss, test_pss_switches,
                    test_profile_contactless, test_profile_switches_and_env);

    tc = tcase(s, "custom", make_base);
    tcase_add_unchecked_fixture(tc, make_custom, NULL);
    check_add_tests(tc, test_custom_card, test_custom_small_aps);
    return s;
}

int main(void)
{
    int status = check_run(emu_suite());

    /* The fixtures' cards, made in this process (outside any test: no
     * assertions here). */
    remove_tree(custom_dir);
    remove_tree(base_dir);
    return status;
}
