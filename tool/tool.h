/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool: what the holder of a My Number Card needs to see and do,
 * from the command line.  Layer: a program beside module/, built directly
 * on the card layer (apdu/: tp_hub_pcsc_new, jpki_*), never through
 * PKCS#11.  One file per concern: main.c (commands and options), out.c
 * (human and JSON output), card.c (the reader and the card), cert.c
 * (X.509 facts), pin.c (PIN entry, verify-pin, change-pin), status.c,
 * export.c, files.c (the home directory, reading and writing files),
 * setup.c (registering the modules: its dispatch; nssdb.c, firefox.c,
 * libreoffice.c and p11kit.c each target's), mynaportal.c (setup
 * mynaportal: the native messaging host and the browser extension),
 * doctor.c, pss.c (check-pss: RSA-PSS for TLS 1.3), i18n.c (messages
 * in the user's language: gettext, po/).
 *
 * PINs are kept only in fixed buffers on the stack of the command that
 * reads them, wiped with OPENSSL_cleanse on every path, never printed or
 * logged, never sent when their format is wrong and never sent twice.
 */
#ifndef MYNA_TOOL_H
#define MYNA_TOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <libintl.h>

#include "jpki.h"
#include "transport.h"

/* ---- Exit status (documented in doc/mynacard-tool.1) ---- */
enum tool_exit {
    TOOL_OK = 0,
    TOOL_EFAIL = 1,       /* any other failure; doctor: problems found */
    TOOL_EUSAGE = 2,      /* bad command line */
    TOOL_ENOSERVICE = 3,  /* pcscd is not running or not reachable */
    TOOL_ENOCARD = 4,     /* no reader, no card, or not a JPKI card */
    TOOL_EPIN = 5,        /* the card rejected the PIN (one try spent) */
    TOOL_EBLOCKED = 6,    /* the PIN is blocked */
    TOOL_EFORMAT = 7,     /* the PIN has the wrong format: nothing sent */
    TOOL_ECANCEL = 8,     /* the user declined or gave no PIN: nothing sent */
    TOOL_EBUSY = 9        /* setup refused: Firefox or LibreOffice runs */
};

/* ---- Messages in the user's language (gettext, domain mynacard-tool) ----
 * _() translates text for people; N_() marks text translated later.
 * D_() and DN_() are for text that may also land in the --json document
 * (doctor's messages, a registration's detail): English under --json, so
 * that the document never changes with the locale, translated otherwise.
 * Keys and values meant for programs are never marked. */
#define TOOL_TEXT_DOMAIN "mynacard-tool"
#define _(s) gettext(s)
#define N_(s) (s)
#define D_(s) tool_doc_text(s)
#define DN_(s, p, n) tool_doc_ntext((s), (p), (n))
const char *tool_doc_text(const char *msgid) __attribute__((format_arg(1)));
const char *tool_doc_ntext(const char *msgid, const char *plural,
                           unsigned long n) __attribute__((format_arg(1)))
    __attribute__((format_arg(2)));
/* The card layer's error text (myna_strerror) in the user's language;
 * D_() rules: English under --json. */
const char *tool_strerror(int err);
/* Its English text (the msgid) for @err, or NULL when tool/i18n.c lacks
 * it.  For the unit tests. */
const char *tool_strerror_msgid(int err);
/* setlocale and the message catalogs: $MYNACARD_LOCALEDIR (the build
 * tree's, for the tests), else the installed ones.  main() calls it
 * first. */
void tool_i18n_init(void);

/* ---- Options common to every command (main.c) ---- */
struct tool_opts {
    bool json;            /* --json: one JSON object on stdout */
    bool use_stdin;       /* --stdin: PINs from standard input */
    bool yes;             /* --yes: the last-try confirmation, for scripts */
    bool sign;            /* status --sign */
    bool personal;        /* status --personal */
    bool der;             /* export --der */
    bool remove;          /* setup --remove */
    bool system;          /* setup mynaportal --system: for all users */
    bool allow_unsigned;  /* setup mynaportal --allow-unsigned (Firefox) */
    bool enable;          /* check-pss --enable */
    bool disable;         /* check-pss --disable */
    const char *reader;   /* --reader SUBSTRING */
    const char *output;   /* export -o FILE */
};

extern struct tool_opts tool_opt;

int cmd_status(int argc, char **argv);
int cmd_verify_pin(int argc, char **argv);
int cmd_change_pin(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_setup(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_check_pss(int argc, char **argv);

/* ---- Output (out.c) ----
 * Human text goes through say() (to stdout, nothing under --json);
 * JSON through the jo_* calls (nothing without --json), which build one
 * Jansson document, dumped compact by jo_done().  Strings from the card
 * are untrusted: invalid UTF-8 is replaced by U+FFFD and Jansson escapes
 * the rest; human text has control characters replaced, so a certificate
 * cannot drive the terminal. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Errors and hints for people: stderr, also under --json. */
void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send say() text to stderr instead (export: stdout is the certificate). */
void say_to_stderr(bool on);
/* Print untrusted @s for a terminal (control characters as '?'). */
void say_text(const char *s);

void jo_obj_begin(const char *key);
void jo_obj_end(void);
void jo_arr_begin(const char *key);
void jo_arr_end(void);
void jo_str(const char *key, const char *val);  /* NULL val: null */
void jo_int(const char *key, long long val);
void jo_bool(const char *key, bool val);
/* Close every level but the outermost (after a command returned early). */
void jo_unwind(void);
/* Finish the document (newline); call once, at the end of a command. */
void jo_done(void);

/* Write @s (@len bytes) as a JSON string with its quotes to @fp, through
 * Jansson: ", \ and C0 controls escaped (\u00XX in Jansson's uppercase
 * hex, \b \f \n \r \t by name), invalid UTF-8 replaced by U+FFFD, one
 * per bad byte.  Exported for the unit tests. */
void json_write_string(FILE *fp, const char *s, size_t len);
/* snprintf for paths and messages whose truncation is acceptable (a path
 * longer than PATH_MAX fails later, where it is used). */
int sfmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy @s into @out (@cap bytes, NUL-terminated, truncated) with control
 * characters (C0, DEL) replaced by '?'.  Pure. */
void text_sanitize(const char *s, char *out, size_t cap);

/* ---- The card (card.c) ---- */
struct tool_card {
    struct tp_hub *hub;
    struct transport *tp;
    struct jpki *j;
    char reader[TP_READER_NAME_MAX];
    bool in_tx;
};

struct tool_readers {
    struct tp_reader_state r[TP_READERS_MAX];
    size_t n;
};

/* List the readers through pcsc-lite.  *@hub is created (freed by the
 * caller with tp_hub_free) even when the list fails.  Returns 0,
 * MYNA_E_NO_SERVICE (pcscd down) or another error. */
int tcard_readers(struct tp_hub **hub, struct tool_readers *out);
/* A failure @err of tcard_readers other than MYNA_E_NO_SERVICE (each
 * caller says that its own way): said, @hub freed, and the exit status
 * returned. */
int tcard_readers_failed(struct tp_hub *hub, int err);
/* The reader to use: the first whose name contains @want (any when
 * NULL) and holds a card.  Returns its index or -1. */
int tcard_pick(const struct tool_readers *rs, const char *want);
/* Connect to the card in reader @name over @hub (taken over: freed by
 * tcard_close).  Returns 0 or an error. */
int tcard_connect(struct tp_hub *hub, const char *name, struct tool_card *c);
/* Open a transaction and select the JPKI application.  A card reset
 * since the last transaction is not an error here: nothing is verified
 * between our transactions.  Returns 0, MYNA_E_NOT_JPKI or an error. */
int tcard_begin(struct tool_card *c);
/* Close it; @unpower powers the card down, leaving no verified PIN
 * behind. */
void tcard_end(struct tool_card *c, bool unpower);
void tcard_close(struct tool_card *c);
/* Every command's way in: list, pick, connect, with the messages for
 * people and the exit status.  Returns TOOL_OK with @c ready, or an exit
 * status (the message already given). */
int tcard_open(struct tool_card *c);
/* The exit status for a card-layer error. */
int tool_exit_for(int err);

/* ---- X.509 facts (cert.c) ---- */
#define TOOL_EXPIRY_WARN_DAYS 90

enum tool_expiry {
    TOOL_EXP_VALID = 0,
    TOOL_EXP_EXPIRING,     /* within TOOL_EXPIRY_WARN_DAYS */
    TOOL_EXP_EXPIRED,
    TOOL_EXP_NOT_YET_VALID
};

struct tool_cert_facts {
    char subject[512];
    char issuer[512];
    char serial[128];        /* hex, colon separated */
    char not_before[32];     /* YYYY-MM-DD HH:MM:SS UTC */
    char not_after[32];
    long long days_left;     /* whole days from now to notAfter (< 0 past) */
    enum tool_expiry expiry;
};

/* Classify a validity window against @now.  Pure. */
enum tool_expiry tool_expiry_classify(time_t not_before, time_t not_after,
                                      time_t now, long long *days_left);
const char *tool_expiry_name(enum tool_expiry e);

/* Parse @der (@len bytes, untrusted) and fill @f against @now.  Returns 0
 * or MYNA_E_BAD_RESPONSE. */
int tool_cert_facts(const uint8_t *der, size_t len, time_t now,
                    struct tool_cert_facts *f);

/* The holder's facts in the signature certificate's subjectAltName
 * (otherName 1.2.392.200149.8.5.5.1 to .6, UTF8String).  Personal data:
 * the caller wipes the struct with OPENSSL_cleanse after use. */
#define TOOL_PERSONAL_MAX 512
struct tool_personal {
    char name[TOOL_PERSONAL_MAX];          /* .1 */
    char name_alt[TOOL_PERSONAL_MAX];      /* .2 substitute characters */
    char sex[8];                           /* .3 */
    char birth[16];                        /* .4 EYYYYMMDD */
    char address[TOOL_PERSONAL_MAX];       /* .5 */
    char address_alt[TOOL_PERSONAL_MAX];   /* .6 */
    unsigned found;                        /* bit N-1 set for .N seen */
};

/* Returns 0 (with found == 0 when there is no such field),
 * MYNA_E_BAD_RESPONSE when @der is not a certificate. */
int tool_cert_personal(const uint8_t *der, size_t len,
                       struct tool_personal *p);
/* "male", "female", "other (N)" for the sex code. */
const char *tool_sex_name(const char *code, char *buf, size_t cap);
/* The same for people, in their language. */
const char *tool_sex_label(const char *code, char *buf, size_t cap);
/* EYYYYMMDD to YYYY-MM-DD into @buf; the input itself when malformed. */
const char *tool_birth_date(const char *code, char *buf, size_t cap);

/* ---- PINs (pin.c) ---- */

/* Read @role's PIN: from /dev/tty without echo after @prompt, or one
 * line of stdin under --stdin.  Checks the format (jpki_pin_normalize)
 * and leaves the normalised PIN in @pin (JPKI_PIN_MAX bytes), which the
 * caller wipes.  Returns TOOL_OK, TOOL_EFORMAT (explained, nothing sent)
 * or TOOL_ECANCEL (no PIN given). */
int pin_read(enum jpki_role role, const char *prompt, uint8_t *pin,
             size_t *len);
/* The format check alone, with a message for people (NULL for none).
 * Pure; exported for the unit tests. */
int pin_check_format(enum jpki_role role, const char *pin, size_t len,
                     uint8_t *norm, size_t *normlen, const char **why);
/* When @tries is 1, ask the holder to confirm on the terminal (or
 * require --yes under --stdin).  Returns TOOL_OK or TOOL_ECANCEL. */
int pin_confirm_last_try(enum jpki_role role, int tries);
/* "authentication PIN" / "signature password" for people, translated;
 * pin_role_title() is the same at the start of a line. */
const char *pin_role_name(enum jpki_role role);
const char *pin_role_title(enum jpki_role role);
int pin_role_max(enum jpki_role role);
/* "auth" or "sign" to a role; -1 for anything else. */
int pin_role_parse(const char *s);
/* Verify the signature password in an open transaction (tries already
 * shown), used by status --sign and export sign. */
int pin_login_sign(struct tool_card *c, int tries_before);
/* The same after reading and showing the tries (refused when blocked).
 * On TOOL_OK a transaction is open with the password verified: the
 * caller reads what it needs and ends it with tcard_end(c, true). */
int pin_tries_then_login_sign(struct tool_card *c);
/* The same for either PIN: @role's tries shown (and in the JSON), the PIN
 * read and verified; on TOOL_OK the transaction is open with it verified,
 * to be ended with tcard_end(c, true).  pin_login() skips the tries. */
int pin_login(struct tool_card *c, enum jpki_role role, int tries_before);
int pin_tries_then_login(struct tool_card *c, enum jpki_role role);

/* ---- RSA-PSS for TLS 1.3 (pss.c) ---- */

/* The user's mynacard.conf, as the module finds it ($XDG_CONFIG_HOME when
 * absolute, else ~/.config).  Returns 0, or -1 without a home. */
int tool_conf_user_path(char *buf, size_t cap);
/* What @path says of pss: 1 on, 0 off, -1 not set or no file. */
int tool_conf_pss(const char *path);
/* Set (`pss = true`) or remove pss in @path, keeping its other lines and
 * mode; written to a new file renamed over the old.  Returns 0 or -1
 * (errno set). */
int tool_conf_set_pss(const char *path, bool on);
/* Whether @sig is an RSASSA-PSS signature (SHA-256, MGF1-SHA256, 32-byte
 * salt) over the 32-byte @hash by the key of certificate @der: 1 yes, 0
 * no, -1 when @der is not usable.  Pure; for the unit tests too. */
int tool_pss_verify(const uint8_t *der, size_t len, const uint8_t *hash,
                    const uint8_t *sig, size_t siglen);

/* ---- Files (files.c) ---- */

/* $HOME, else the password database's home directory. */
const char *tool_home(void);
/* $XDG_CONFIG_HOME when absolute, else ~/.config, into @buf. */
void tool_config_home(char *buf, size_t cap);
/* Whether @path exists (stat succeeds); whether it is a directory. */
bool tool_exists(const char *path);
bool tool_is_dir(const char *path);
/* mkdir -p with @mode for the directories it makes.  Returns 0 or -1. */
int tool_mkdir_p(const char *path, mode_t mode);
/* A whole small file (at most 16 MiB), NUL-terminated, to free(); NULL
 * when missing, unreadable or too big.  *@len its length when not NULL. */
char *tool_slurp(const char *path, size_t *len);
/* Write @path atomically (a temporary file renamed over it) with exactly
 * @mode.  Returns 0 or -1 (errno set). */
int tool_write_file(const char *path, const char *data, size_t len,
                    mode_t mode);

/* ---- Setup and registrations (setup.c, nssdb.c, firefox.c,
 * libreoffice.c, p11kit.c) ---- */

/* The Firefox profiles of ~/.mozilla/firefox/profiles.ini that exist, up
 * to @cap, each PATH_MAX bytes.  Returns how many. */
size_t tool_firefox_profiles(char out[][PATH_MAX], size_t cap);
/* Whether Firefox holds profile @dir (its lock, with a live process);
 * *@pid the process when known. */
bool tool_profile_in_use(const char *dir, pid_t *pid);

/* The module directory: $MYNACARD_MODULE_DIR, else the install one. */
const char *tool_module_dir(void);
/* The module to register for @target ("firefox", ...), full path into
 * @buf. */
const char *tool_module_for(const char *target, char *buf, size_t cap);

/* What doctor needs to know about one kind of registration. */
enum reg_state {
    REG_NONE = 0,      /* nowhere to register (no Firefox profile, ...) */
    REG_MISSING,       /* a place exists but lacks the module */
    REG_WRONG,         /* registered, but the wrong module for the place */
    REG_OK
};
struct reg_report {
    enum reg_state state;
    char where[512];   /* a path for people */
    char detail[256];
};
/* Each fills up to @cap reports and returns how many. */
size_t reg_check_firefox(struct reg_report *out, size_t cap);
void reg_check_nss(struct reg_report *out);
void reg_check_libreoffice(struct reg_report *out);
void reg_check_p11kit(struct reg_report *out);
/* Firefox profiles capped at TLS 1.2 (security.tls.version.max = 3):
 * sets *@profiles and *@capped. */
void reg_check_tls(size_t *profiles, size_t *capped);

/* ---- Mynaportal: the native messaging host and the extension
 * (mynaportal.c) ---- */

/* setup mynaportal [--remove] [--system] [--allow-unsigned]. */
int setup_mynaportal(void);

/* What doctor says about one piece: the level of a finding (doctor.c
 * counts LV_WARN and LV_FAIL as problems), its message and its fix. */
enum doctor_level { LV_OK, LV_NOTE, LV_WARN, LV_FAIL };
struct mp_finding {
    enum doctor_level level;
    char message[1024];
    char fix[256];      /* "" for none */
};
/* The host manifests, the host program, the extension's files and the
 * Firefox profiles' copies of it: up to @cap findings.  Returns how many. */
size_t mp_check(struct mp_finding *out, size_t cap);

#endif
