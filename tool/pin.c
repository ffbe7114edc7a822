/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * PIN entry and the PIN commands of mynacard-tool: verify-pin and
 * change-pin, and the signature-password login that status --sign and
 * export sign share.  Layer: tool/; calls the card layer (jpki_*), termios
 * on /dev/tty and OpenSSL's cleanse.
 *
 * Rules kept here, in this order: the tries left are read and shown
 * first (VERIFY without data spends none); a blocked PIN is never asked
 * for; the PIN is read from the terminal with echo off (or one line of
 * stdin under --stdin); its format is checked before anything reaches
 * the card; with one try left the holder confirms (or passes --yes);
 * then it is sent once, the card powered down afterwards so that no
 * verified PIN stays behind, and the tries left are shown again.  A PIN lives only
 * in fixed stack buffers, wiped on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "myna-err.h"
#include "tool.h"

/* Longest line kept: one more than the longest PIN, so that a PIN too
 * long is seen as such rather than cut to a valid one. */
#define PIN_LINE_MAX (JPKI_PIN_MAX + 1u)

/* The terminal whose echo we turned off, for the signal handler. */
static volatile sig_atomic_t tty_saved_fd = -1;
static struct termios tty_saved;

static void tty_restore_on_signal(int sig)
{
    if (tty_saved_fd >= 0)
        tcsetattr(tty_saved_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

const char *pin_role_name(enum jpki_role role)
{
    return role == JPKI_AUTH ? _("authentication PIN")
                             : _("signature password");
}

const char *pin_role_title(enum jpki_role role)
{
    return role == JPKI_AUTH ? _("Authentication PIN")
                             : _("Signature password");
}

int pin_role_max(enum jpki_role role)
{
    return role == JPKI_AUTH ? JPKI_AUTH_TRIES : JPKI_SIGN_TRIES;
}

int pin_role_parse(const char *s)
{
    if (!strcmp(s, "auth"))
        return JPKI_AUTH;
    if (!strcmp(s, "sign"))
        return JPKI_SIGN;
    return -1;
}

int pin_check_format(enum jpki_role role, const char *pin, size_t len,
                     uint8_t *norm, size_t *normlen, const char **why)
{
    int err;

    if (why)
        *why = NULL;
    err = jpki_pin_normalize(role, (const uint8_t *)pin, len, norm, normlen);
    if (err == 0)
        return TOOL_OK;
    if (why)
        *why = role == JPKI_AUTH
            ? _("the authentication PIN is exactly 4 digits")
            : _("the signature password is 6 to 16 letters A-Z and digits 0-9");
    return TOOL_EFORMAT;
}

/* Read one line from @fd into @buf (@cap bytes), byte by byte so that
 * nothing after the newline is consumed (change-pin reads two lines of
 * stdin).  Sets *@len and *@too_long.  Returns 0, or -1 at end of input
 * before any byte. */
static int read_line(int fd, char *buf, size_t cap, size_t *len,
                     bool *too_long)
{
    size_t n = 0;
    bool any = false;
    char ch;
    ssize_t r;

    *too_long = false;
    for (;;) {
        r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        any = true;
        if (ch == '\n')
            break;
        if (n < cap)
            buf[n++] = ch;
        else
            *too_long = true;
    }
    ch = 0;     /* the last byte read may be part of a PIN */
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    *len = n;
    return any ? 0 : -1;
}

/* Read a line from the terminal after @prompt; @echo false turns echo
 * off for the time of the read.  Returns 0, -1 at end of input, -2 when
 * there is no terminal. */
static int tty_line(const char *prompt, bool echo, char *buf, size_t cap,
                    size_t *len, bool *too_long)
{
    struct sigaction sa, old[4];
    static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct termios t;
    int fd, rc;
    bool off = false;

    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -2;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        close(fd);
        return -2;
    }
    if (!echo && tcgetattr(fd, &t) == 0) {
        tty_saved = t;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = tty_restore_on_signal;
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &sa, &old[i]);
        tty_saved_fd = fd;
        t.c_lflag &= ~(tcflag_t)ECHO;
        t.c_lflag |= ECHONL;      /* the Return still moves to a new line */
        off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
    }
    rc = read_line(fd, buf, cap, len, too_long);
    if (off || tty_saved_fd >= 0) {
        if (off)
            tcsetattr(fd, TCSAFLUSH, &tty_saved);
        tty_saved_fd = -1;
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &old[i], NULL);
    }
    close(fd);
    return rc;
}

int pin_read(enum jpki_role role, const char *prompt, uint8_t *pin,
             size_t *len)
{
    char line[PIN_LINE_MAX];
    const char *why = NULL;
    size_t n = 0;
    bool too_long = false;
    int rc;

    *len = 0;
    if (tool_opt.use_stdin)
        rc = read_line(STDIN_FILENO, line, sizeof(line), &n, &too_long);
    else
        rc = tty_line(prompt, false, line, sizeof(line), &n, &too_long);
    if (rc == -2) {
        complain(_("no terminal to ask for the %s on: use --stdin"),
                 pin_role_name(role));
        rc = TOOL_ECANCEL;
        goto out_wipe;
    }
    if (rc < 0 || (n == 0 && !too_long)) {
        complain(_("no %s given: nothing was sent to the card"),
                 pin_role_name(role));
        rc = TOOL_ECANCEL;
        goto out_wipe;
    }
    /* A line longer than any PIN is checked as such: the format check
     * sees its true length, JPKI_PIN_MAX + 1 at least. */
    rc = pin_check_format(role, line, too_long ? sizeof(line) : n, pin, len,
                          &why);
    if (rc != TOOL_OK) {
        complain(_("refused: %s; it was not sent to the card and no try was "
                 "spent"), why);
        *len = 0;
    }
out_wipe:
    OPENSSL_cleanse(line, sizeof(line));
    return rc;
}

int pin_confirm_last_try(enum jpki_role role, int tries)
{
    char line[16];
    size_t n = 0;
    bool too_long;
    int rc;

    if (tries != 1)
        return TOOL_OK;
    if (tool_opt.yes)
        return TOOL_OK;
    if (tool_opt.use_stdin) {
        complain(_("only one try is left for the %s: add --yes to send it "
                 "anyway; nothing was sent"), pin_role_name(role));
        return TOOL_ECANCEL;
    }
    rc = tty_line(_("Only one try is left: a wrong PIN blocks it. "
                    "Send it to the card? [y/N] "), true, line, sizeof(line),
                  &n, &too_long);
    if (rc == 0 && !too_long &&
        ((n == 1 && (line[0] == 'y' || line[0] == 'Y')) ||
         (n == 3 && !strncasecmp(line, "yes", 3))))
        return TOOL_OK;
    complain(_("not confirmed: nothing was sent to the card"));
    return TOOL_ECANCEL;
}

/* Tries left for @role in a transaction of their own. */
static int read_tries(struct tool_card *c, enum jpki_role role, int *tries)
{
    int err = tcard_begin(c);

    if (err == 0) {
        err = jpki_pin_tries(c->j, role, tries);
        tcard_end(c, false);
    }
    if (err < 0) {
        complain(_("cannot read the tries left of the %s: %s"),
                 pin_role_name(role), tool_strerror(err));
        return tool_exit_for(err);
    }
    return TOOL_OK;
}

static void show_tries(enum jpki_role role, int tries, bool now)
{
    if (now)
        say(_("%s: %d of %d tries left now\n"), pin_role_title(role), tries,
            pin_role_max(role));
    else
        say(_("%s: %d of %d tries left\n"), pin_role_title(role), tries,
            pin_role_max(role));
}

/* Before reading a PIN: the tries, and no PIN asked for a blocked one. */
static int before_pin(struct tool_card *c, enum jpki_role role, int *tries)
{
    int rc = read_tries(c, role, tries);

    if (rc != TOOL_OK)
        return rc;
    jo_int("tries_before", *tries);
    show_tries(role, *tries, false);
    if (*tries == 0) {
        complain(_("the %s is blocked: only your municipal office can "
                 "unblock it (bring the card and an ID)"),
                 pin_role_name(role));
        return TOOL_EBLOCKED;
    }
    if (*tries == 1)
        complain(_("warning: only one try is left for the %s"),
                 pin_role_name(role));
    return TOOL_OK;
}

/* After the card answered a VERIFY: the result for people and scripts. */
static int after_verify(struct tool_card *c, enum jpki_role role, int err,
                        int left)
{
    int tries = left;

    if (err == 0 && jpki_pin_tries(c->j, role, &tries) < 0)
        tries = -1;
    if (err == 0) {
        jo_str("result", "correct");
        say(_("The %s is correct.\n"), pin_role_name(role));
    } else if (err == MYNA_E_PIN_INCORRECT) {
        jo_str("result", "incorrect");
        complain(_("wrong %s"), pin_role_name(role));
    } else if (err == MYNA_E_PIN_LOCKED) {
        tries = 0;
        jo_str("result", "blocked");
        complain(_("wrong %s, and it is now blocked: only your municipal "
                 "office can unblock it"), pin_role_name(role));
    } else {
        jo_str("result", "error");
        complain(_("the card did not check the %s: %s"), pin_role_name(role),
                 tool_strerror(err));
        return tool_exit_for(err);
    }
    if (tries >= 0) {
        jo_int("tries_after", tries);
        show_tries(role, tries, true);
    }
    return tool_exit_for(err);
}

/* With the PIN read: the last-try confirmation, a transaction and the
 * PIN's VERIFY, @pin (JPKI_PIN_MAX bytes) wiped right after it.  Returns
 * TOOL_OK when the VERIFY was sent (its result in *@err and *@left, the
 * transaction open), or an exit status (said) with no transaction. */
static int confirm_then_verify(struct tool_card *c, enum jpki_role role,
                               int tries, uint8_t *pin, size_t len, int *err,
                               int *left)
{
    int rc = pin_confirm_last_try(role, tries);

    if (rc != TOOL_OK)
        return rc;
    *err = tcard_begin(c);
    if (*err < 0) {
        complain(_("cannot use the card: %s"), tool_strerror(*err));
        return tool_exit_for(*err);
    }
    *err = jpki_verify(c->j, role, pin, len, left);
    OPENSSL_cleanse(pin, JPKI_PIN_MAX);
    return TOOL_OK;
}

int pin_login(struct tool_card *c, enum jpki_role role, int tries_before)
{
    uint8_t pin[JPKI_PIN_MAX];
    size_t len = 0;
    int rc, err, left = -1;

    rc = pin_read(role, role == JPKI_SIGN ? _("Signature password: ")
                                          : _("Authentication PIN: "),
                  pin, &len);
    if (rc != TOOL_OK)
        goto out_wipe;
    rc = confirm_then_verify(c, role, tries_before, pin, len, &err, &left);
    if (rc != TOOL_OK)
        goto out_wipe;
    if (err == 0)
        return TOOL_OK;      /* the transaction stays open for the caller */
    rc = after_verify(c, role, err, left);
    tcard_end(c, true);
out_wipe:
    OPENSSL_cleanse(pin, sizeof(pin));
    return rc;
}

int pin_login_sign(struct tool_card *c, int tries_before)
{
    return pin_login(c, JPKI_SIGN, tries_before);
}

int pin_tries_then_login(struct tool_card *c, enum jpki_role role)
{
    int tries = 0, rc;

    rc = before_pin(c, role, &tries);
    if (rc != TOOL_OK)
        return rc;
    return pin_login(c, role, tries);
}

/* A PIN command's start: the card opened, @role's tries shown (refused
 * when blocked) and the PIN read after @prompt into @pin (JPKI_PIN_MAX
 * bytes).  Returns TOOL_OK with the card open, or an exit status (said)
 * with @pin wiped and the card closed. */
static int open_then_read(struct tool_card *c, enum jpki_role role, int *tries,
                          const char *prompt, uint8_t *pin, size_t *len)
{
    int rc = tcard_open(c);

    if (rc != TOOL_OK)
        return rc;
    rc = before_pin(c, role, tries);
    if (rc == TOOL_OK)
        rc = pin_read(role, prompt, pin, len);
    if (rc != TOOL_OK) {
        OPENSSL_cleanse(pin, JPKI_PIN_MAX);
        tcard_close(c);
    }
    return rc;
}

int cmd_verify_pin(int argc, char **argv)
{
    struct tool_card c;
    uint8_t pin[JPKI_PIN_MAX];
    size_t len = 0;
    int role, tries = 0, rc, err, left = -1;
    char prompt[256];

    if (argc != 1 || (role = pin_role_parse(argv[0])) < 0) {
        complain(_("usage: mynacard-tool verify-pin auth|sign [--stdin] [--yes]"));
        return TOOL_EUSAGE;
    }
    jo_str("pin", argv[0]);
    snprintf(prompt, sizeof(prompt), "%s: ", pin_role_title(role));
    rc = open_then_read(&c, role, &tries, prompt, pin, &len);
    if (rc != TOOL_OK)
        return rc;
    rc = confirm_then_verify(&c, role, tries, pin, len, &err, &left);
    if (rc != TOOL_OK)
        goto out_wipe;
    rc = after_verify(&c, role, err, left);
    tcard_end(&c, true);
out_wipe:
    OPENSSL_cleanse(pin, sizeof(pin));
    tcard_close(&c);
    return rc;
}

int cmd_change_pin(int argc, char **argv)
{
    struct tool_card c;
    uint8_t oldpin[JPKI_PIN_MAX], newpin[JPKI_PIN_MAX], again[JPKI_PIN_MAX];
    size_t oldlen = 0, newlen = 0, againlen = 0;
    int role, tries = 0, rc, err, left = -1;
    char prompt[256];
    const char *what;

    if (argc != 1 || (role = pin_role_parse(argv[0])) < 0) {
        complain(_("usage: mynacard-tool change-pin auth|sign [--stdin] [--yes]"));
        return TOOL_EUSAGE;
    }
    what = pin_role_name(role);
    jo_str("pin", argv[0]);
    memset(newpin, 0, sizeof(newpin));
    memset(again, 0, sizeof(again));
    memset(oldpin, 0, sizeof(oldpin));
    snprintf(prompt, sizeof(prompt), _("Current %s: "), what);
    rc = open_then_read(&c, role, &tries, prompt, oldpin, &oldlen);
    if (rc != TOOL_OK)
        return rc;
    snprintf(prompt, sizeof(prompt), _("New %s: "), what);
    rc = pin_read(role, prompt, newpin, &newlen);
    if (rc != TOOL_OK)
        goto out_wipe;
    /* On a terminal the new PIN is typed twice: a typo there would lock
     * the holder out.  A script gives it once. */
    if (!tool_opt.use_stdin) {
        snprintf(prompt, sizeof(prompt), _("New %s again: "), what);
        rc = pin_read(role, prompt, again, &againlen);
        if (rc != TOOL_OK)
            goto out_wipe;
        if (againlen != newlen || memcmp(again, newpin, newlen) != 0) {
            complain(_("the two new %ss differ: nothing was sent to the card"),
                     what);
            rc = TOOL_ECANCEL;
            goto out_wipe;
        }
    }
    rc = confirm_then_verify(&c, role, tries, oldpin, oldlen, &err, &left);
    if (rc != TOOL_OK)
        goto out_wipe;
    if (err == 0) {
        err = jpki_change_pin(c.j, role, newpin, newlen);
        if (err == 0) {
            jo_bool("changed", true);
            say(_("The %s is changed.\n"), what);
        } else {
            jo_bool("changed", false);
            complain(_("the card refused the change: %s; the old %s is "
                     "still the one"), tool_strerror(err), what);
        }
        rc = err == 0 ? TOOL_OK : tool_exit_for(err);
        if (jpki_pin_tries(c.j, role, &left) == 0) {
            jo_int("tries_after", left);
            show_tries(role, left, true);
        }
    } else {
        jo_bool("changed", false);
        rc = after_verify(&c, role, err, left);
    }
    tcard_end(&c, true);
out_wipe:
    OPENSSL_cleanse(oldpin, sizeof(oldpin));
    OPENSSL_cleanse(newpin, sizeof(newpin));
    OPENSSL_cleanse(again, sizeof(again));
    tcard_close(&c);
    return rc;
}

int pin_tries_then_login_sign(struct tool_card *c)
{
    int tries = 0, rc;

    rc = read_tries(c, JPKI_SIGN, &tries);
    if (rc != TOOL_OK)
        return rc;
    show_tries(JPKI_SIGN, tries, false);
    if (tries == 0) {
        complain(_("the signature password is blocked: only your municipal "
                 "office can unblock it"));
        return TOOL_EBLOCKED;
    }
    return pin_login_sign(c, tries);
}
