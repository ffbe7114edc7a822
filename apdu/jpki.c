/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The JPKI application protocol: SELECT, READ BINARY of the certificates
 * and the token information, PIN tries, VERIFY, CHANGE REFERENCE DATA,
 * COMPUTE DIGITAL SIGNATURE and GET CHALLENGE, as described in
 * doc/jpki-card.md.  Layer: the JPKI application, above the
 * APDU codec (apdu.h, der.h) and the transport; it calls nothing else and
 * knows nothing of PKCS#11.  It keeps a small cache of what is selected
 * so that SELECTs are not repeated, and forgets it whenever the transport
 * reports a reset or a lost card.  PINs are copied only into local
 * buffers that are wiped on every path, are marked secret for the APDU
 * log, and are never logged here.
 */
#include "jpki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu.h"
#include "der.h"
#include "jpki-internal.h"
#include "log.h"
#include "myna-err.h"
#include "transport.h"

const uint8_t JPKI_AID[10] = {
    0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01
};

/* Elementary files of the JPKI AP. */
#define EF_CERT_SIGN 0x0001u
#define EF_CERT_SIGN_CA 0x0002u
#define EF_TOKEN_INFO 0x0006u
#define EF_CERT_AUTH 0x000Au
#define EF_CERT_AUTH_CA 0x000Bu
#define EF_KEY_AUTH 0x0017u
#define EF_PIN_AUTH 0x0018u
#define EF_KEY_SIGN 0x001Au
#define EF_PIN_SIGN 0x001Bu

#define EF_NONE 0xFFFFFFFFu

/* READ BINARY with P1 bit 8 clear carries a 15-bit offset. */
#define READ_OFFSET_MAX 0x7FFFu

#define SW_FILE_NOT_FOUND 0x6A82u
/* "No precise diagnosis": what one measured card answers to the first
 * command after it was powered up again (doc/jpki-card.md). */
#define SW_NO_DIAGNOSIS 0x6F00u
#define SW_AUTH_BLOCKED 0x6983u
#define SW_REF_BLOCKED 0x6984u

#define TOKEN_LABEL_LEN 32u

enum ap_state {
    AP_NONE = 0,   /* nothing selected: after a reset we asked for */
    AP_JPKI,       /* the JPKI AP is selected */
    AP_OTHER,      /* another application, other_aid, is selected
                    * (cardinfo.c, through jpki-internal.h) */
    AP_UNKNOWN     /* we cannot know: forgotten, or a SELECT failed */
};

struct jpki {
    struct transport *t;
    enum ap_state ap;
    /* The EF selected in the JPKI AP, or EF_NONE.  Trusted only inside the
     * transaction that selected it: between our transactions another
     * program sharing the reader may select another EF of the JPKI AP (the
     * signature password, say), and a VERIFY meant for the other PIN
     * would then spend one of its tries.  So jpki_begin() drops it, and
     * every transaction selects its EF once. */
    uint32_t ef;
    /* The other application selected when ap is AP_OTHER. */
    uint8_t other_aid[JPKI_OTHER_AID_MAX];
    size_t other_aid_len;
    enum jpki_ext_mode ext_mode;
    /* What JPKI_EXT_AUTO learned: this card refuses extended READ
     * BINARY.  Kept across resets: it is the same card. */
    bool ext_refused;
    /* Set while the signature certificate is read: its bytes are the
     * holder's personal data, so the APDU layer masks them in the log and
     * wipes its buffers. */
    bool reading_personal;
};

static const char *role_name(enum jpki_role role)
{
    return role == JPKI_SIGN ? "sign" : "auth";
}

int jpki_new(struct transport *t, struct jpki **out)
{
    struct jpki *j;

    if (!t || !out)
        return MYNA_E_ARGS;
    j = calloc(1, sizeof(*j));
    if (!j)
        return MYNA_E_NOMEM;
    j->t = t;
    j->ap = AP_UNKNOWN;
    j->ef = EF_NONE;
    j->ext_mode = JPKI_EXT_NEVER;
    *out = j;
    return 0;
}

void jpki_free(struct jpki *j)
{
    free(j);
}

void jpki_set_ext_mode(struct jpki *j, enum jpki_ext_mode mode)
{
    if (j)
        j->ext_mode = mode;
}

void jpki_forget(struct jpki *j)
{
    if (!j)
        return;
    j->ap = AP_UNKNOWN;
    j->ef = EF_NONE;
}

int jpki_begin(struct jpki *j)
{
    int err;

    if (!j)
        return MYNA_E_ARGS;
    j->ef = EF_NONE;
    /* Another application (cardinfo.c) is trusted selected only inside
     * the transaction that selected it, as an EF is: its PIN file must
     * not turn out to be another application's. */
    if (j->ap == AP_OTHER)
        j->ap = AP_UNKNOWN;
    err = tp_begin(j->t);
    if (err == MYNA_E_CARD_RESET || err == MYNA_E_NO_CARD) {
        myna_log(MYNA_LOG_DEBUG, "jpki: begin: %s, selection forgotten",
                 myna_strerror(err));
        jpki_forget(j);
    }
    return err;
}

int jpki_end(struct jpki *j, bool unpower)
{
    int err;

    if (!j)
        return MYNA_E_ARGS;
    err = tp_end(j->t, unpower);
    /* The EF is trusted only inside one transaction (see struct jpki);
     * the AP stays cached unless the card was powered down or lost. */
    j->ef = EF_NONE;
    if (err < 0)
        jpki_forget(j);
    else if (unpower)
        j->ap = AP_NONE;
    return err;
}

/*
 * One exchange.  Any failure to get an answer leaves us not knowing what
 * the card has selected (a reset above all), so the cache goes.
 */
static int xfer(struct jpki *j, const struct apdu *a, uint8_t *resp,
                size_t cap, size_t *resplen, uint16_t *sw)
{
    size_t dummy_len;
    int err;

    if (!resplen)
        resplen = &dummy_len;
    *resplen = 0;
    *sw = 0;
    err = apdu_transmit(j->t, a, resp, cap, resplen, sw);
    if (err == 0 && *sw == SW_NO_DIAGNOSIS && !a->secret) {
        /* A card just powered up may answer its first command so, without
         * doing it.  Sent once more; never a command that carries a PIN:
         * if the card did see that one, a second copy could cost a try. */
        myna_log(MYNA_LOG_DEBUG, "jpki: INS %02X: 6F00, sent once more",
                 a->ins);
        *resplen = 0;
        *sw = 0;
        err = apdu_transmit(j->t, a, resp, cap, resplen, sw);
    }
    if (err == MYNA_E_BUFFER_SMALL) {
        /* The card sent more than the command allowed it to. */
        myna_log(MYNA_LOG_DEBUG, "jpki: INS %02X: answer longer than %zu",
                 a->ins, cap);
        return MYNA_E_BAD_RESPONSE;
    }
    if (err < 0) {
        myna_log(MYNA_LOG_DEBUG, "jpki: INS %02X: %s, selection forgotten",
                 a->ins, myna_strerror(err));
        jpki_forget(j);
    }
    return err;
}

/*
 * What the status word of a SELECT means.  63Cx, 6983 and 6984 answer a
 * VERIFY, never a SELECT: passed on as MYNA_E_PIN_INCORRECT or
 * MYNA_E_PIN_LOCKED they would tell jpki_verify()'s caller that a PIN the
 * card never saw is wrong or blocked (and the module would then refuse that
 * PIN, or the token, without asking the card again).
 */
static int select_sw_to_err(uint16_t sw)
{
    int err = apdu_sw_to_err(sw);

    if (err == MYNA_E_PIN_INCORRECT || err == MYNA_E_PIN_LOCKED)
        return MYNA_E_BAD_RESPONSE;
    return err;
}

static int select_ap_sw(struct jpki *j, uint16_t *sw)
{
    struct apdu a = {
        .cla = 0x00, .ins = 0xA4, .p1 = 0x04, .p2 = 0x0C,
        .data = JPKI_AID, .lc = sizeof(JPKI_AID),
    };
    int err;

    j->ap = AP_UNKNOWN;
    j->ef = EF_NONE;
    err = xfer(j, &a, NULL, 0, NULL, sw);
    if (err < 0)
        return err;
    if (*sw == SW_OK)
        j->ap = AP_JPKI;
    myna_log(MYNA_LOG_DEBUG, "jpki: SELECT JPKI AP: SW %04X", *sw);
    return 0;
}

int jpki_select_ap(struct jpki *j)
{
    uint16_t sw;
    int err;

    if (!j)
        return MYNA_E_ARGS;
    if (j->ap == AP_JPKI)
        return 0;
    err = select_ap_sw(j, &sw);
    if (err < 0)
        return err;
    if (sw == SW_FILE_NOT_FOUND)
        return MYNA_E_NOT_JPKI;
    return select_sw_to_err(sw);
}

static int select_ef_sw(struct jpki *j, uint16_t fid, uint16_t *sw)
{
    const uint8_t data[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
    struct apdu a = {
        .cla = 0x00, .ins = 0xA4, .p1 = 0x02, .p2 = 0x0C,
        .data = data, .lc = sizeof(data),
    };
    int err;

    j->ef = EF_NONE;
    err = xfer(j, &a, NULL, 0, NULL, sw);
    if (err < 0)
        return err;
    if (*sw == SW_OK)
        j->ef = fid;
    myna_log(MYNA_LOG_DEBUG, "jpki: SELECT EF %04X: SW %04X", fid, *sw);
    return 0;
}

/*
 * Select @fid in the JPKI AP, selecting the AP first if needed.  When the
 * cache believed the AP selected and the card says 6A82, another program
 * probably selected another application between our transactions: select
 * the AP again, once, and the EF again, once.
 */
static int select_ef(struct jpki *j, uint16_t fid)
{
    bool ap_cached = j->ap == AP_JPKI;
    uint16_t sw;
    int err;

    if (ap_cached && j->ef == fid)
        return 0;
    err = jpki_select_ap(j);
    if (err < 0)
        return err;
    err = select_ef_sw(j, fid, &sw);
    if (err < 0)
        return err;
    if (sw == SW_FILE_NOT_FOUND && ap_cached) {
        myna_log(MYNA_LOG_DEBUG,
                 "jpki: EF %04X not found; selecting the JPKI AP again",
                 fid);
        j->ap = AP_UNKNOWN;
        err = jpki_select_ap(j);
        if (err < 0)
            return err;
        err = select_ef_sw(j, fid, &sw);
        if (err < 0)
            return err;
    }
    return select_sw_to_err(sw);
}

/*
 * READ BINARY of up to @le bytes at @offset of the selected EF.  Returns 0
 * with the status word in *@sw (the caller maps it), or an error.
 */
static int read_binary(struct jpki *j, size_t offset, size_t le,
                       bool extended, uint8_t *out, size_t *outlen,
                       uint16_t *sw)
{
    struct apdu a = {
        .cla = 0x00, .ins = 0xB0,
        .le = le, .extended = extended,
        .secret_response = j->reading_personal,
    };

    if (offset > READ_OFFSET_MAX || le == 0)
        return MYNA_E_ARGS;
    a.p1 = (uint8_t)(offset >> 8);
    a.p2 = (uint8_t)offset;
    return xfer(j, &a, out, le, outlen, sw);
}

/* Whether the rest of a file may be read with one extended READ BINARY. */
static bool use_extended(const struct jpki *j)
{
    switch (j->ext_mode) {
    case JPKI_EXT_ALWAYS:
        return true;
    case JPKI_EXT_AUTO:
        return !j->ext_refused;
    case JPKI_EXT_NEVER:
    default:
        return false;
    }
}

/*
 * Read bytes @got..@total of the certificate into @buf, in short reads of
 * at most 256 bytes or, when allowed, extended reads of all that is left.
 * A chunk may come back shorter than asked (the card's buffer, or the end
 * of the file); the loop goes on from where it ended, and the card's 6B00
 * or an empty answer then means the file is shorter than the DER says.
 */
static int read_rest(struct jpki *j, uint8_t *buf, size_t got, size_t total)
{
    while (got < total) {
        size_t want = total - got;
        bool ext = use_extended(j) && want > APDU_SHORT_LE_MAX;
        size_t n = 0;
        uint16_t sw;
        int err;

        if (!ext && want > APDU_SHORT_LE_MAX)
            want = APDU_SHORT_LE_MAX;
        if (got > READ_OFFSET_MAX) {
            myna_log(MYNA_LOG_DEBUG,
                     "jpki: offset %zu beyond READ BINARY's 15 bits", got);
            return MYNA_E_BAD_RESPONSE;
        }
        err = read_binary(j, got, want, ext, buf + got, &n, &sw);
        if (err < 0)
            return err;
        if (sw != SW_OK && ext && j->ext_mode == JPKI_EXT_AUTO) {
            /* Unknown whether the real card takes extended lengths: this
             * one does not, so short reads from now on. */
            myna_log(MYNA_LOG_DEBUG,
                     "jpki: extended READ BINARY refused (SW %04X); "
                     "short reads from now on", sw);
            j->ext_refused = true;
            continue;
        }
        if (sw != SW_OK) {
            myna_log(MYNA_LOG_DEBUG,
                     "jpki: READ BINARY at %zu: SW %04X", got, sw);
            if (sw == 0x6B00u || sw == 0x6282u)
                return MYNA_E_BAD_RESPONSE;  /* the file ends early */
            err = apdu_sw_to_err(sw);
            return err < 0 ? err : MYNA_E_BAD_RESPONSE;
        }
        if (n == 0) {
            myna_log(MYNA_LOG_DEBUG,
                     "jpki: READ BINARY at %zu: no data; file shorter "
                     "than its DER header", got);
            return MYNA_E_BAD_RESPONSE;
        }
        got += n;
    }
    return 0;
}

static int cert_fid(enum jpki_cert which, uint16_t *fid)
{
    switch (which) {
    case JPKI_CERT_AUTH:
        *fid = EF_CERT_AUTH;
        return 0;
    case JPKI_CERT_AUTH_CA:
        *fid = EF_CERT_AUTH_CA;
        return 0;
    case JPKI_CERT_SIGN:
        *fid = EF_CERT_SIGN;
        return 0;
    case JPKI_CERT_SIGN_CA:
        *fid = EF_CERT_SIGN_CA;
        return 0;
    }
    return MYNA_E_ARGS;
}

int jpki_read_cert(struct jpki *j, enum jpki_cert which, uint8_t **der,
                   size_t *len)
{
    uint8_t first[APDU_SHORT_LE_MAX];
    uint8_t *buf = NULL;
    size_t n = 0, total = 0;
    uint16_t fid = 0;
    uint16_t sw;
    int err;

    if (!j || !der || !len)
        return MYNA_E_ARGS;
    *der = NULL;
    *len = 0;
    err = cert_fid(which, &fid);
    if (err < 0)
        return err;

    err = select_ef(j, fid);
    if (err < 0)
        goto out_wipe_first;
    j->reading_personal = (which == JPKI_CERT_SIGN);
    /* The first 256 bytes hold the DER header, whatever form its length
     * takes; the file is longer than the certificate (FF filler). */
    err = read_binary(j, 0, APDU_SHORT_LE_MAX, false, first, &n, &sw);
    if (err < 0)
        goto out_wipe_first;
    if (sw != SW_OK) {
        err = apdu_sw_to_err(sw);
        if (err == 0)
            err = MYNA_E_BAD_RESPONSE;
        myna_log(MYNA_LOG_DEBUG, "jpki: read EF %04X: SW %04X", fid, sw);
        goto out_wipe_first;
    }
    if (n > 0 && first[0] == 0xFF) {
        /* An erased slot: no certificate was ever written here. */
        myna_log(MYNA_LOG_DEBUG, "jpki: EF %04X is empty (FF)", fid);
        err = MYNA_E_NOT_FOUND;
        goto out_wipe_first;
    }
    err = der_cert_length(first, n, &total);
    if (err < 0) {
        myna_log(MYNA_LOG_DEBUG, "jpki: EF %04X: no DER certificate header "
                 "in %zu bytes", fid, n);
        goto out_wipe_first;
    }

    buf = malloc(total);
    if (!buf) {
        err = MYNA_E_NOMEM;
        goto out_wipe_first;
    }
    if (n > total)
        n = total;
    memcpy(buf, first, n);
    err = read_rest(j, buf, n, total);
    if (err < 0)
        goto out_free_buf;

    myna_log(MYNA_LOG_DEBUG, "jpki: read EF %04X: certificate of %zu bytes",
             fid, total);
    *der = buf;
    *len = total;
    j->reading_personal = false;
    OPENSSL_cleanse(first, sizeof(first));
    return 0;

out_free_buf:
    OPENSSL_clear_free(buf, total);
out_wipe_first:
    j->reading_personal = false;
    OPENSSL_cleanse(first, sizeof(first));
    return err;
}

enum jpki_token_kind jpki_kind_from_label(const char *label)
{
    if (!label)
        return JPKI_KIND_UNKNOWN;
    if (strcmp(label, "JPKIAPICCTOKEN2") == 0)
        return JPKI_KIND_MYNUMBER;
    if (strcmp(label, "JPKIAPICCTOKEN") == 0)
        return JPKI_KIND_JUKI;
    if (strcmp(label, "JPKIAPGPSETOKEN") == 0)
        return JPKI_KIND_PHONE_ANDROID;
    if (strcmp(label, "JPKIAPIOSTOKEN") == 0)
        return JPKI_KIND_PHONE_IOS;
    return JPKI_KIND_UNKNOWN;
}

const char *jpki_kind_name(enum jpki_token_kind kind)
{
    switch (kind) {
    case JPKI_KIND_MYNUMBER:
        return "My Number Card";
    case JPKI_KIND_JUKI:
        return "Juki card (住基カード)";
    case JPKI_KIND_PHONE_ANDROID:
        return "JPKI on an Android smartphone";
    case JPKI_KIND_PHONE_IOS:
        return "JPKI on an iPhone";
    case JPKI_KIND_UNKNOWN:
    default:
        return "unknown JPKI token";
    }
}

/* Read the first @want bytes (at most JPKI_TOKEN_INFO_MAX) of EF 0006. */
static int read_token_info(struct jpki *j, struct jpki_token_info *out,
                           size_t want)
{
    size_t n = 0, labellen, i;
    uint16_t sw;
    int err;

    if (!j || !out)
        return MYNA_E_ARGS;
    memset(out, 0, sizeof(*out));
    err = select_ef(j, EF_TOKEN_INFO);
    if (err < 0)
        return err;
    err = read_binary(j, 0, want, false, out->raw, &n, &sw);
    if (err < 0)
        return err;
    if (sw != SW_OK) {
        myna_log(MYNA_LOG_DEBUG, "jpki: read token info: SW %04X", sw);
        err = apdu_sw_to_err(sw);
        return err < 0 ? err : MYNA_E_BAD_RESPONSE;
    }
    out->raw_len = n;

    /* The label is space padded; some writers pad with NULs instead. */
    labellen = n < TOKEN_LABEL_LEN ? n : TOKEN_LABEL_LEN;
    while (labellen > 0 && (out->raw[labellen - 1] == ' ' ||
                            out->raw[labellen - 1] == '\0'))
        labellen--;
    for (i = 0; i < labellen; i++) {
        uint8_t c = out->raw[i];

        out->label[i] = (c >= 0x20 && c <= 0x7E) ? (char)c : '?';
    }
    out->label[labellen] = '\0';
    out->kind = jpki_kind_from_label(out->label);
    myna_log(MYNA_LOG_DEBUG, "jpki: token info: %zu bytes, label \"%s\" (%s)",
             n, out->label, jpki_kind_name(out->kind));
    return 0;
}

int jpki_read_token_info(struct jpki *j, struct jpki_token_info *out)
{
    return read_token_info(j, out, JPKI_TOKEN_INFO_MAX);
}

int jpki_read_token_label(struct jpki *j, struct jpki_token_info *out)
{
    return read_token_info(j, out, TOKEN_LABEL_LEN);
}

int jpki_pin_normalize(enum jpki_role role, const uint8_t *pin, size_t len,
                       uint8_t *norm, size_t *normlen)
{
    size_t i;

    if (!pin && len > 0)
        return MYNA_E_ARGS;
    if (role != JPKI_AUTH && role != JPKI_SIGN)
        return MYNA_E_ARGS;

    /* Check everything first, so that nothing is written for a bad PIN. */
    if (role == JPKI_AUTH) {
        if (len != JPKI_AUTH_PIN_LEN)
            return MYNA_E_PIN_LEN;
        for (i = 0; i < len; i++) {
            if (pin[i] < '0' || pin[i] > '9')
                return MYNA_E_PIN_FORMAT;
        }
    } else {
        if (len < JPKI_SIGN_PIN_MIN || len > JPKI_SIGN_PIN_MAX)
            return MYNA_E_PIN_LEN;
        for (i = 0; i < len; i++) {
            uint8_t c = pin[i];
            bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                      (c >= 'a' && c <= 'z');

            if (!ok)
                return MYNA_E_PIN_FORMAT;
        }
    }

    if (norm) {
        for (i = 0; i < len; i++) {
            uint8_t c = pin[i];

            /* The card compares bytes: "abc123" would be a wrong try. */
            if (c >= 'a' && c <= 'z')
                c = (uint8_t)(c - 'a' + 'A');
            norm[i] = c;
        }
    }
    if (normlen)
        *normlen = len;
    return 0;
}

static uint16_t pin_fid(enum jpki_role role)
{
    return role == JPKI_SIGN ? EF_PIN_SIGN : EF_PIN_AUTH;
}

static uint16_t key_fid(enum jpki_role role)
{
    return role == JPKI_SIGN ? EF_KEY_SIGN : EF_KEY_AUTH;
}

static bool role_ok(enum jpki_role role)
{
    return role == JPKI_AUTH || role == JPKI_SIGN;
}

int jpki_pin_tries(struct jpki *j, enum jpki_role role, int *tries)
{
    return jpki_pin_status(j, role, tries, NULL);
}

int jpki_pin_status(struct jpki *j, enum jpki_role role, int *tries,
                    bool *verified)
{
    struct apdu a = { .cla = 0x00, .ins = 0x20, .p1 = 0x00, .p2 = 0x80 };
    uint16_t sw;
    int err;

    if (verified)
        *verified = false;
    if (!j || !tries || !role_ok(role))
        return MYNA_E_ARGS;
    err = select_ef(j, pin_fid(role));
    if (err < 0)
        return err;
    /* VERIFY without data asks for the counter and spends nothing. */
    err = xfer(j, &a, NULL, 0, NULL, &sw);
    if (err < 0)
        return err;
    myna_log(MYNA_LOG_DEBUG, "jpki: %s PIN tries: SW %04X", role_name(role),
             sw);
    return jpki_tries_result(
        sw, role == JPKI_SIGN ? JPKI_SIGN_TRIES : JPKI_AUTH_TRIES, tries,
        verified);
}

int jpki_tries_result(uint16_t sw, int max, int *tries, bool *verified)
{
    int x = apdu_sw_tries_left(sw), err;

    if (x >= 0) {
        *tries = x;
        return 0;
    }
    if (sw == SW_AUTH_BLOCKED || sw == SW_REF_BLOCKED) {
        *tries = 0;
        return 0;
    }
    if (sw == SW_OK) {
        /* Some cards say so when the PIN is verified (doc/jpki-card.md):
         * a correct VERIFY set the counter back to its maximum. */
        *tries = max;
        if (verified)
            *verified = true;
        return 0;
    }
    err = apdu_sw_to_err(sw);
    return err < 0 ? err : MYNA_E_BAD_RESPONSE;
}

int jpki_verify_result(uint16_t sw, int *tries_left)
{
    int x = apdu_sw_tries_left(sw), err;

    if (sw == SW_OK) {
        err = 0;
    } else if (x > 0) {
        err = MYNA_E_PIN_INCORRECT;
        if (tries_left)
            *tries_left = x;
    } else if (x == 0 || sw == SW_AUTH_BLOCKED || sw == SW_REF_BLOCKED) {
        /* 63C0 is the answer to the try that used the last one. */
        err = MYNA_E_PIN_LOCKED;
        if (tries_left)
            *tries_left = 0;
    } else {
        err = apdu_sw_to_err(sw);
        if (err == 0)
            err = MYNA_E_BAD_RESPONSE;
    }
    return err;
}

/* Send @role's PIN (@pin, @len, in the user's form) in the command @ins
 * P1 @p1 to its PIN EF: normalised and checked first, so that a PIN of the
 * wrong format is never sent; the card's status word in *@sw.  The
 * normalised copy is wiped before returning. */
static int send_pin(struct jpki *j, enum jpki_role role, uint8_t ins,
                    uint8_t p1, const uint8_t *pin, size_t len, uint16_t *sw)
{
    uint8_t buf[JPKI_PIN_MAX];
    size_t buflen = 0;
    struct apdu a = {
        .cla = 0x00,
        .ins = ins,
        .p1 = p1,
        .p2 = 0x80,
        .secret = true,
    };
    int err;

    if (!j || !role_ok(role))
        return MYNA_E_ARGS;
    err = jpki_pin_normalize(role, pin, len, buf, &buflen);
    if (err < 0)
        goto out_wipe_pin;
    err = select_ef(j, pin_fid(role));
    if (err < 0)
        goto out_wipe_pin;

    a.data = buf;
    a.lc = buflen;
    err = xfer(j, &a, NULL, 0, NULL, sw);
    if (err < 0)
        goto out_wipe_pin;
    myna_log(MYNA_LOG_DEBUG, "jpki: %s %s PIN: SW %04X",
             ins == 0x20 ? "VERIFY" : "CHANGE", role_name(role), *sw);

out_wipe_pin:
    OPENSSL_cleanse(buf, sizeof(buf));
    return err;
}

int jpki_verify(struct jpki *j, enum jpki_role role, const uint8_t *pin,
                size_t len, int *tries_left)
{
    uint16_t sw;
    int err;

    if (tries_left)
        *tries_left = -1; /* unknown unless the card tells */
    err = send_pin(j, role, 0x20, 0x00, pin, len, &sw);
    if (err < 0)
        return err;
    return jpki_verify_result(sw, tries_left);
}

int jpki_change_pin(struct jpki *j, enum jpki_role role, const uint8_t *newpin,
                    size_t len)
{
    uint16_t sw;
    int err;

    err = send_pin(j, role, 0x24, 0x01, newpin, len, &sw);
    if (err < 0)
        return err;
    return apdu_sw_to_err(sw);
}

/* COMPUTE DIGITAL SIGNATURE with @p1 (00: PKCS#1 v1.5 over @in; 04: PSS
 * over a 32-byte hash), the lengths already checked by the caller. */
static int sign_p1(struct jpki *j, enum jpki_role role, uint8_t p1,
                   const uint8_t *in, size_t inlen, uint8_t *sig, size_t *siglen)
{
    struct apdu a = {
        .cla = 0x80, .ins = 0x2A, .p1 = p1, .p2 = 0x80,
        .le = JPKI_SIG_LEN,
    };
    size_t n = 0;
    uint16_t sw;
    int err;

    err = select_ef(j, key_fid(role));
    if (err < 0)
        return err;

    a.data = in;
    a.lc = inlen;
    err = xfer(j, &a, sig, JPKI_SIG_LEN, &n, &sw);
    if (err < 0)
        return err;
    myna_log(MYNA_LOG_DEBUG, "jpki: SIGN (P1 %02X) with %s key, %zu bytes in: "
             "SW %04X, %zu bytes out", p1, role_name(role), inlen, sw, n);
    if (sw != SW_OK) {
        err = apdu_sw_to_err(sw);
        return err < 0 ? err : MYNA_E_BAD_RESPONSE;
    }
    if (n != JPKI_SIG_LEN)
        return MYNA_E_BAD_RESPONSE;
    *siglen = n;
    return 0;
}

int jpki_sign(struct jpki *j, enum jpki_role role, const uint8_t *in,
              size_t inlen, uint8_t *sig, size_t cap, size_t *siglen)
{
    if (!j || !role_ok(role) || !in || !sig || !siglen)
        return MYNA_E_ARGS;
    *siglen = 0;
    /* The card pads with PKCS#1 v1.5 type 1 itself: at least 11 bytes. */
    if (inlen < 1 || inlen > JPKI_SIGN_INPUT_MAX)
        return MYNA_E_ARGS;
    if (cap < JPKI_SIG_LEN)
        return MYNA_E_BUFFER_SMALL;
    return sign_p1(j, role, 0x00, in, inlen, sig, siglen);
}

int jpki_sign_pss(struct jpki *j, enum jpki_role role,
                  const uint8_t hash[JPKI_PSS_HASH_LEN], uint8_t *sig,
                  size_t cap, size_t *siglen)
{
    if (!j || !role_ok(role) || !hash || !sig || !siglen)
        return MYNA_E_ARGS;
    *siglen = 0;
    if (cap < JPKI_SIG_LEN)
        return MYNA_E_BUFFER_SMALL;
    return sign_p1(j, role, 0x04, hash, JPKI_PSS_HASH_LEN, sig, siglen);
}

int jpki_get_challenge(struct jpki *j, uint8_t *out, size_t len)
{
    size_t done = 0;

    if (!j || (!out && len > 0))
        return MYNA_E_ARGS;
    while (done < len) {
        size_t want = len - done;
        struct apdu a = { .cla = 0x00, .ins = 0x84, .p1 = 0x00, .p2 = 0x00 };
        size_t n = 0;
        uint16_t sw;
        int err;

        if (want > APDU_SHORT_LE_MAX)
            want = APDU_SHORT_LE_MAX;
        a.le = want;
        err = xfer(j, &a, out + done, want, &n, &sw);
        if (err < 0)
            return err;
        if (sw != SW_OK) {
            myna_log(MYNA_LOG_DEBUG, "jpki: GET CHALLENGE %zu: SW %04X",
                     want, sw);
            err = apdu_sw_to_err(sw);
            return err < 0 ? err : MYNA_E_BAD_RESPONSE;
        }
        if (n != want) {
            myna_log(MYNA_LOG_DEBUG, "jpki: GET CHALLENGE %zu: got %zu",
                     want, n);
            return MYNA_E_BAD_RESPONSE;
        }
        done += n;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* For the card's other applications (jpki-internal.h, cardinfo.c).    */

static bool other_ap_cached(const struct jpki *j, const uint8_t *aid,
                            size_t aidlen)
{
    return j->ap == AP_OTHER && j->other_aid_len == aidlen &&
           memcmp(j->other_aid, aid, aidlen) == 0;
}

int jpki_select_other_ap(struct jpki *j, const uint8_t *aid, size_t aidlen)
{
    struct apdu a = {
        .cla = 0x00, .ins = 0xA4, .p1 = 0x04, .p2 = 0x0C,
        .data = aid, .lc = aidlen,
    };
    uint16_t sw;
    int err;

    if (!j || !aid || aidlen < 5 || aidlen > JPKI_OTHER_AID_MAX)
        return MYNA_E_ARGS;
    /* The JPKI AP has its own state (AP_JPKI); through here the cache
     * would call it "other" and select_ef() would select it again. */
    if (aidlen == sizeof(JPKI_AID) && memcmp(aid, JPKI_AID, aidlen) == 0)
        return MYNA_E_ARGS;
    if (other_ap_cached(j, aid, aidlen))
        return 0;
    /* Whatever the answer, the JPKI AP is no longer known to be selected:
     * a failed SELECT may have left the card anywhere. */
    j->ap = AP_UNKNOWN;
    j->ef = EF_NONE;
    j->other_aid_len = 0;
    err = xfer(j, &a, NULL, 0, NULL, &sw);
    if (err < 0)
        return err;
    myna_log(MYNA_LOG_DEBUG, "jpki: SELECT AP %02X..%02X: SW %04X", aid[0],
             aid[aidlen - 1], sw);
    if (sw == SW_OK) {
        memcpy(j->other_aid, aid, aidlen);
        j->other_aid_len = aidlen;
        j->ap = AP_OTHER;
        return 0;
    }
    return select_sw_to_err(sw);
}

int jpki_select_other_ef(struct jpki *j, const uint8_t *aid, size_t aidlen,
                         uint16_t fid)
{
    bool cached;
    uint16_t sw;
    int err;

    if (!j || !aid)
        return MYNA_E_ARGS;
    cached = other_ap_cached(j, aid, aidlen);
    err = jpki_select_other_ap(j, aid, aidlen);
    if (err < 0)
        return err;
    /* The EF of another application is never cached: select_ef_sw() sets
     * j->ef, which means a JPKI EF, so it is dropped again below. */
    err = select_ef_sw(j, fid, &sw);
    j->ef = EF_NONE;
    if (err < 0)
        return err;
    if (sw == SW_FILE_NOT_FOUND && cached) {
        myna_log(MYNA_LOG_DEBUG,
                 "jpki: EF %04X not found; selecting its AP again", fid);
        j->ap = AP_UNKNOWN;
        err = jpki_select_other_ap(j, aid, aidlen);
        if (err < 0)
            return err;
        err = select_ef_sw(j, fid, &sw);
        j->ef = EF_NONE;
        if (err < 0)
            return err;
    }
    return select_sw_to_err(sw);
}

int jpki_transmit(struct jpki *j, const struct apdu *a, uint8_t *resp,
                  size_t cap, size_t *resplen, uint16_t *sw)
{
    if (!j || !a || !sw)
        return MYNA_E_ARGS;
    return xfer(j, a, resp, cap, resplen, sw);
}

int jpki_read_binary_short(struct jpki *j, size_t offset, size_t le,
                           uint8_t *out, size_t *outlen, uint16_t *sw)
{
    if (!j || !out || !outlen || !sw || le > APDU_SHORT_LE_MAX)
        return MYNA_E_ARGS;
    return read_binary(j, offset, le, false, out, outlen, sw);
}

int jpki_read_rest(struct jpki *j, uint8_t *buf, size_t got, size_t total)
{
    if (!j || !buf || got > total)
        return MYNA_E_ARGS;
    return read_rest(j, buf, got, total);
}

void jpki_set_personal(struct jpki *j, bool personal)
{
    if (j)
        j->reading_personal = personal;
}
