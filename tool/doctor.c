/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool doctor: checks, in the order a problem would hide the
 * next one, pcscd, the readers, the card, the tries left, the
 * authentication certificate's validity, the installed modules and their
 * registrations, and says for each problem how to fix it; it also states
 * the TLS 1.3 limit and whether Firefox is capped at TLS 1.2; and what
 * Mynaportal needs (setup mynaportal).  Spends no PIN try and reads
 * nothing personal.  Exit status 0 when nothing needs fixing (notes
 * allowed), 1 otherwise.  Layer: tool/; calls card.c, cert.c, the
 * registration checks of nssdb.c, firefox.c, libreoffice.c and p11kit.c,
 * and mynaportal.c.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "myna-err.h"
#include "tool.h"

static unsigned problems;

static void report(const char *check, enum doctor_level lv, const char *fix,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(const char *check, enum doctor_level lv, const char *fix,
                   const char *fmt, ...)
{
    static const char *const tag[] = { "[ ok ]", "[note]", "[warn]", "[FAIL]" };
    static const char *const name[] = { "ok", "note", "warn", "fail" };
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lv >= LV_WARN)
        problems++;
    jo_obj_begin(NULL);
    jo_str("check", check);
    jo_str("status", name[lv]);
    jo_str("message", msg);
    jo_str("fix", fix);
    jo_obj_end();
    say("%s ", tag[lv]);
    say_text(msg);
    say("\n");
    if (fix) {
        say(_("       fix: "));
        say_text(fix);
        say("\n");
    }
}

/* The card: kind, tries, authentication certificate.  Returns false
 * when there is no usable card (later card checks are skipped). */
static void check_card(struct tp_hub *hub, const struct tool_readers *rs)
{
    struct tool_card c;
    struct jpki_token_info ti;
    struct tool_cert_facts f;
    uint8_t *der = NULL;
    size_t len = 0;
    int idx, err, tries;
    char fix[256];

    idx = tcard_pick(rs, tool_opt.reader);
    if (idx < 0) {
        report("card", LV_FAIL, D_("insert your My Number Card into the "
               "reader (contact readers: chip first, face up)"),
               "%s", rs->n == 1 ? D_("no card in the reader")
                                : D_("no card in any reader"));
        tp_hub_free(hub);
        return;
    }
    err = tcard_connect(hub, rs->r[idx].name, &c);
    if (err == 0)
        err = tcard_begin(&c);
    if (err == MYNA_E_NOT_JPKI) {
        report("card", LV_FAIL, D_("insert a My Number Card: this card has "
               "no JPKI application"),
               D_("the card in %s is not a My Number Card"), rs->r[idx].name);
        goto out_close;
    }
    if (err < 0) {
        report("card", LV_FAIL, D_("take the card out, put it back and try "
               "again; for contactless readers keep it still on the reader"),
               D_("cannot talk to the card in %s: %s"), rs->r[idx].name,
               tool_strerror(err));
        goto out_close;
    }
    if (jpki_read_token_info(c.j, &ti) == 0 && ti.kind == JPKI_KIND_JUKI)
        report("card", LV_WARN, D_("get a My Number Card at your "
               "municipal office: the 住基カード's certificates are no "
               "longer issued"),
               D_("this is a 住基カード (Juki card), not a My Number Card"));
    else
        report("card", LV_OK, NULL, D_("a JPKI card is in %s"),
               rs->r[idx].name);

    for (int role = 0; role < 2; role++) {
        /* pin_role_name's words, English under --json. */
        const char *what = role == JPKI_AUTH ? D_("authentication PIN")
                                             : D_("signature password");

        err = jpki_pin_tries(c.j, (enum jpki_role)role, &tries);
        if (err < 0) {
            report("pin", LV_WARN, NULL, D_("cannot read the tries left of the "
                   "%s: %s"), what, tool_strerror(err));
        } else if (tries == 0) {
            report("pin", LV_FAIL, D_("only your municipal office can unblock "
                   "it: go there with the card and an ID"),
                   D_("the %s is blocked"), what);
        } else if (tries < pin_role_max((enum jpki_role)role)) {
            sfmt(fix, sizeof(fix), D_("a correct %s resets the count "
                     "(`mynacard-tool verify-pin %s`)"), what,
                     role == JPKI_AUTH ? "auth" : "sign");
            report("pin", LV_WARN, fix, D_("the %s has %d of %d tries left"),
                   what, tries, pin_role_max((enum jpki_role)role));
        } else {
            report("pin", LV_OK, NULL, D_("the %s has all its %d tries"), what,
                   tries);
        }
    }

    err = jpki_read_cert(c.j, JPKI_CERT_AUTH, &der, &len);
    if (err < 0 || tool_cert_facts(der, len, time(NULL), &f) < 0) {
        if (err < 0)
            report("certificate", LV_FAIL, D_("the card may hold no "
                   "certificate: ask your municipal office"),
                   D_("cannot read the authentication certificate: %s"),
                   tool_strerror(err));
        else
            report("certificate", LV_FAIL, D_("the card may hold no "
                   "certificate: ask your municipal office"),
                   D_("cannot read the authentication certificate"));
    } else if (f.expiry == TOOL_EXP_EXPIRED) {
        report("certificate", LV_FAIL, D_("renew the certificates at your "
               "municipal office (bring the card; it takes minutes)"),
               D_("the authentication certificate expired on %s"), f.not_after);
    } else if (f.expiry == TOOL_EXP_EXPIRING) {
        report("certificate", LV_WARN, D_("renew the certificates at your "
               "municipal office before then"),
               D_("the authentication certificate expires in %lld days, on %s"),
               f.days_left, f.not_after);
    } else if (f.expiry == TOOL_EXP_NOT_YET_VALID) {
        report("certificate", LV_WARN, D_("check the computer's date and time"),
               D_("the authentication certificate is not valid until %s"),
               f.not_before);
    } else {
        report("certificate", LV_OK, NULL, D_("the authentication certificate "
               "is valid until %s (%lld days)"), f.not_after, f.days_left);
    }
    OPENSSL_clear_free(der, len);
out_close:
    tcard_close(&c);
}

static void check_modules(void)
{
    static const char *const targets[] = { "p11-kit", "firefox", "libreoffice" };
    char lib[PATH_MAX], fix[PATH_MAX + 64];
    struct stat st;
    bool ok = true;

    for (size_t i = 0; i < 3; i++) {
        tool_module_for(targets[i], lib, sizeof(lib));
        if (stat(lib, &st) < 0) {
            sfmt(fix, sizeof(fix), "%s", D_("reinstall mynacard (or set "
                 "MYNACARD_MODULE_DIR to where the modules are)"));
            report("modules", LV_FAIL, fix, D_("%s is missing"), lib);
            ok = false;
        }
    }
    if (ok)
        report("modules", LV_OK, NULL, D_("the three modules are in %s"),
               tool_module_dir());
}

static void check_reg(const char *check, const char *what,
                      const struct reg_report *r, const char *setup,
                      bool none_is_problem)
{
    char fix[128];

    sfmt(fix, sizeof(fix), "mynacard-tool setup %s", setup);
    switch (r->state) {
    case REG_OK:
        report(check, LV_OK, NULL, D_("%s: registered (%s)"), what, r->where);
        break;
    case REG_WRONG:
        report(check, LV_WARN, fix, "%s: %s (%s)", what, r->detail,
               r->where);
        break;
    case REG_MISSING:
        if (r->detail[0])
            report(check, LV_WARN, fix, D_("%s: the module is not "
                   "registered: %s (%s)"), what, r->detail, r->where);
        else
            report(check, LV_WARN, fix, D_("%s: the module is not "
                   "registered (%s)"), what, r->where);
        break;
    case REG_NONE:
    default:
        report(check, none_is_problem ? LV_WARN : LV_NOTE,
               none_is_problem ? fix : NULL, D_("%s: not set up (%s)"), what,
               r->where);
        break;
    }
}

/* Mynaportal and e-Tax: the host manifests, the host program and the
 * extension (mynaportal.c). */
static void check_mynaportal(void)
{
    static struct mp_finding f[16];
    size_t n = mp_check(f, 16);

    for (size_t i = 0; i < n; i++)
        report("mynaportal", f[i].level, f[i].fix[0] ? f[i].fix : NULL, "%s",
               f[i].message);
}

/* The pss setting, as the module reads it: MYNACARD_CONF alone, else the
 * user's file over the system's. */
static void check_pss(void)
{
    char user[PATH_MAX], sys[PATH_MAX];
    const char *env = getenv("MYNACARD_CONF"), *where = NULL;
    int on = -1;

    if (env && *env) {
        on = tool_conf_pss(env);
        where = env;
    } else {
        sfmt(sys, sizeof(sys), "%s/mynacard/mynacard.conf",
             MYNACARD_SYSCONFDIR);
        if (tool_conf_user_path(user, sizeof(user)) == 0) {
            on = tool_conf_pss(user);
            where = user;
        }
        if (on < 0) {
            on = tool_conf_pss(sys);
            where = sys;
        }
    }
    if (on == 1)
        report("tls", LV_OK, NULL, D_("TLS 1.3: RSA-PSS is on (pss = true in "
               "%s); every PSS signature is checked before it is used"),
               where);
    else
        report("tls", LV_NOTE, D_("run `mynacard-tool check-pss`; if your card "
               "can, `mynacard-tool check-pss --enable`"), "%s",
               on == 0 ? D_("TLS 1.3 needs RSA-PSS, which is off (pss = "
                            "false): a site that offers TLS 1.3 gets no "
                            "certificate from the card")
                       : D_("TLS 1.3 needs RSA-PSS, which is off: a site "
                            "that offers TLS 1.3 gets no certificate from "
                            "the card"));
}

static void check_registrations(void)
{
    struct reg_report r, ff[8];
    size_t n, profiles, capped;

    reg_check_p11kit(&r);
    check_reg("p11-kit", D_("p11-kit (GnuTLS, OpenSSL, OpenSSH)"), &r,
              "p11-kit", true);
    n = reg_check_firefox(ff, 8);
    if (n == 0)
        report("firefox", LV_NOTE, NULL, D_("no Firefox profile found"));
    for (size_t i = 0; i < n; i++)
        check_reg("firefox", D_("Firefox profile"), &ff[i], "firefox", true);
    reg_check_nss(&r);
    check_reg("nss", D_("shared NSS database (Chromium)"), &r, "chromium",
              false);
    reg_check_libreoffice(&r);
    check_reg("libreoffice", "LibreOffice", &r, "libreoffice", false);
    check_mynaportal();

    /* Not a fault of the installation, but the usual reason a login fails
     * with everything else right. */
    check_pss();
    reg_check_tls(&profiles, &capped);
    if (capped > 0)
        report("firefox-tls", LV_NOTE, NULL, D_("%zu of %zu Firefox profiles "
               "capped at TLS 1.2 (security.tls.version.max = 3): every "
               "site is reached with TLS 1.2 at most"), capped, profiles);
}

int cmd_doctor(int argc, char **argv)
{
    struct tool_readers rs;
    struct tp_hub *hub = NULL;
    int err;

    (void)argv;
    if (argc != 0) {
        complain(_("usage: mynacard-tool doctor [--json]"));
        return TOOL_EUSAGE;
    }
    problems = 0;
    jo_arr_begin("checks");
    err = tcard_readers(&hub, &rs);
    if (err == MYNA_E_NO_SERVICE) {
        report("pcscd", LV_FAIL, D_("sudo apt install pcscd; sudo systemctl "
               "enable --now pcscd.socket"), D_("pcscd is not running or not "
               "reachable"));
        tp_hub_free(hub);
    } else if (err < 0) {
        report("pcscd", LV_FAIL, D_("restart pcscd (sudo systemctl restart "
               "pcscd)"), D_("cannot list the readers: %s"),
               tool_strerror(err));
        tp_hub_free(hub);
    } else {
        report("pcscd", LV_OK, NULL, D_("pcscd is running"));
        if (rs.n == 0) {
            report("reader", LV_FAIL, D_("plug in the reader; USB readers need "
                   "the CCID driver (sudo apt install libccid); `pcsc_scan` "
                   "shows what pcscd sees"), D_("no smart-card reader"));
            tp_hub_free(hub);
        } else {
            for (size_t i = 0; i < rs.n; i++)
                report("reader", LV_OK, NULL, D_("reader: %s"), rs.r[i].name);
            check_card(hub, &rs);
        }
    }
    check_modules();
    check_registrations();
    jo_arr_end();
    jo_int("problems", problems);
    if (problems)
        say(ngettext("\n%u problem found.\n", "\n%u problems found.\n",
                     problems), problems);
    else
        say(_("\nEverything looks right.\n"));
    return problems ? TOOL_EFAIL : TOOL_OK;
}
