/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool check-pss: can this card sign for TLS 1.3?  TLS 1.3 client
 * authentication needs an RSA-PSS signature; the card's COMPUTE DIGITAL
 * SIGNATURE with P1 04 is said (by one source, doc/jpki-card.md) to make
 * one over a SHA-256 hash.  The command verifies the authentication PIN
 * (a right PIN spends no try), has the card sign a fresh random hash
 * that way, checks the answer with the certificate's key as RSASSA-PSS,
 * MGF1-SHA256 and a 32-byte salt (what the module would check), powers
 * the card down and says what it found.  --enable, after a check that
 * passed, writes `pss = true` into the user's mynacard.conf; --disable
 * takes it out.  The file's other lines are kept.  Layer: tool/; calls
 * card.c, pin.c and the card layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "myna-err.h"
#include "tool.h"

#define CONF_MAX (64 * 1024)    /* a longer mynacard.conf is not ours */

int tool_conf_user_path(char *buf, size_t cap)
{
    /* Where the module looks (module/config.c): $XDG_CONFIG_HOME when
     * absolute, else ~/.config. */
    char dir[PATH_MAX];

    tool_config_home(dir, sizeof(dir));
    return sfmt(buf, cap, "%s/mynacard/mynacard.conf", dir) < 0 ? -1 : 0;
}

/* Whether @line sets @key (`key = value`, spaces allowed); if so, its
 * value into @val. */
static bool line_sets(const char *line, const char *key, char *val,
                      size_t cap)
{
    size_t klen = strlen(key);
    const char *p = line, *end;

    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, key, klen) != 0)
        return false;
    p += klen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return false;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strcspn(p, "\r\n");
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (val && cap) {
        size_t n = (size_t)(end - p) < cap - 1 ? (size_t)(end - p) : cap - 1;

        memcpy(val, p, n);
        val[n] = '\0';
    }
    return true;
}

int tool_conf_pss(const char *path)
{
    char line[1024], val[64];
    int on = -1;
    FILE *fp = fopen(path, "re");

    if (!fp)
        return -1;
    while (fgets(line, sizeof(line), fp)) {
        if (!line_sets(line, "pss", val, sizeof(val)))
            continue;
        if (!strcasecmp(val, "true") || !strcasecmp(val, "yes")
            || !strcmp(val, "1") || !strcasecmp(val, "on"))
            on = 1;
        else if (!strcasecmp(val, "false") || !strcasecmp(val, "no")
                 || !strcmp(val, "0") || !strcasecmp(val, "off"))
            on = 0;
    }
    fclose(fp);
    return on;
}

/* mkdir -p of @path's directory, new directories 0700. */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];

    if (sfmt(dir, sizeof(dir), "%s", path) < 0)
        return -1;
    for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

int tool_conf_set_pss(const char *path, bool on)
{
    char tmp[PATH_MAX], line[1024];
    struct stat st;
    mode_t mode = 0644;
    size_t total = 0;
    FILE *in, *out;
    int fd, rc = -1;

    if (make_parent(path) < 0 || sfmt(tmp, sizeof(tmp), "%s.new", path) < 0)
        return -1;
    in = fopen(path, "re");
    if (in && fstat(fileno(in), &st) == 0)
        mode = st.st_mode & 0777;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        if (fd >= 0)
            close(fd);
        goto out_in;
    }
    /* Every line but the pss ones, as it was. */
    while (in && fgets(line, sizeof(line), in)) {
        total += strlen(line);
        if (total > CONF_MAX)
            goto out_close;
        if (line_sets(line, "pss", NULL, 0))
            continue;
        fputs(line, out);
        if (!strchr(line, '\n'))
            fputc('\n', out);
    }
    if (on)
        fputs("# RSA-PSS for TLS 1.3: this card's P1 04 signature verified "
              "(mynacard-tool check-pss)\npss = true\n", out);
    rc = 0;
out_close:
    if (fclose(out) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
out_in:
    if (in)
        fclose(in);
    return rc;
}

int tool_pss_verify(const uint8_t *der, size_t len, const uint8_t *hash,
                    const uint8_t *sig, size_t siglen)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY_CTX *ctx = NULL;
    int ok = -1;

    if (!x)
        return -1;
    ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    if (ctx && EVP_PKEY_verify_init(ctx) == 1
        && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
        && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
        && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
        && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, JPKI_PSS_HASH_LEN) == 1)
        ok = EVP_PKEY_verify(ctx, sig, siglen, hash, JPKI_PSS_HASH_LEN) == 1;
    EVP_PKEY_CTX_free(ctx);
    X509_free(x);
    return ok;
}

static int write_setting(const char *path, bool on)
{
    if (tool_conf_set_pss(path, on) < 0) {
        complain(_("cannot write %s: %s"), path, strerror(errno));
        return TOOL_EFAIL;
    }
    jo_bool("enabled", on);
    jo_str("config", path);
    if (on)
        say(_("Enabled: %s now says pss = true.  Programs that load the "
            "module from now on (restart Firefox) can log in to TLS 1.3 "
            "sites.\n"), path);
    else
        say(_("Disabled: %s no longer sets pss (off, the default).  Restart "
            "the programs that use the card.\n"), path);
    return TOOL_OK;
}

/* The card's verdict: "works", "refused", "wrong" or "error". */
static const char *try_pss(struct tool_card *c, int *rc)
{
    uint8_t hash[JPKI_PSS_HASH_LEN], sig[JPKI_SIG_LEN];
    uint8_t *der = NULL;
    size_t derlen = 0, siglen = 0;
    int err, ok;

    *rc = TOOL_EFAIL;
    err = jpki_read_cert(c->j, JPKI_CERT_AUTH, &der, &derlen);
    if (err == 0 && RAND_bytes(hash, sizeof(hash)) != 1)
        err = MYNA_E_GENERAL;
    if (err == 0)
        err = jpki_sign_pss(c->j, JPKI_AUTH, hash, sig, sizeof(sig), &siglen);
    if (err == MYNA_E_P1P2) {
        complain(_("this card refuses RSA-PSS signatures (COMPUTE DIGITAL "
                 "SIGNATURE with P1 04 answered 6A86): it cannot log in to "
                 "TLS 1.3 sites"));
        free(der);
        return "refused";
    }
    if (err < 0) {
        complain(_("the check could not be made: %s"), tool_strerror(err));
        *rc = tool_exit_for(err);
        free(der);
        return "error";
    }
    ok = tool_pss_verify(der, derlen, hash, sig, siglen);
    free(der);
    OPENSSL_cleanse(sig, sizeof(sig));
    if (ok != 1) {
        complain(_("the card answered, but its answer is not an RSA-PSS "
                 "signature (MGF1-SHA256, 32-byte salt) by the "
                 "authentication key: TLS 1.3 sites would refuse it, and "
                 "the module would never hand it out"));
        return "wrong";
    }
    *rc = TOOL_OK;
    return "works";
}

int cmd_check_pss(int argc, char **argv)
{
    char path[PATH_MAX];
    struct tool_card c;
    const char *verdict;
    int rc;

    (void)argv;
    if (argc != 0 || (tool_opt.enable && tool_opt.disable)) {
        complain(_("usage: mynacard-tool check-pss [--enable|--disable] "
                 "[--stdin] [--yes] [--json]"));
        return TOOL_EUSAGE;
    }
    if ((tool_opt.enable || tool_opt.disable)
        && tool_conf_user_path(path, sizeof(path)) < 0) {
        complain(_("no home directory (HOME) for the configuration file"));
        return TOOL_EFAIL;
    }
    if (tool_opt.disable)
        return write_setting(path, false);

    say(_("This checks whether your card can sign for TLS 1.3 sites (an "
        "RSA-PSS signature).  It asks for the authentication PIN (4 "
        "digits): a right PIN spends no try; a wrong one costs one of the "
        "3.\n"));
    rc = tcard_open(&c);
    if (rc != TOOL_OK)
        return rc;
    rc = pin_tries_then_login(&c, JPKI_AUTH);
    if (rc != TOOL_OK)
        goto out_close;
    verdict = try_pss(&c, &rc);
    /* Leave no verified PIN on the card. */
    tcard_end(&c, true);
    jo_str("pss", verdict);
    if (!strcmp(verdict, "works")) {
        say(_("Your card makes RSA-PSS signatures that verify: it can log in "
            "to TLS 1.3 sites.\n"));
        if (tool_opt.enable)
            rc = write_setting(path, true);
        else
            say(_("To use it, run: mynacard-tool check-pss --enable\n"));
    } else if (strcmp(verdict, "error") != 0) {
        say(_("Your choices: use sites and programs that offer TLS 1.2 (in "
            "Firefox, only for this: about:config, "
            "security.tls.version.max = 3, which weakens every site), or "
            "ask the site for another way to log in.\n"));
        if (tool_opt.enable)
            complain(_("not enabled: the check did not pass"));
    }
out_close:
    tcard_close(&c);
    return rc;
}
