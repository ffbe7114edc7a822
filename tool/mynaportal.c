/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup mynaportal [--remove] [--system] [--allow-unsigned]:
 * what Mynaportal and e-Tax need in the browsers, and doctor's checks of
 * it.  Those sites never ask for a TLS client certificate: a page talks to
 * a browser extension, which starts a native program (mynacard-mpa) over
 * native messaging.  The browsers find that program through a "host
 * manifest", mynacard.mynaportal.json, in a directory of their own; the
 * manifest names the one extension allowed to start it.  This file writes
 * those manifests (per user, or with --system for all users), puts the
 * extension where each browser takes it without a store, and says what the
 * user still has to do by hand, and why.  Layer: tool/; uses files.c's
 * file helpers and firefox.c's profile discovery.  The manifests are JSON,
 * written and read with Jansson (never by hand): doctor reads them back
 * and they may have been edited by anyone.  Nothing here reads the card
 * or anything personal.
 *
 * What can be installed without a store, per browser:
 * - Firefox installs an extension for good only when Mozilla signed it,
 *   and Mozilla signs extensions through addons.mozilla.org only.  Firefox
 *   ESR loads an unsigned one when the profile sets
 *   xpinstall.signatures.required to false; that lowers the safeguard for
 *   every extension of the profile, so it is done only on --allow-unsigned
 *   (the .xpi copied into PROFILE/extensions/ID.xpi, and in user.js that
 *   preference with extensions.autoDisableScopes 0, so that Firefox
 *   enables an extension it finds there without asking).  Otherwise the
 *   user loads it from about:debugging, for the session.
 * - Chromium installs for good only from the Chrome Web Store (or a signed
 *   package an administrator's policy names); an unpacked extension loads
 *   from chrome://extensions in developer mode, and stays.  Its ID is
 *   fixed by the manifest's key, so the host manifest written here already
 *   allows it.
 *
 * Environment, for tests run from the build tree: MYNACARD_MPA (the host
 * program), MYNACARD_EXTENSION_DIR (the unpacked extension),
 * MYNACARD_EXTENSION_XPI (Firefox's package).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tool.h"

#ifndef TOOL_MPA
#define TOOL_MPA "/usr/local/bin/mynacard-mpa"
#endif
#ifndef TOOL_EXTENSION_DIR
#define TOOL_EXTENSION_DIR "/usr/local/share/mynacard/extension"
#endif
#ifndef TOOL_EXTENSION_XPI
#define TOOL_EXTENSION_XPI "/usr/local/share/mynacard/mynacard-mynaportal.xpi"
#endif

/* The contract with the extension and the host program. */
#define HOST_NAME "mynacard.mynaportal"
#define HOST_FILE HOST_NAME ".json"
#define HOST_PROGRAM "mynacard-mpa"
#define HOST_DESCRIPTION "mynacard: the My Number Card for Mynaportal and " \
    "e-Tax (unofficial)"
#define GECKO_ID "mynaportal@mynacard.org"
#define CHROME_ORIGIN "chrome-extension://iblcbagoigccfdmjdapagpgincgbbcki/"
#define PROFILE_XPI "extensions/" GECKO_ID ".xpi"

/* The lines setup adds to a Firefox profile's user.js, as one block that
 * --remove takes out again (and nothing else).  It starts with its own
 * line break, so that it can follow a last line without one and leave
 * the file exactly as it was when taken out. */
static const char userjs_block[] =
    "\n// mynacard-tool setup mynaportal --allow-unsigned: unsigned extensions "
    "allowed (mynacard-tool setup mynaportal --remove takes this out)\n"
    "user_pref(\"xpinstall.signatures.required\", false);\n"
    "user_pref(\"extensions.autoDisableScopes\", 0);\n";

#define PROFILES_MAX 32
#define PLACES_MAX 3
/* A host manifest of ours is a few hundred bytes; anything much bigger is
 * not one. */
#define MANIFEST_MAX 65536

/* ---- Where things are ---- */

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

static const char *mpa_path(void)
{
    return env_or("MYNACARD_MPA", TOOL_MPA);
}

static const char *extension_dir(void)
{
    return env_or("MYNACARD_EXTENSION_DIR", TOOL_EXTENSION_DIR);
}

static const char *extension_xpi(void)
{
    return env_or("MYNACARD_EXTENSION_XPI", TOOL_EXTENSION_XPI);
}

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_program(const char *path)
{
    return is_file(path) && access(path, X_OK) == 0;
}

/* One browser's directory of host manifests. */
struct place {
    const char *browser;   /* "firefox", "chromium", "chrome" */
    bool gecko;            /* allowed_extensions, else allowed_origins */
    char dir[PATH_MAX];
};

/* Google Chrome is there for this user (its profile directory), or for
 * the machine (its program or its policy directory). */
static bool chrome_user(void)
{
    char cfg[PATH_MAX], d[PATH_MAX + 16];

    tool_config_home(cfg, sizeof(cfg));
    sfmt(d, sizeof(d), "%s/google-chrome", cfg);
    return tool_is_dir(d);
}

static bool chrome_system(void)
{
    return tool_is_dir("/opt/google/chrome") || tool_is_dir("/etc/opt/chrome");
}

/* One browser's place: @sysdir for everyone, else @sub under @base (the
 * home or the configuration directory). */
static void place_set(struct place *p, const char *browser, bool gecko,
                      bool system, const char *sysdir, const char *base,
                      const char *sub)
{
    p->browser = browser;
    p->gecko = gecko;
    if (system)
        sfmt(p->dir, sizeof(p->dir), "%s", sysdir);
    else
        sfmt(p->dir, sizeof(p->dir), "%s/%s", base, sub);
}

/* The places for the user (@system false) or for everyone.  Firefox and
 * Chromium always: the directory is made if needed, and the browser finds
 * it when it is installed later; Chrome only when it is there. */
static size_t places_for(bool system, struct place *p)
{
    char cfg[PATH_MAX];
    size_t n = 0;

    place_set(&p[n++], "firefox", true, system,
              "/usr/lib/mozilla/native-messaging-hosts", tool_home(),
              ".mozilla/native-messaging-hosts");
    tool_config_home(cfg, sizeof(cfg));
    place_set(&p[n++], "chromium", false, system,
              "/etc/chromium/native-messaging-hosts", cfg,
              "chromium/NativeMessagingHosts");
    if (system ? chrome_system() : chrome_user())
        place_set(&p[n++], "chrome", false, system,
                  "/etc/opt/chrome/native-messaging-hosts", cfg,
                  "google-chrome/NativeMessagingHosts");
    return n;
}

/* ---- Host manifests ---- */

/* The manifest for @pl naming @program, as text to free(); NULL when
 * @program is not valid UTF-8 (JSON cannot carry it) or out of memory. */
static char *manifest_text(const struct place *pl, const char *program)
{
    json_t *m = json_object(), *ids = json_array();
    char *text = NULL, *withnl = NULL;

    if (!m || !ids)
        goto out;
    if (json_array_append_new(ids, json_string(pl->gecko ? GECKO_ID
                                                         : CHROME_ORIGIN)) < 0 ||
        json_object_set_new(m, "name", json_string(HOST_NAME)) < 0 ||
        json_object_set_new(m, "description", json_string(HOST_DESCRIPTION)) < 0 ||
        json_object_set_new(m, "path", json_string(program)) < 0 ||
        json_object_set_new(m, "type", json_string("stdio")) < 0 ||
        json_object_set(m, pl->gecko ? "allowed_extensions" : "allowed_origins",
                        ids) < 0)
        goto out;
    text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) {
        size_t n = strlen(text);

        withnl = malloc(n + 2);
        if (withnl) {
            memcpy(withnl, text, n);
            memcpy(withnl + n, "\n", 2);
        }
    }
out:
    free(text);
    json_decref(ids);
    json_decref(m);
    return withnl;
}

/* What a manifest file says, as far as doctor and --remove care. */
struct manifest {
    bool present;          /* the file exists */
    bool parsed;           /* it is a JSON object */
    bool ours;             /* "name" is HOST_NAME */
    bool stdio;            /* "type" is "stdio" */
    bool ids_right;        /* the allowed list is exactly our one id */
    char path[PATH_MAX];   /* "path", "" when missing or not a string */
    char error[160];       /* why it did not parse */
};

static void manifest_read(const char *file, bool gecko, struct manifest *m)
{
    json_error_t jerr;
    json_t *root, *v, *ids;
    char *text;
    size_t len = 0;

    memset(m, 0, sizeof(*m));
    text = tool_slurp(file, &len);
    if (!text) {
        m->present = is_file(file);
        if (m->present)
            sfmt(m->error, sizeof(m->error), "%s", D_("unreadable or too big"));
        return;
    }
    m->present = true;
    if (len > MANIFEST_MAX) {
        sfmt(m->error, sizeof(m->error), D_("%zu bytes: not a host manifest"),
             len);
        free(text);
        return;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root || !json_is_object(root)) {
        if (root)
            sfmt(m->error, sizeof(m->error), "%s", D_("not a JSON object"));
        else
            sfmt(m->error, sizeof(m->error), D_("not a JSON object: %s"),
                 jerr.text);
        json_decref(root);
        return;
    }
    m->parsed = true;
    v = json_object_get(root, "name");
    m->ours = json_is_string(v) && !strcmp(json_string_value(v), HOST_NAME);
    v = json_object_get(root, "type");
    m->stdio = json_is_string(v) && !strcmp(json_string_value(v), "stdio");
    v = json_object_get(root, "path");
    if (json_is_string(v))
        sfmt(m->path, sizeof(m->path), "%s", json_string_value(v));
    ids = json_object_get(root, gecko ? "allowed_extensions" : "allowed_origins");
    v = json_array_get(ids, 0);
    m->ids_right = json_is_array(ids) && json_array_size(ids) == 1 &&
        json_is_string(v) &&
        !strcmp(json_string_value(v), gecko ? GECKO_ID : CHROME_ORIGIN);
    json_decref(root);
}

/* manifest_apply's state (the JSON's "state") for people. */
static const char *state_label(const char *state)
{
    if (!strcmp(state, "written"))
        return _("written");
    if (!strcmp(state, "already"))
        return _("already there");
    if (!strcmp(state, "removed"))
        return _("removed");
    if (!strcmp(state, "absent"))
        return _("was not there");
    if (!strcmp(state, "foreign"))
        return _("not ours, left alone");
    return _("FAILED");
}

/* Write @pl's manifest (or remove it under --remove).  Returns TOOL_OK or
 * TOOL_EFAIL (said why). */
static int manifest_apply(const struct place *pl, const char *program)
{
    char file[PATH_MAX + 32], *text = NULL, *old = NULL;
    const char *state = "failed";
    struct manifest m;
    int rc = TOOL_EFAIL;

    sfmt(file, sizeof(file), "%s/%s", pl->dir, HOST_FILE);
    manifest_read(file, pl->gecko, &m);
    if (tool_opt.remove) {
        if (!m.present) {
            state = "absent";
        } else if (!m.ours) {
            complain(_("%s was not written by mynacard-tool (no \"name\": \"%s\"): "
                     "left as it is"), file, HOST_NAME);
            state = "foreign";
        } else if (unlink(file) < 0) {
            complain(_("cannot remove %s: %s"), file, strerror(errno));
            goto out;
        } else {
            /* The directory goes too when nothing else is in it. */
            (void)rmdir(pl->dir);
            state = "removed";
        }
        rc = TOOL_OK;
        goto out;
    }
    if (m.present && !m.ours) {
        complain(_("%s exists and is not mynacard's (%s): left as it is; move it "
                 "away and run this again"), file,
                 m.parsed ? D_("another \"name\"") : m.error);
        state = "foreign";
        goto out;
    }
    text = manifest_text(pl, program);
    if (!text) {
        complain(_("cannot make the manifest for %s (is the path valid UTF-8?)"),
                 program);
        state = "failed";
        goto out;
    }
    old = tool_slurp(file, NULL);
    if (old && !strcmp(old, text)) {
        state = "already";
        rc = TOOL_OK;
        goto out;
    }
    if (tool_mkdir_p(pl->dir, 0755) < 0 ||
        tool_write_file(file, text, strlen(text), 0644) < 0) {
        complain(_("cannot write %s: %s"), file, strerror(errno));
        state = "failed";
        goto out;
    }
    state = "written";
    rc = TOOL_OK;
out:
    jo_obj_begin(NULL);
    jo_str("browser", pl->browser);
    jo_str("file", file);
    jo_str("state", state);
    jo_bool("ok", rc == TOOL_OK);
    jo_obj_end();
    say("%-8s %s: %s\n", pl->browser, file,
        state_label(state));
    free(old);
    free(text);
    return rc;
}

/* ---- Firefox profiles (--allow-unsigned) ---- */

/* Where our block is in @text (its last one), or NULL. */
static const char *find_block(const char *text)
{
    const char *at = NULL;

    for (const char *p = strstr(text, userjs_block); p;
         p = strstr(p + 1, userjs_block))
        at = p;
    return at;
}

/* Add our block to PROFILE/user.js, or take it out; the other lines are
 * kept as they are, and the file's mode.  A user.js left empty by the
 * removal is removed (an empty and a missing one mean the same to
 * Firefox).  Sets *@changed.  Returns 0 or -1 (said why). */
static int userjs_apply(const char *profile, bool add, bool *changed)
{
    char file[PATH_MAX + 16], *text, *out;
    const char *at;
    struct stat st;
    mode_t mode = 0644;
    size_t len = 0, bl = strlen(userjs_block);
    int r;

    *changed = false;
    sfmt(file, sizeof(file), "%s/user.js", profile);
    if (stat(file, &st) == 0)
        mode = st.st_mode & 07777;
    text = tool_slurp(file, &len);
    if (!text) {
        if (!add)
            return 0;
        if (is_file(file)) {
            complain(_("cannot read %s"), file);
            return -1;
        }
        text = strdup("");
        if (!text)
            return -1;
    }
    at = find_block(text);
    if (add == (at != NULL)) {
        free(text);
        return 0;
    }
    out = malloc(len + bl + 2);
    if (!out) {
        free(text);
        return -1;
    }
    if (add) {
        /* After everything else: the last setting of a preference wins. */
        sfmt(out, len + bl + 2, "%s%s", text, userjs_block);
    } else {
        size_t head = (size_t)(at - text);

        memcpy(out, text, head);
        memcpy(out + head, at + bl, len - head - bl + 1);
    }
    if (!add && out[0] == '\0')
        r = unlink(file);
    else
        r = tool_write_file(file, out, strlen(out), mode);
    if (r < 0)
        complain(_("cannot write %s: %s"), file, strerror(errno));
    else
        *changed = true;
    free(text);
    free(out);
    return r;
}

/* Whether PROFILE/user.js has our block. */
static bool userjs_has_block(const char *profile)
{
    char file[PATH_MAX + 16], *text;
    bool has;

    sfmt(file, sizeof(file), "%s/user.js", profile);
    text = tool_slurp(file, NULL);
    has = text && find_block(text);
    free(text);
    return has;
}

/* Copy the .xpi into @profile and allow it, or undo both. */
static int profile_apply(const char *profile, const char *xpi_data,
                         size_t xpi_len)
{
    char dst[PATH_MAX + 64], exts[PATH_MAX + 16];
    bool changed = false, had = userjs_has_block(profile);
    int rc = 0;

    sfmt(exts, sizeof(exts), "%s/extensions", profile);
    sfmt(dst, sizeof(dst), "%s/%s", profile, PROFILE_XPI);
    if (tool_opt.remove) {
        /* Only what setup put there: the copy goes with our user.js
         * block, which says setup made it. */
        if (!had) {
            if (is_file(dst))
                say(_("%s: %s was not put there by mynacard-tool: left as it "
                    "is (about:addons removes it)\n"), profile, dst);
        } else {
            if (unlink(dst) < 0 && errno != ENOENT) {
                complain(_("cannot remove %s: %s"), dst, strerror(errno));
                rc = -1;
            }
            (void)rmdir(exts);
            if (userjs_apply(profile, false, &changed) < 0)
                rc = -1;
        }
    } else {
        if (tool_mkdir_p(exts, 0700) < 0 ||
            tool_write_file(dst, xpi_data, xpi_len, 0644) < 0) {
            complain(_("cannot write %s: %s"), dst, strerror(errno));
            rc = -1;
        } else if (userjs_apply(profile, true, &changed) < 0) {
            rc = -1;
        }
    }
    jo_obj_begin(NULL);
    jo_str("profile", profile);
    jo_str("xpi", dst);
    jo_bool("user_js_changed", changed);
    jo_bool("ok", rc == 0);
    jo_obj_end();
    if (rc == 0 && tool_opt.remove)
        say("%s: %s\n", profile,
            had ? _("the extension and the user.js lines removed")
                : _("nothing of mynacard-tool's"));
    else if (rc == 0)
        say(changed ? _("%s: the extension copied, unsigned extensions "
                        "allowed in user.js\n")
                    : _("%s: the extension copied, unsigned extensions "
                        "allowed in user.js (already)\n"), profile);
    return rc;
}

static int profiles_apply(void)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX), xpi_len = 0;
    char *xpi = NULL;
    int rc = TOOL_OK;
    pid_t pid;

    if (n == 0) {
        if (!tool_opt.remove) {
            complain(_("no Firefox profile in %s/.mozilla/firefox: start "
                     "Firefox once, close it, and run this again"), tool_home());
            return TOOL_EFAIL;
        }
        return TOOL_OK;
    }
    /* All or nothing, as setup firefox: Firefox reads user.js and the
     * extensions directory when it starts, and rewrites its own files
     * when it exits. */
    for (size_t i = 0; i < n; i++) {
        if ((!tool_opt.remove || userjs_has_block(prof[i])) &&
            tool_profile_in_use(prof[i], &pid)) {
            complain(_("Firefox is running (process %ld, profile %s): please "
                     "close it and run this again; nothing was changed"),
                     (long)pid, prof[i]);
            jo_str("refused", "firefox-running");
            return TOOL_EBUSY;
        }
    }
    if (!tool_opt.remove) {
        xpi = tool_slurp(extension_xpi(), &xpi_len);
        if (!xpi) {
            complain(_("cannot read %s"), extension_xpi());
            return TOOL_EFAIL;
        }
    }
    jo_arr_begin("profiles");
    for (size_t i = 0; i < n; i++)
        if (profile_apply(prof[i], xpi, xpi_len) < 0)
            rc = TOOL_EFAIL;
    jo_arr_end();
    free(xpi);
    return rc;
}

/* ---- What the user still does ---- */

static void step(const char *browser, const char *what, const char *why)
{
    jo_obj_begin(NULL);
    jo_str("browser", browser);
    jo_str("step", what);
    jo_str("why", why);
    jo_obj_end();
}

static void say_steps(bool firefox_done)
{
    char what[PATH_MAX + 512];

    say(_("\nWhat you still do, in each browser:\n"));
    jo_arr_begin("steps");
    if (firefox_done) {
        step("firefox", "restart Firefox: the extension is enabled in the "
             "profiles above (about:addons shows it)",
             "Firefox reads its extensions directory and user.js when it "
             "starts");
        say(_("- Firefox: restart it; the extension is enabled in the profiles "
            "above (about:addons shows it).\n"));
    } else {
        sfmt(what, sizeof(what), "open about:debugging#/runtime/this-firefox "
             "(\"This Firefox\" / この Firefox), click \"Load Temporary "
             "Add-on...\" (一時的なアドオンを読み込む...) and choose %s; "
             "do it again after each restart of Firefox", extension_xpi());
        step("firefox", what, "Mozilla signs only extensions published on "
             "addons.mozilla.org, and Firefox ESR installs an unsigned one "
             "for good only with xpinstall.signatures.required = false, "
             "which lowers that safeguard for every extension in the "
             "profile: `mynacard-tool setup mynaportal --allow-unsigned` "
             "does that if you accept it");
        say(_("- Firefox: open about:debugging#/runtime/this-firefox (\"This "
            "Firefox\" / この Firefox), click \"Load Temporary Add-on...\" "
            "(一時的なアドオンを読み込む...) and choose\n    %s\n"
            "  It lasts until Firefox closes.  Why: Mozilla signs only "
            "extensions published on addons.mozilla.org, and Firefox ESR "
            "installs an unsigned one for good only with "
            "xpinstall.signatures.required = false, which lowers that "
            "safeguard for every extension in the profile.  If you accept "
            "that, `mynacard-tool setup mynaportal --allow-unsigned` installs "
            "it in your profiles (and `--remove` undoes it).\n"),
            extension_xpi());
    }
    sfmt(what, sizeof(what), "open chrome://extensions, turn on \"Developer "
         "mode\" (デベロッパー モード), click \"Load unpacked\" (パッケージ化"
         "されていない拡張機能を読み込む) and choose %s", extension_dir());
    step("chromium", what, "Chromium and Chrome install extensions for good "
         "only from the Chrome Web Store (or from a signed package an "
         "administrator's policy names), and this one is not there; loaded "
         "unpacked it stays across restarts, and its ID is fixed by its "
         "manifest, so the host manifest already allows it");
    say(_("- Chromium, Chrome: open chrome://extensions, turn on \"Developer "
        "mode\" (デベロッパー モード), click \"Load unpacked\" (パッケージ化"
        "されていない拡張機能を読み込む) and choose\n    %s\n"
        "  Why: they install extensions for good only from the Chrome Web "
        "Store (or from a signed package an administrator's policy names), "
        "and this one is not there.  Loaded unpacked it stays across "
        "restarts; its ID (%s) is fixed by its manifest, so the host "
        "manifest above already allows it.\n"), extension_dir(),
        "iblcbagoigccfdmjdapagpgincgbbcki");
    jo_arr_end();
    if (tool_opt.system)
        say(_("(--system wrote the host manifests for every user; each user "
            "still loads the extension as above.)\n"));
    say(_("Then open https://myna.go.jp/ and log in with the card; "
        "`mynacard-tool doctor` checks all of this.\n"));
}

/* ---- setup mynaportal ---- */

int setup_mynaportal(void)
{
    struct place pl[PLACES_MAX];
    size_t n;
    const char *program = mpa_path();
    char emanifest[PATH_MAX + 32];
    int rc = TOOL_OK, r;

    jo_bool("remove", tool_opt.remove);
    jo_bool("system", tool_opt.system);
    jo_bool("allow_unsigned", tool_opt.allow_unsigned);
    jo_str("host", program);
    jo_str("extension_dir", extension_dir());
    jo_str("xpi", extension_xpi());
    if (tool_opt.system && tool_opt.allow_unsigned) {
        complain(_("--allow-unsigned changes your own Firefox profiles: run it "
                 "without --system"));
        return TOOL_EUSAGE;
    }
    if (tool_opt.system && geteuid() != 0) {
        complain(_("--system writes to /usr/lib/mozilla and /etc: run it as "
                 "root (sudo mynacard-tool setup mynaportal --system)"));
        return TOOL_EFAIL;
    }
    /* Everything checked before anything is written. */
    if (!tool_opt.remove) {
        if (program[0] != '/' || !is_program(program)) {
            complain(_("the host program %s is %s: is mynacard installed?  "
                     "(MYNACARD_MPA names another one; it must be an absolute "
                     "path)"), program, program[0] != '/' ? _("not an absolute path") :
                     is_file(program) ? _("not executable") : _("missing"));
            return TOOL_EFAIL;
        }
        sfmt(emanifest, sizeof(emanifest), "%s/manifest.json", extension_dir());
        if (!is_file(emanifest)) {
            complain(_("the extension is missing (no %s): is mynacard installed?  "
                     "(MYNACARD_EXTENSION_DIR names another directory)"),
                     emanifest);
            return TOOL_EFAIL;
        }
        if (tool_opt.allow_unsigned && !is_file(extension_xpi())) {
            complain(_("Firefox's package of the extension, %s, is missing: is "
                     "mynacard installed?  (MYNACARD_EXTENSION_XPI names "
                     "another one)"), extension_xpi());
            return TOOL_EFAIL;
        }
    }
    /* The profiles first: they are the step that can be refused (Firefox
     * running), and then nothing at all is changed. */
    if (!tool_opt.system && (tool_opt.allow_unsigned || tool_opt.remove)) {
        rc = profiles_apply();
        if (rc == TOOL_EBUSY || (rc != TOOL_OK && tool_opt.allow_unsigned &&
                                 !tool_opt.remove))
            return rc;
    }
    /* A system-wide file is for every user: not narrowed by a umask. */
    if (tool_opt.system)
        umask(022);
    n = places_for(tool_opt.system, pl);
    jo_arr_begin("manifests");
    for (size_t i = 0; i < n; i++) {
        r = manifest_apply(&pl[i], program);
        if (r != TOOL_OK)
            rc = r;
    }
    jo_arr_end();
    if (tool_opt.remove) {
        say(_("The host manifests are gone.  An extension you loaded by hand "
            "stays until you remove it (about:addons, chrome://extensions).\n"));
        return rc;
    }
    if (rc == TOOL_OK)
        say_steps(tool_opt.allow_unsigned);
    return rc;
}

/* ---- doctor ---- */

static size_t add(struct mp_finding *out, size_t cap, size_t n,
                  enum doctor_level lv, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static size_t add(struct mp_finding *out, size_t cap, size_t n,
                  enum doctor_level lv, const char *fix, const char *fmt, ...)
{
    va_list ap;

    if (n >= cap)
        return n;
    out[n].level = lv;
    sfmt(out[n].fix, sizeof(out[n].fix), "%s", fix ? fix : "");
    va_start(ap, fmt);
    vsnprintf(out[n].message, sizeof(out[n].message), fmt, ap);
    va_end(ap);
    return n + 1;
}

#define FIX_SETUP "mynacard-tool setup mynaportal"
#define FIX_UNSIGNED D_("mynacard-tool setup mynaportal --allow-unsigned " \
    "(or --remove, to take it out)")

/* One browser's manifest, the user's first (the browser reads it first),
 * then the system's.  *@found when either exists. */
static size_t check_browser(struct mp_finding *out, size_t cap, size_t n,
                            const struct place *user, const struct place *sys,
                            bool any, bool *found)
{
    char file[PATH_MAX + 32], sysfile[PATH_MAX + 32];
    const char *base;
    struct manifest m;

    sfmt(file, sizeof(file), "%s/%s", user->dir, HOST_FILE);
    sfmt(sysfile, sizeof(sysfile), "%s/%s", sys->dir, HOST_FILE);
    manifest_read(file, user->gecko, &m);
    if (!m.present) {
        sfmt(file, sizeof(file), "%s", sysfile);
        manifest_read(file, user->gecko, &m);
    }
    *found = m.present;
    if (!m.present)
        return add(out, cap, n, any ? LV_WARN : LV_NOTE, FIX_SETUP,
                   D_("Mynaportal, %s: no native messaging host manifest (%s in "
                   "%s or %s)"), user->browser, HOST_FILE, user->dir, sys->dir);
    base = strrchr(m.path, '/');
    base = base ? base + 1 : m.path;
    if (!m.parsed || !m.ours)
        return add(out, cap, n, LV_WARN, D_("move it away (setup leaves alone "
                   "a file it cannot tell is its own), then mynacard-tool "
                   "setup mynaportal"),
                   D_("Mynaportal, %s: %s is not mynacard's host manifest (%s)"),
                   user->browser, file,
                   m.parsed ? D_("another \"name\"") : m.error);
    if (!m.stdio)
        return add(out, cap, n, LV_WARN, FIX_SETUP, D_("Mynaportal, %s: %s: "
                   "\"type\" is not \"stdio\""), user->browser, file);
    if (m.path[0] != '/' || strcmp(base, HOST_PROGRAM) != 0)
        return add(out, cap, n, LV_WARN, FIX_SETUP, D_("Mynaportal, %s: %s: "
                   "\"path\" is not the absolute path of %s (\"%s\")"),
                   user->browser, file, HOST_PROGRAM, m.path);
    if (!is_program(m.path))
        return add(out, cap, n, LV_WARN, D_("reinstall mynacard, then "
                   "mynacard-tool setup mynaportal"),
                   D_("Mynaportal, %s: %s names %s, which is %s"), user->browser,
                   file, m.path, is_file(m.path) ? D_("not executable")
                                             : D_("missing"));
    if (!m.ids_right)
        return add(out, cap, n, LV_WARN, FIX_SETUP, D_("Mynaportal, %s: %s does "
                   "not allow exactly mynacard's extension (%s)"), user->browser,
                   file, user->gecko ? GECKO_ID : CHROME_ORIGIN);
    /* Another mynacard-mpa than this installation's: left by an older
     * installation elsewhere, most likely. */
    if (strcmp(m.path, mpa_path()) != 0 && is_program(mpa_path()))
        return add(out, cap, n, LV_WARN, FIX_SETUP, D_("Mynaportal, %s: %s starts "
                   "%s, not this installation's %s"), user->browser, file,
                   m.path, mpa_path());
    return add(out, cap, n, LV_OK, NULL, D_("Mynaportal, %s: the host manifest "
               "%s starts %s"), user->browser, file, m.path);
}

/* Whether files @a and @b hold the same bytes. */
static bool same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *ta = tool_slurp(a, &la), *tb = tool_slurp(b, &lb);
    bool same = ta && tb && la == lb && !memcmp(ta, tb, la);

    free(ta);
    free(tb);
    return same;
}

size_t mp_check(struct mp_finding *out, size_t cap)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    struct place user[PLACES_MAX], sys[PLACES_MAX];
    char emanifest[PATH_MAX + 32];
    size_t n = 0, np;
    bool any = false, found;

    places_for(false, user);
    places_for(true, sys);
    /* Set up anywhere: then each missing piece is a problem; never set up:
     * notes only, for those who do not use Mynaportal. */
    for (size_t i = 0; i < 2 && !any; i++) {
        struct manifest m;
        char f[PATH_MAX + 32];

        sfmt(f, sizeof(f), "%s/%s", user[i].dir, HOST_FILE);
        manifest_read(f, user[i].gecko, &m);
        any = m.present;
        sfmt(f, sizeof(f), "%s/%s", sys[i].dir, HOST_FILE);
        manifest_read(f, sys[i].gecko, &m);
        any = any || m.present;
    }
    n = check_browser(out, cap, n, &user[0], &sys[0], any, &found);
    n = check_browser(out, cap, n, &user[1], &sys[1], any, &found);
    if (chrome_user() || chrome_system()) {
        struct place cu = user[1], cs = sys[1];
        char cfg[PATH_MAX];

        /* Chrome's places even when only one of them exists. */
        tool_config_home(cfg, sizeof(cfg));
        cu.browser = "chrome";
        sfmt(cu.dir, sizeof(cu.dir), "%s/google-chrome/NativeMessagingHosts", cfg);
        cs.browser = "chrome";
        sfmt(cs.dir, sizeof(cs.dir), "/etc/opt/chrome/native-messaging-hosts");
        n = check_browser(out, cap, n, &cu, &cs, any, &found);
    }
    sfmt(emanifest, sizeof(emanifest), "%s/manifest.json", extension_dir());
    if (is_file(emanifest))
        n = add(out, cap, n, LV_OK, NULL, D_("Mynaportal: the extension is in %s "
                "(for Chromium's \"Load unpacked\")"), extension_dir());
    else
        n = add(out, cap, n, any ? LV_WARN : LV_NOTE, D_("reinstall mynacard (or "
                "set MYNACARD_EXTENSION_DIR to where it is)"), D_("Mynaportal: the "
                "extension is missing (no %s)"), emanifest);
    if (is_file(extension_xpi()))
        n = add(out, cap, n, LV_OK, NULL, D_("Mynaportal: Firefox's package of the "
                "extension is %s"), extension_xpi());
    else
        n = add(out, cap, n, any ? LV_WARN : LV_NOTE, D_("reinstall mynacard (or "
                "set MYNACARD_EXTENSION_XPI to where it is)"), D_("Mynaportal: "
                "Firefox's package of the extension is missing (%s)"),
                extension_xpi());
    np = tool_firefox_profiles(prof, PROFILES_MAX);
    for (size_t i = 0; i < np; i++) {
        char xpi[PATH_MAX + 64];
        bool block = userjs_has_block(prof[i]);

        sfmt(xpi, sizeof(xpi), "%s/%s", prof[i], PROFILE_XPI);
        if (block && !is_file(xpi))
            n = add(out, cap, n, LV_WARN, FIX_UNSIGNED, D_("Mynaportal, Firefox "
                    "profile %s: unsigned extensions are allowed for "
                    "mynacard's, but its copy %s is missing"), prof[i], xpi);
        else if (block && is_file(extension_xpi()) &&
                 !same_file(xpi, extension_xpi()))
            n = add(out, cap, n, LV_WARN, FIX_UNSIGNED, D_("Mynaportal, Firefox "
                    "profile %s: the extension's copy %s is not the installed "
                    "one (%s)"), prof[i], xpi, extension_xpi());
        else if (block)
            n = add(out, cap, n, LV_OK, NULL, D_("Mynaportal, Firefox profile %s: "
                    "the extension is installed (unsigned extensions allowed "
                    "in its user.js)"), prof[i]);
        else if (is_file(xpi))
            n = add(out, cap, n, LV_WARN, FIX_UNSIGNED, D_("Mynaportal, Firefox "
                    "profile %s: %s is there but Firefox ESR loads it only "
                    "with xpinstall.signatures.required = false"), prof[i], xpi);
        else if (any)
            n = add(out, cap, n, LV_NOTE, D_("load it in about:debugging for "
                    "each session, or mynacard-tool setup mynaportal "
                    "--allow-unsigned (or --remove, to take it out)"), D_("Mynaportal, Firefox profile "
                    "%s: the extension is not installed in it"), prof[i]);
    }
    return n;
}
