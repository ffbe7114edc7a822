/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool status: the readers, the card in them, the tries left of
 * both PINs (spending none), and the certificates with a warning when one
 * expires within 90 days or has expired.  The signature certificate is
 * read only after its password (status --sign), and the holder's facts in
 * it shown only with --personal; neither is ever written anywhere but the
 * standard output.  Layer: tool/; calls card.c, cert.c and pin.c.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "myna-err.h"
#include "tool.h"

static const char *kind_key(enum jpki_token_kind k)
{
    switch (k) {
    case JPKI_KIND_MYNUMBER:
        return "mynumber";
    case JPKI_KIND_JUKI:
        return "juki";
    case JPKI_KIND_PHONE_ANDROID:
        return "android";
    case JPKI_KIND_PHONE_IOS:
        return "ios";
    case JPKI_KIND_UNKNOWN:
    default:
        return "unknown";
    }
}

/* jpki_kind_name's text for people, in their language (the JSON keeps
 * jpki_kind_name's English). */
static const char *kind_label(enum jpki_token_kind k)
{
    switch (k) {
    case JPKI_KIND_MYNUMBER:
        return _("My Number Card");
    case JPKI_KIND_JUKI:
        return _("Juki card (住基カード)");
    case JPKI_KIND_PHONE_ANDROID:
        return _("JPKI on an Android smartphone");
    case JPKI_KIND_PHONE_IOS:
        return _("JPKI on an iPhone");
    case JPKI_KIND_UNKNOWN:
    default:
        return _("unknown JPKI token");
    }
}

/* Show one certificate; returns its expiry class (VALID when unreadable). */
static enum tool_expiry show_cert(const char *key, const char *title,
                                  const uint8_t *der, size_t len)
{
    struct tool_cert_facts f;

    if (tool_cert_facts(der, len, time(NULL), &f) < 0) {
        jo_obj_begin(key);
        jo_str("error", "not a valid certificate");
        jo_obj_end();
        say(_("%s: the card holds something that is not a valid certificate\n"),
            title);
        return TOOL_EXP_VALID;
    }
    jo_obj_begin(key);
    jo_str("subject", f.subject);
    jo_str("issuer", f.issuer);
    jo_str("serial", f.serial);
    jo_str("not_before", f.not_before);
    jo_str("not_after", f.not_after);
    jo_int("days_left", f.days_left);
    jo_str("expiry", tool_expiry_name(f.expiry));
    jo_obj_end();

    say(_("%s\n  Subject:  "), title);
    say_text(f.subject);
    say(_("\n  Issuer:   "));
    say_text(f.issuer);
    say(_("\n  Serial:   %s\n  Valid:    %s to %s\n"), f.serial, f.not_before,
        f.not_after);
    switch (f.expiry) {
    case TOOL_EXP_EXPIRED:
        say(_("  WARNING: this certificate EXPIRED on %s.  It no longer works "
            "(logins, hospitals, e-Tax): renew it at your municipal office.\n"),
            f.not_after);
        break;
    case TOOL_EXP_EXPIRING:
        say(ngettext("  WARNING: this certificate expires in %lld day, on "
                     "%s.  Renew it at your municipal office before then.\n",
                     "  WARNING: this certificate expires in %lld days, on "
                     "%s.  Renew it at your municipal office before then.\n",
                     (unsigned long)f.days_left),
            f.days_left, f.not_after);
        break;
    case TOOL_EXP_NOT_YET_VALID:
        say(_("  WARNING: this certificate is not valid yet (from %s): is the "
            "computer's clock right?\n"), f.not_before);
        break;
    case TOOL_EXP_VALID:
    default:
        say(ngettext("  %lld day left\n", "  %lld days left\n",
                     (unsigned long)f.days_left), f.days_left);
        break;
    }
    return f.expiry;
}

static void read_and_show(struct tool_card *c, enum jpki_cert which,
                          const char *key, const char *title, int *worst)
{
    uint8_t *der = NULL;
    size_t len = 0;
    int err = jpki_read_cert(c->j, which, &der, &len);
    enum tool_expiry e;

    if (err < 0) {
        jo_obj_begin(key);
        jo_str("error", myna_strerror(err));
        jo_obj_end();
        say(_("%s: cannot read it: %s\n"), title, tool_strerror(err));
        return;
    }
    e = show_cert(key, title, der, len);
    if (e == TOOL_EXP_EXPIRED || (e == TOOL_EXP_EXPIRING && *worst != TOOL_EXP_EXPIRED))
        *worst = (int)e;
    /* Every certificate buffer is cleansed: the signature one is personal
     * data, and one rule is simpler than two. */
    OPENSSL_clear_free(der, len);
}

static void show_personal(const uint8_t *der, size_t len)
{
    struct tool_personal p;
    char buf[32];

    if (tool_cert_personal(der, len, &p) < 0 || p.found == 0) {
        say(_("Personal fields: none found in the signature certificate\n"));
        jo_obj_begin("personal");
        jo_obj_end();
        return;
    }
    jo_obj_begin("personal");
    if (p.found & 0x01) jo_str("name", p.name);
    if (p.found & 0x02) jo_str("name_alt", p.name_alt);
    if (p.found & 0x04) jo_str("sex", tool_sex_name(p.sex, buf, sizeof(buf)));
    if (p.found & 0x08) jo_str("birth", tool_birth_date(p.birth, buf, sizeof(buf)));
    if (p.found & 0x10) jo_str("address", p.address);
    if (p.found & 0x20) jo_str("address_alt", p.address_alt);
    jo_obj_end();

    say(_("Personal fields (from the signature certificate):\n"));
    if (p.found & 0x01) { say(_("  Name:       ")); say_text(p.name); say("\n"); }
    if (p.found & 0x02) { say(_("  Name (alt): ")); say_text(p.name_alt); say("\n"); }
    if (p.found & 0x04) say(_("  Sex:        %s\n"), tool_sex_label(p.sex, buf, sizeof(buf)));
    if (p.found & 0x08) { say(_("  Born:       ")); say_text(tool_birth_date(p.birth, buf, sizeof(buf))); say("\n"); }
    if (p.found & 0x10) { say(_("  Address:    ")); say_text(p.address); say("\n"); }
    if (p.found & 0x20) { say(_("  Address (alt): ")); say_text(p.address_alt); say("\n"); }
    OPENSSL_cleanse(&p, sizeof(p));
    OPENSSL_cleanse(buf, sizeof(buf));
}

/* The signature certificate, after the password (the tries were shown).
 * Leaves it in *@der for --personal; the caller clears and frees it. */
static int show_sign(struct tool_card *c, int tries, int *worst,
                     uint8_t **der, size_t *len)
{
    int rc, err;

    if (tries == 0) {
        complain(_("the signature password is blocked: the signature "
                 "certificate cannot be read"));
        return TOOL_EBLOCKED;
    }
    rc = pin_login_sign(c, tries);
    if (rc != TOOL_OK)
        return rc;
    err = jpki_read_cert(c->j, JPKI_CERT_SIGN, der, len);
    tcard_end(c, true);   /* no verified password left behind */
    if (err < 0) {
        complain(_("cannot read the signature certificate: %s"),
                 tool_strerror(err));
        return tool_exit_for(err);
    }
    say("\n");
    if (show_cert("sign", _("Signature certificate (署名用電子証明書)"), *der,
                  *len) == TOOL_EXP_EXPIRED)
        *worst = TOOL_EXP_EXPIRED;
    return TOOL_OK;
}

int cmd_status(int argc, char **argv)
{
    struct tool_readers rs;
    struct tp_hub *hub = NULL;
    struct tool_card c;
    struct jpki_token_info ti;
    int err, idx, rc = TOOL_OK, tries[2] = { -1, -1 };
    int worst = TOOL_EXP_VALID;
    uint8_t *sign_der = NULL;
    size_t sign_len = 0;

    (void)argv;
    if (argc != 0) {
        complain(_("usage: mynacard-tool status [--sign [--personal]] [--reader NAME]"));
        return TOOL_EUSAGE;
    }
    if (tool_opt.personal && !tool_opt.sign) {
        complain(_("--personal needs --sign: the holder's facts are in the "
                 "signature certificate, read with its password"));
        return TOOL_EUSAGE;
    }
    memset(&c, 0, sizeof(c));
    err = tcard_readers(&hub, &rs);
    jo_bool("pcscd", err != MYNA_E_NO_SERVICE);
    if (err == MYNA_E_NO_SERVICE) {
        say(_("pcscd: not running\n"));
        complain(_("pcscd is not running or not reachable: start it (sudo "
                 "systemctl start pcscd.socket)"));
        tp_hub_free(hub);
        return TOOL_ENOSERVICE;
    }
    if (err < 0)
        return tcard_readers_failed(hub, err);
    say(_("Readers:\n"));
    jo_arr_begin("readers");
    for (size_t i = 0; i < rs.n; i++) {
        jo_obj_begin(NULL);
        jo_str("name", rs.r[i].name);
        jo_bool("card", rs.r[i].present);
        jo_obj_end();
        say("  ");
        say_text(rs.r[i].name);
        say(": %s\n", rs.r[i].present ? _("card present") : _("no card"));
    }
    jo_arr_end();
    if (rs.n == 0) {
        say(_("  none\n"));
        complain(_("no smart-card reader is connected"));
        tp_hub_free(hub);
        return TOOL_ENOCARD;
    }
    idx = tcard_pick(&rs, tool_opt.reader);
    if (idx < 0) {
        say(_("Card: none\n"));
        complain(_("no card in the reader: insert your My Number Card"));
        tp_hub_free(hub);
        return TOOL_ENOCARD;
    }
    jo_str("reader", rs.r[idx].name);
    err = tcard_connect(hub, rs.r[idx].name, &c);
    if (err == 0)
        err = tcard_begin(&c);
    if (err == MYNA_E_NOT_JPKI) {
        jo_obj_begin("card");
        jo_str("kind", "not-jpki");
        jo_obj_end();
        say(_("Card: not a My Number Card (it has no JPKI application)\n"));
        rc = TOOL_ENOCARD;
        goto out_close;
    }
    if (err < 0) {
        complain(_("cannot read the card: %s"), tool_strerror(err));
        rc = tool_exit_for(err);
        goto out_close;
    }
    err = jpki_read_token_info(c.j, &ti);
    if (err == 0) {
        char label[sizeof(ti.label)];

        text_sanitize(ti.label, label, sizeof(label));
        jo_obj_begin("card");
        jo_str("kind", kind_key(ti.kind));
        jo_str("label", ti.label);
        jo_str("name", jpki_kind_name(ti.kind));
        jo_obj_end();
        say(_("Card: %s (%s) in "), kind_label(ti.kind), label);
        say_text(c.reader);
        say("\n");
    } else {
        jo_obj_begin("card");
        jo_str("kind", "unknown");
        jo_obj_end();
        say(_("Card: a JPKI card whose token information cannot be read (%s)\n"),
            tool_strerror(err));
    }
    jo_obj_begin("pins");
    for (int role = 0; role < 2; role++) {
        err = jpki_pin_tries(c.j, (enum jpki_role)role, &tries[role]);
        jo_obj_begin(role == JPKI_AUTH ? "auth" : "sign");
        if (err == 0)
            jo_int("tries", tries[role]);
        else
            jo_str("error", myna_strerror(err));
        jo_int("max", pin_role_max((enum jpki_role)role));
        jo_obj_end();
        if (err < 0)
            say(_("%s: cannot read its tries: %s\n"),
                pin_role_title((enum jpki_role)role), tool_strerror(err));
        else if (tries[role] == 0)
            say(_("%s: %d of %d tries left -- BLOCKED: only your municipal "
                  "office can unblock it\n"),
                pin_role_title((enum jpki_role)role), tries[role],
                pin_role_max((enum jpki_role)role));
        else
            say(_("%s: %d of %d tries left\n"),
                pin_role_title((enum jpki_role)role), tries[role],
                pin_role_max((enum jpki_role)role));
    }
    jo_obj_end();

    jo_obj_begin("certificates");
    say("\n");
    read_and_show(&c, JPKI_CERT_AUTH, "auth",
                  _("Authentication certificate (利用者証明用電子証明書)"), &worst);
    say("\n");
    read_and_show(&c, JPKI_CERT_AUTH_CA, "auth-ca",
                  _("Authentication CA certificate"), &worst);
    say("\n");
    read_and_show(&c, JPKI_CERT_SIGN_CA, "sign-ca",
                  _("Signature CA certificate"), &worst);
    tcard_end(&c, false);
    if (tool_opt.sign) {
        rc = show_sign(&c, tries[JPKI_SIGN], &worst, &sign_der, &sign_len);
    } else {
        say(_("\nSignature certificate: not shown; `mynacard-tool status "
            "--sign` reads it with the signature password\n"));
    }
    jo_obj_end();
    jo_str("expiry", tool_expiry_name((enum tool_expiry)worst));
    if (sign_der && tool_opt.personal) {
        say("\n");
        show_personal(sign_der, sign_len);
    }
    OPENSSL_clear_free(sign_der, sign_len);
out_close:
    if (c.hub)
        tcard_close(&c);
    else
        tp_hub_free(hub);
    return rc;
}
