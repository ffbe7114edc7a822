/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The module's configuration file and its debug log.  Layer: module/; it
 * reads a file and the environment and installs the log sink of
 * apdu/log.h, nothing else.
 *
 * The file is `key = value` lines, `#` comments.  Keys: readers (a comma
 * separated list of substrings of reader names to use), debug (0..4),
 * log_file (a path; default stderr), sign_always_authenticate (true or
 * false), pss (true or false: the authentication token's RSA-PSS
 * mechanisms, for TLS 1.3).  Two files are read, the system's
 * (MYNACARD_SYSCONFDIR/mynacard/mynacard.conf) and then the user's
 * ($XDG_CONFIG_HOME/mynacard/mynacard.conf, by default under ~/.config):
 * a key the user's file sets wins.  MYNACARD_CONF names one file instead
 * of both; MYNACARD_DEBUG overrides debug.  Unknown keys are warned about
 * in the log, never fatal: an old module must still load with a newer
 * file.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "module.h"
#include "log.h"

#define MC_CONF_DEFAULT MYNACARD_SYSCONFDIR "/mynacard/mynacard.conf"
#define MC_WARN_MAX 8u

/* Warnings found while reading the file, before the log exists. */
static char mc_warn[MC_WARN_MAX][160];
static unsigned mc_nwarn;

static FILE *mc_log_fp;         /* the log file we opened, or NULL */

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    va_list ap;

    if (mc_nwarn < MC_WARN_MAX) {
        va_start(ap, fmt);
        vsnprintf(mc_warn[mc_nwarn], sizeof(mc_warn[0]), fmt, ap);
        va_end(ap);
        mc_nwarn++;
    }
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *end = '\0';
    return s;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")
        || !strcasecmp(v, "on")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")
        || !strcasecmp(v, "off")) {
        *out = false;
        return 0;
    }
    return -1;
}

static int parse_level(const char *v, int *out)
{
    char *end;
    long l;

    errno = 0;
    l = strtol(v, &end, 10);
    if (errno || end == v || *end || l < 0 || l > MYNA_LOG_APDU)
        return -1;
    *out = (int)l;
    return 0;
}

static void free_readers(struct mc_config *cfg)
{
    for (size_t i = 0; i < cfg->nreaders; i++)
        free(cfg->readers[i]);
    free(cfg->readers);
    cfg->readers = NULL;
    cfg->nreaders = 0;
}

/* Split "a, b ,c" into cfg->readers.  Returns CKR_OK or CKR_HOST_MEMORY. */
static CK_RV parse_readers(struct mc_config *cfg, char *v)
{
    char *save = NULL, *tok;

    free_readers(cfg);
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **grown;

        tok = trim(tok);
        if (!*tok)
            continue;
        grown = realloc(cfg->readers, (cfg->nreaders + 1) * sizeof(*grown));
        if (!grown)
            return CKR_HOST_MEMORY;
        cfg->readers = grown;
        cfg->readers[cfg->nreaders] = strdup(tok);
        if (!cfg->readers[cfg->nreaders])
            return CKR_HOST_MEMORY;
        cfg->nreaders++;
    }
    return CKR_OK;
}

static CK_RV parse_line(struct mc_config *cfg, char *line, unsigned lineno)
{
    char *eq, *key, *val;

    line = trim(line);
    if (!*line || *line == '#')
        return CKR_OK;
    eq = strchr(line, '=');
    if (!eq) {
        warn("config: line %u is not `key = value`", lineno);
        return CKR_OK;
    }
    *eq = '\0';
    key = trim(line);
    val = trim(eq + 1);

    if (!strcmp(key, "readers"))
        return parse_readers(cfg, val);
    if (!strcmp(key, "debug")) {
        if (parse_level(val, &cfg->debug) < 0)
            warn("config: debug = %s (line %u) is not 0 to 4", val, lineno);
        return CKR_OK;
    }
    if (!strcmp(key, "log_file")) {
        free(cfg->log_file);
        cfg->log_file = NULL;
        if (*val) {
            cfg->log_file = strdup(val);
            if (!cfg->log_file)
                return CKR_HOST_MEMORY;
        }
        return CKR_OK;
    }
    if (!strcmp(key, "pss")) {
        if (parse_bool(val, &cfg->pss) < 0)
            warn("config: pss = %s (line %u) is not true or false", val,
                 lineno);
        return CKR_OK;
    }
    if (!strcmp(key, "sign_always_authenticate")) {
        if (parse_bool(val, &cfg->sign_always_authenticate) < 0)
            warn("config: sign_always_authenticate = %s (line %u) is not "
                 "true or false", val, lineno);
        return CKR_OK;
    }
    warn("config: unknown key `%s` on line %u ignored", key, lineno);
    return CKR_OK;
}

/* Read one file's lines into @cfg, over what earlier files set.  A file
 * that is not there is fine unless @must (MYNACARD_CONF named it). */
static CK_RV read_file(struct mc_config *cfg, const char *path, bool must)
{
    char line[1024];
    unsigned lineno = 0;
    CK_RV rv = CKR_OK;
    FILE *fp;

    fp = fopen(path, "re");
    if (!fp) {
        if (must || errno != ENOENT)
            warn("config: cannot open %s", path);
        return CKR_OK;
    }
    while (rv == CKR_OK && fgets(line, sizeof(line), fp)) {
        lineno++;
        rv = parse_line(cfg, line, lineno);
    }
    fclose(fp);
    return rv;
}

int mc_config_user_path(char *buf, size_t cap)
{
    /* secure_getenv: a set-uid program must not be steered by its user,
     * and then reads no user file at all.  The XDG base directory
     * specification ignores a relative XDG_CONFIG_HOME. */
    const char *xdg = secure_getenv("XDG_CONFIG_HOME");
    const char *home = secure_getenv("HOME");
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/mynacard/mynacard.conf", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, cap, "%s/.config/mynacard/mynacard.conf", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

CK_RV mc_config_load(struct mc_config *cfg)
{
    char user[PATH_MAX];
    const char *path, *env;
    CK_RV rv;

    memset(cfg, 0, sizeof(*cfg));
    cfg->sign_always_authenticate = true;
    mc_nwarn = 0;

    path = secure_getenv("MYNACARD_CONF");
    if (path && *path) {
        rv = read_file(cfg, path, true);
    } else {
        rv = read_file(cfg, MC_CONF_DEFAULT, false);
        if (rv == CKR_OK && mc_config_user_path(user, sizeof(user)) == 0)
            rv = read_file(cfg, user, false);
    }

    env = secure_getenv("MYNACARD_DEBUG");
    if (env && *env && parse_level(env, &cfg->debug) < 0)
        warn("MYNACARD_DEBUG=%s is not 0 to 4", env);
    if (rv != CKR_OK)
        mc_config_free(cfg);
    return rv;
}

void mc_config_free(struct mc_config *cfg)
{
    free_readers(cfg);
    free(cfg->log_file);
    cfg->log_file = NULL;
}

bool mc_config_reader_ok(const struct mc_config *cfg, const char *name)
{
    if (cfg->nreaders == 0)
        return true;
    for (size_t i = 0; i < cfg->nreaders; i++)
        if (strstr(name, cfg->readers[i]))
            return true;
    return false;
}

/* The sink: one line per call, prefixed so that a shared stderr stays
 * readable.  stdio locks the stream, so concurrent lines do not mix. */
static void sink(void *ctx, const char *line)
{
    FILE *fp = ctx;

    fprintf(fp, "mynacard[%ld]: %s\n", (long)getpid(), line);
    fflush(fp);
}

void mc_log_open(const struct mc_config *cfg)
{
    FILE *fp = stderr;

    if (cfg->debug <= MYNA_LOG_OFF) {
        myna_log_set(MYNA_LOG_OFF, NULL, NULL);
        return;
    }
    if (cfg->log_file) {
        mc_log_fp = fopen(cfg->log_file, "ae");
        if (mc_log_fp)
            fp = mc_log_fp;
    }
    myna_log_set((enum myna_log_level)cfg->debug, sink, fp);
    if (cfg->log_file && !mc_log_fp)
        myna_log(MYNA_LOG_ERROR, "cannot open log file %s: logging to stderr",
                 cfg->log_file);
    for (unsigned i = 0; i < mc_nwarn; i++)
        myna_log(MYNA_LOG_ERROR, "%s", mc_warn[i]);
    mc_nwarn = 0;
}

void mc_log_close(void)
{
    myna_log_set(MYNA_LOG_OFF, NULL, NULL);
    if (mc_log_fp) {
        fclose(mc_log_fp);
        mc_log_fp = NULL;
    }
}

bool mc_role_shown(enum jpki_role role)
{
    switch (mc_g.variant) {
    case MYNACARD_VARIANT_AUTH_ONLY:
        return role == JPKI_AUTH;
    case MYNACARD_VARIANT_SIGN_ONLY:
        return role == JPKI_SIGN;
    case MYNACARD_VARIANT_BOTH:
    default:
        return true;
    }
}
