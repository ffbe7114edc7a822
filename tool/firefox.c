/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup firefox: Firefox's profiles (profiles.ini), whether
 * Firefox holds one, the authentication-only module registered in each
 * profile's NSS database, and doctor's checks of those registrations and
 * of the TLS 1.2 cap.  Layer: tool/; the databases through nssdb.c;
 * setup mynaportal (mynaportal.c) shares the profile discovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"

/* ---- Firefox profiles ---- */

/* The profile directories listed in ~/.mozilla/firefox/profiles.ini. */
size_t tool_firefox_profiles(char out[][PATH_MAX], size_t cap)
{
    char base[PATH_MAX], ini[PATH_MAX + 16], *text, *line, *save = NULL;
    char path[PATH_MAX] = "";
    bool in_profile = false, relative = true;
    size_t n = 0;

    sfmt(base, sizeof(base), "%s/.mozilla/firefox", tool_home());
    sfmt(ini, sizeof(ini), "%s/profiles.ini", base);
    text = tool_slurp(ini, NULL);
    if (!text)
        return 0;
    for (line = strtok_r(text, "\r\n", &save);;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (!line || line[0] == '[') {
            if (in_profile && path[0] && n < cap) {
                if (relative)
                    sfmt(out[n], PATH_MAX, "%s/%s", base, path);
                else
                    sfmt(out[n], PATH_MAX, "%s", path);
                if (tool_is_dir(out[n]))
                    n++;
            }
            if (!line)
                break;
            in_profile = !strncmp(line, "[Profile", 8);
            path[0] = '\0';
            relative = true;
        } else if (!strncmp(line, "Path=", 5)) {
            sfmt(path, sizeof(path), "%s", line + 5);
        } else if (!strncmp(line, "IsRelative=", 11)) {
            relative = line[11] != '0';
        }
    }
    free(text);
    return n;
}

static bool pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Firefox holds a profile with a `lock` symlink to "ADDRESS:+PID" and an
 * fcntl lock on `.parentlock`; either, with a live process, means it
 * runs.  Sets *@pid when known. */
bool tool_profile_in_use(const char *dir, pid_t *pid)
{
    char path[PATH_MAX + 16], target[256];
    struct flock fl;
    ssize_t n;
    int fd;

    *pid = 0;
    sfmt(path, sizeof(path), "%s/lock", dir);
    n = readlink(path, target, sizeof(target) - 1);
    if (n > 0) {
        char *plus;

        target[n] = '\0';
        plus = strrchr(target, '+');
        if (plus) {
            long v = strtol(plus + 1, NULL, 10);

            if (v > 0 && v < INT_MAX && pid_alive((pid_t)v)) {
                *pid = (pid_t)v;
                return true;
            }
        }
    }
    sfmt(path, sizeof(path), "%s/.parentlock", dir);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
            *pid = fl.l_pid;
            close(fd);
            return true;
        }
        close(fd);
    }
    return false;
}

int setup_firefox(const char *lib)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);
    int rc = TOOL_OK;
    pid_t pid;

    if (n == 0) {
        if (tool_opt.remove) {
            say(_("No Firefox profile: nothing to remove.\n"));
            return TOOL_OK;
        }
        complain(_("no Firefox profile in %s/.mozilla/firefox: start Firefox "
                   "once, close it, and run this again"),
                 tool_home());
        return TOOL_EFAIL;
    }
    /* All or nothing: check every profile before touching any. */
    for (size_t i = 0; i < n; i++) {
        if (tool_profile_in_use(prof[i], &pid)) {
            complain(_("Firefox is running (process %ld, profile %s): please "
                       "close it and run this again; nothing was changed"),
                     (long)pid, prof[i]);
            jo_str("refused", "firefox-running");
            return TOOL_EBUSY;
        }
    }
    jo_arr_begin("profiles");
    for (size_t i = 0; i < n; i++) {
        bool already = false, removed = false;
        int r;

        if (tool_opt.remove)
            r = nssdb_remove(prof[i], &removed);
        else
            r = nssdb_add(prof[i], lib, &already);
        jo_obj_begin(NULL);
        jo_str("profile", prof[i]);
        jo_bool("ok", r == 0);
        jo_obj_end();
        if (r < 0) {
            rc = TOOL_EFAIL;
            continue;
        }
        if (tool_opt.remove)
            say("%s: %s\n", prof[i],
                removed ? _("removed") : _("was not registered"));
        else
            say("%s: %s\n", prof[i],
                already ? _("already registered") : _("registered"));
    }
    jo_arr_end();
    if (rc == TOOL_OK && !tool_opt.remove)
        say(_("Firefox will show \"%s\" under Settings > Privacy & Security > "
              "Security Devices.  Log-ins need TLS 1.2: see `mynacard-tool "
              "doctor`.\n"),
            NSS_MODULE_NAME);
    return rc;
}

size_t reg_check_firefox(struct reg_report *out, size_t cap)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);

    for (size_t i = 0; i < n && i < cap; i++) {
        sfmt(out[i].where, sizeof(out[i].where), "%s", prof[i]);
        out[i].state = nssdb_state(prof[i], MOD_AUTH, NULL, out[i].detail,
                                   sizeof(out[i].detail));
    }
    return n < cap ? n : cap;
}

void reg_check_tls(size_t *profiles, size_t *capped)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);

    *profiles = n;
    *capped = 0;
    for (size_t i = 0; i < n; i++) {
        static const char *const files[] = { "user.js", "prefs.js" };
        bool cap = false;

        for (size_t k = 0; k < 2 && !cap; k++) {
            char path[PATH_MAX + 16], *text;

            sfmt(path, sizeof(path), "%s/%s", prof[i], files[k]);
            text = tool_slurp(path, NULL);
            if (text) {
                cap = strstr(text, "\"security.tls.version.max\", 3)") != NULL;
                free(text);
            }
        }
        if (cap)
            (*capped)++;
    }
}
