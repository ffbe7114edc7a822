/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool export auth|sign|auth-ca|sign-ca [--pem|--der] [-o FILE]:
 * a certificate from the card, as PEM (default) or DER, on stdout or in
 * FILE.  The signature certificate is read only after its password and
 * written only where the holder asked, a new FILE with mode 0600.  Layer:
 * tool/; calls card.c, pin.c and OpenSSL's PEM encoder.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "myna-err.h"
#include "tool.h"

static int which_parse(const char *s, enum jpki_cert *out)
{
    static const struct { const char *name; enum jpki_cert which; } t[] = {
        { "auth", JPKI_CERT_AUTH },
        { "auth-ca", JPKI_CERT_AUTH_CA },
        { "sign", JPKI_CERT_SIGN },
        { "sign-ca", JPKI_CERT_SIGN_CA },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!strcmp(s, t[i].name)) {
            *out = t[i].which;
            return 0;
        }
    }
    return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* PEM text of @der into a memory BIO; NULL on failure.  The certificate
 * is re-encoded from the parsed form only if it parses: a broken file
 * from the card is refused, not passed on. */
static BIO *to_pem(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *b = NULL;

    if (!x)
        return NULL;
    b = BIO_new(BIO_s_secmem());
    if (b && PEM_write_bio_X509(b, x) != 1) {
        BIO_free(b);
        b = NULL;
    }
    X509_free(x);
    return b;
}

static int emit(const uint8_t *der, size_t len, bool personal)
{
    const uint8_t *out = der;
    size_t outlen = len;
    char *pem = NULL;
    BIO *b = NULL;
    int fd = STDOUT_FILENO, rc = TOOL_OK;

    if (!tool_opt.der) {
        long n;

        b = to_pem(der, len);
        if (!b) {
            complain(_("the card's certificate does not parse: not exported"));
            return TOOL_EFAIL;
        }
        n = BIO_get_mem_data(b, &pem);
        if (n <= 0) {
            BIO_free(b);
            return TOOL_EFAIL;
        }
        out = (const uint8_t *)pem;
        outlen = (size_t)n;
    } else if (!tool_opt.output && isatty(STDOUT_FILENO)) {
        complain(_("DER is binary: give -o FILE or redirect the output"));
        return TOOL_EUSAGE;
    }
    if (tool_opt.output) {
        /* The signature certificate holds the holder's name, address and
         * birth date: readable by its owner only. */
        fd = open(tool_opt.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  personal ? 0600 : 0644);
        if (fd < 0) {
            complain(_("cannot write %s: %s"), tool_opt.output, strerror(errno));
            rc = TOOL_EFAIL;
            goto out_free;
        }
        if (personal)
            (void)fchmod(fd, 0600);
    }
    if (write_all(fd, out, outlen) < 0) {
        complain(_("cannot write the certificate: %s"), strerror(errno));
        rc = TOOL_EFAIL;
    }
    if (tool_opt.output && close(fd) < 0 && rc == TOOL_OK) {
        complain(_("cannot write %s: %s"), tool_opt.output, strerror(errno));
        rc = TOOL_EFAIL;
    }
out_free:
    BIO_free(b);     /* a secure-heap BIO: cleansed when freed */
    return rc;
}

int cmd_export(int argc, char **argv)
{
    struct tool_card c;
    enum jpki_cert which;
    uint8_t *der = NULL;
    size_t len = 0;
    int rc, err;

    if (argc != 1 || which_parse(argv[0], &which) < 0) {
        complain(_("usage: mynacard-tool export auth|sign|auth-ca|sign-ca "
                 "[--pem|--der] [-o FILE]"));
        return TOOL_EUSAGE;
    }
    if (tool_opt.json && !tool_opt.output) {
        complain(_("--json needs -o FILE: the certificate itself goes on "
                 "stdout otherwise"));
        return TOOL_EUSAGE;
    }
    jo_str("certificate", argv[0]);
    if (!tool_opt.output)
        say_to_stderr(true);
    rc = tcard_open(&c);
    if (rc != TOOL_OK)
        return rc;
    if (which == JPKI_CERT_SIGN) {
        rc = pin_tries_then_login_sign(&c);
        if (rc != TOOL_OK)
            goto out_close;
    } else {
        err = tcard_begin(&c);
        if (err < 0) {
            complain(_("cannot use the card: %s"), tool_strerror(err));
            rc = tool_exit_for(err);
            goto out_close;
        }
    }
    err = jpki_read_cert(c.j, which, &der, &len);
    tcard_end(&c, which == JPKI_CERT_SIGN);
    if (err < 0) {
        complain(_("cannot read the certificate: %s"), tool_strerror(err));
        rc = tool_exit_for(err);
        goto out_close;
    }
    rc = emit(der, len, which == JPKI_CERT_SIGN);
    if (rc == TOOL_OK) {
        jo_str("file", tool_opt.output);
        jo_str("format", tool_opt.der ? "der" : "pem");
    }
    OPENSSL_clear_free(der, len);
out_close:
    tcard_close(&c);
    return rc;
}
