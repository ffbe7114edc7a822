/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool's entry point: the command table and option parsing.
 * Layer: tool/; calls the commands (status.c, pin.c, export.c, setup.c
 * with mynaportal.c, doctor.c, pss.c) and nothing of the card itself.  Under --json every command
 * prints one JSON object with "command" and "exit" members, whatever
 * happens; messages for people go to stderr in both modes.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

struct tool_opts tool_opt;

/* Which options a command accepts, as bits. */
enum {
    O_STDIN = 1u << 0,
    O_YES = 1u << 1,
    O_SIGN = 1u << 2,
    O_PERSONAL = 1u << 3,
    O_FORMAT = 1u << 4,
    O_REMOVE = 1u << 5,
    O_READER = 1u << 6,
    O_OUTPUT = 1u << 7,
    O_ENABLE = 1u << 8,
    O_SYSTEM = 1u << 9,
    O_UNSIGNED = 1u << 10
};

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    unsigned opts;
} commands[] = {
    { "status", cmd_status, O_SIGN | O_PERSONAL | O_STDIN | O_YES | O_READER },
    { "verify-pin", cmd_verify_pin, O_STDIN | O_YES | O_READER },
    { "change-pin", cmd_change_pin, O_STDIN | O_YES | O_READER },
    { "export", cmd_export, O_FORMAT | O_OUTPUT | O_STDIN | O_YES | O_READER },
    { "setup", cmd_setup, O_REMOVE | O_SYSTEM | O_UNSIGNED },
    { "doctor", cmd_doctor, O_READER },
    { "check-pss", cmd_check_pss, O_ENABLE | O_STDIN | O_YES | O_READER },
};

/* The options that only set a flag of tool_opt: the flag, its value, and
 * the bit that says the option was given (none for --json, which every
 * command takes). */
static const struct flag_opt {
    int ch;
    bool *flag;
    bool value;
    unsigned given;
} flag_opts[] = {
    { 'j', &tool_opt.json, true, 0 },
    { 'S', &tool_opt.use_stdin, true, O_STDIN },
    { 'y', &tool_opt.yes, true, O_YES },
    { 's', &tool_opt.sign, true, O_SIGN },
    { 'P', &tool_opt.personal, true, O_PERSONAL },
    { 'p', &tool_opt.der, false, O_FORMAT },
    { 'd', &tool_opt.der, true, O_FORMAT },
    { 'r', &tool_opt.remove, true, O_REMOVE },
    { 'Y', &tool_opt.system, true, O_SYSTEM },
    { 'U', &tool_opt.allow_unsigned, true, O_UNSIGNED },
    { 'E', &tool_opt.enable, true, O_ENABLE },
    { 'D', &tool_opt.disable, true, O_ENABLE },
};

static const struct flag_opt *flag_opt_for(int ch)
{
    for (size_t i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++)
        if (flag_opts[i].ch == ch)
            return &flag_opts[i];
    return NULL;
}

static const char usage_text[] = N_(
"Usage: mynacard-tool COMMAND [OPTIONS]\n"
"\n"
"  status [--sign [--personal]]   readers, card, tries left, certificates\n"
"  verify-pin auth|sign           check a PIN (tries shown before and after)\n"
"  change-pin auth|sign           change a PIN\n"
"  export auth|sign|auth-ca|sign-ca [--pem|--der] [-o FILE]\n"
"  setup firefox|chromium|nss|libreoffice|p11-kit [--remove]\n"
"  setup mynaportal [--remove] [--system] [--allow-unsigned]\n"
"                                 Mynaportal and e-Tax: the native messaging\n"
"                                 host and the browser extension\n"
"  doctor                         find what stops the card from working\n"
"  check-pss [--enable|--disable] can the card log in to TLS 1.3 sites?\n"
"                                 --enable turns it on after a check\n"
"\n"
"Options: --json (output for scripts), --stdin (PINs from standard input,\n"
"one a line), --yes (send a PIN even with one try left), --reader NAME,\n"
"--help, --version.  See mynacard-tool(1).\n"
"\n"
"Exit status: 0 ok; 1 failure or problems found; 2 usage; 3 pcscd not\n"
"running; 4 no reader, no card or not a My Number Card; 5 wrong PIN;\n"
"6 PIN blocked; 7 PIN of the wrong format (not sent); 8 cancelled\n"
"(nothing sent); 9 Firefox or LibreOffice is running.\n");

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "stdin", no_argument, NULL, 'S' },
        { "yes", no_argument, NULL, 'y' },
        { "sign", no_argument, NULL, 's' },
        { "personal", no_argument, NULL, 'P' },
        { "pem", no_argument, NULL, 'p' },
        { "der", no_argument, NULL, 'd' },
        { "remove", no_argument, NULL, 'r' },
        { "system", no_argument, NULL, 'Y' },
        { "allow-unsigned", no_argument, NULL, 'U' },
        { "enable", no_argument, NULL, 'E' },
        { "disable", no_argument, NULL, 'D' },
        { "reader", required_argument, NULL, 'R' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const struct command *cmd = NULL;
    unsigned given = 0;
    int ch, rc;

    tool_i18n_init();
    /* getopt's own complaints would be in English (glibc's catalogs are
     * not always installed): ours are in the user's language.  The
     * leading ':' tells a missing value from an unknown option. */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
        const struct flag_opt *f = flag_opt_for(ch);

        if (f) {
            *f->flag = f->value;
            given |= f->given;
            continue;
        }
        switch (ch) {
        case 'R': tool_opt.reader = optarg; given |= O_READER; break;
        case 'o': tool_opt.output = optarg; given |= O_OUTPUT; break;
        case 'h':
            fputs(_(usage_text), stdout);
            return TOOL_OK;
        case 'V':
            printf("mynacard-tool %s\n", MYNACARD_VERSION);
            return TOOL_OK;
        case ':':
            complain(_("option %s needs a value"), argv[optind - 1]);
            fputs(_(usage_text), stderr);
            return TOOL_EUSAGE;
        default:
            if (optopt && strncmp(argv[optind - 1], "--", 2) != 0)
                complain(_("unknown option -%c"), optopt);
            else
                complain(_("unknown option %s"), argv[optind - 1]);
            fputs(_(usage_text), stderr);
            return TOOL_EUSAGE;
        }
    }
    if (optind >= argc) {
        fputs(_(usage_text), stderr);
        return TOOL_EUSAGE;
    }
    if (!strcmp(argv[optind], "help")) {
        fputs(_(usage_text), stdout);
        return TOOL_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[optind], commands[i].name))
            cmd = &commands[i];
    if (!cmd) {
        complain(_("unknown command \"%s\""), argv[optind]);
        fputs(_(usage_text), stderr);
        return TOOL_EUSAGE;
    }
    if (given & ~cmd->opts) {
        complain(_("an option given does not apply to %s: see "
                 "`mynacard-tool --help`"), cmd->name);
        return TOOL_EUSAGE;
    }
    jo_obj_begin(NULL);
    jo_str("command", cmd->name);
    rc = cmd->run(argc - optind - 1, argv + optind + 1);
    jo_unwind();
    jo_int("exit", rc);
    jo_done();
    return rc;
}
