/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-emu: the command line of the virtual My Number Card.  `init`
 * makes a card directory, `status` prints its PIN counters, and `run`
 * plugs the card into pcscd through vsmartcard's vpcd reader driver, so
 * that every PC/SC program (OpenSC, our module, pcsc_scan) sees a card in
 * a reader.  Layer: a test tool on top of libmynacard-emu (emu.h); it
 * never uses the card layer.  It connects to vpcd on the loopback
 * interface only: the card holds keys and PINs, if fake ones, and vpcd
 * itself listens on every interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "myna-err.h"

/* Exit codes, as --help documents them. */
enum {
    EXIT_OK = 0,          /* done; `run`: stopped by SIGTERM or SIGINT */
    EXIT_FAIL = 1,        /* the card directory or the socket failed */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_REMOVED = 3      /* `run`: the --remove-after fault removed the card */
};

#define VPCD_PORT_DEFAULT 35963
/* vpcd's control messages: one byte from the reader. */
#define VPCD_POWER_OFF 0x00
#define VPCD_POWER_ON 0x01
#define VPCD_RESET 0x02
#define VPCD_GET_ATR 0x04
/* A message is at most 65535 bytes (a 16-bit length); so is an answer. */
#define VPCD_MSG_MAX 0xFFFFu
/* How often `run` knocks at vpcd's door while nobody listens. */
#define CONNECT_RETRY_MS 100
/* How long a card reset by --reset-after stays out of the reader.  pcscd
 * asks vpcd whether a card is present every 400 ms; a card back sooner
 * than that is never seen to leave, and PC/SC programs would not learn
 * that it was reset. */
#define RESET_OUT_MS 1200

static const char usage_text[] =
"Usage:\n"
"  mynacard-emu init DIR [OPTIONS]\n"
"  mynacard-emu status DIR\n"
"  mynacard-emu run DIR [OPTIONS]\n"
"  mynacard-emu --help\n"
"\n"
"The virtual My Number Card of the mynacard tests: a JPKI card whose two\n"
"RSA-2048 keys live in a SoftHSM2 token inside DIR.  Test data only.\n"
"\n"
"init DIR: make a new card in DIR (created if missing; must not hold a\n"
"card yet): the keys, the two certificates and their test CAs, the token\n"
"information file, the manufacture-number record, the card-info AP's\n"
"EF 0002 (the same name, address, birth date and sex as the signature\n"
"certificate) and DIR/card.state (PINs and their try counters).\n"
"  --auth-pin P         user-authentication PIN, 4 digits (default 1234)\n"
"  --sign-pin P         signature password, 6-16 of A-Z 0-9 (default ABC123)\n"
"  --text-pin P         card-info AP's PIN, 4 digits (default 1234; its own\n"
"                       counter of 3)\n"
"  --manufacture-number N  13 printable ASCII characters (default\n"
"                       AB12345678901)\n"
"  --name N             holder's name, UTF-8, family and given name\n"
"                       separated by U+3000 (signature certificate and\n"
"                       card-info AP)\n"
"  --name-alt N         substitute characters of the name\n"
"  --address A          holder's address\n"
"  --address-alt A      substitute characters of the address\n"
"  --birth EYYYYMMDD    date of birth: era digit, then the date\n"
"  --sex 1|2|3          1 male, 2 female, 3 other (9 in the card-info AP)\n"
"  --city C             city in the signature certificate's subject\n"
"  --token-label L      token name in file 0006 (default JPKIAPICCTOKEN2)\n"
"  --not-before-days N  validity start, days from now (0 or negative)\n"
"  --valid-days N       validity length in days (default 5 years); a\n"
"                       negative start and a short length make an expired card\n"
"  --serial N           certificate serial base (default random)\n"
"\n"
"status DIR: print the tries left of both PINs, as DIR/card.state keeps\n"
"them (\"auth-tries N\" and \"sign-tries N\", one a line).\n"
"\n"
"run DIR: insert the card into vsmartcard's vpcd reader of a running\n"
"pcscd and answer it until stopped.  The card connects to vpcd (vpcd\n"
"listens) and retries every 100 ms until vpcd is there, so pcscd may start\n"
"after it; when vpcd goes away (pcscd stopped) it waits for it again.\n"
"Protocol, both ways: a 2-byte big-endian length, then the payload.  From\n"
"the reader either one control byte (00 power off, 01 power on, 02 reset,\n"
"04 get ATR; only get ATR is answered, with the ATR; power off loses the\n"
"verified PINs and the selection, a warm reset the selection and, unless\n"
"the profile keeps them, the PINs) or a command APDU, answered with the\n"
"response APDU including SW1 SW2.\n"
"\n"
"Profiles: which real card the virtual one plays (doc/jpki-card.md).\n"
"  --profile NAME       classic, strict or contactless (default: strict,\n"
"                       or $MYNACARD_EMU_PROFILE)\n"
"    classic            the first model: a warm reset clears verified PINs,\n"
"                       SELECT 00 A4 00 00 gives 6A86, an empty VERIFY\n"
"                       always 63Cx, signatures only with P1 00\n"
"    strict             the card one source measured: every switch below\n"
"                       from --warm-reset-keeps-pin to --sign-pss\n"
"    contactless        strict, plus a contactless ATR and\n"
"                       --short-apdu-only\n"
"Each behaviour is also a switch, added to the profile:\n"
"  --warm-reset-keeps-pin  only a power-down clears verified PINs (a warm\n"
"                       reset and a re-select keep them)\n"
"  --powerup-6f00       6F00 to the first APDU after a power-down and\n"
"                       power-up\n"
"  --empty-verify-9000  9000 to an empty VERIFY of a verified PIN\n"
"  --sign-length-6985   6985 for a signature input of the wrong length\n"
"                       (else 6700)\n"
"  --select-mf-9000     9000 to 00 A4 00 00 while an application is\n"
"                       selected (else 6A86)\n"
"  --sign-pss           COMPUTE DIGITAL SIGNATURE with P1 04 (RSASSA-PSS,\n"
"                       MGF1-SHA256, 32-byte salt, over a 32-byte SHA-256\n"
"                       hash) and 05 (the card hashes, then 04); other P1\n"
"                       values but 00 give 6A86\n"
"  --no-sign-pss        6A86 to P1 04 and 05 whatever the profile (a card\n"
"                       without the PSS mode)\n"
"  --sign-pss-bad       P1 04 and 05 answer 9000 and a signature that does\n"
"                       not verify (one bit flipped); implies --sign-pss\n"
"  --short-apdu-only    the reader fails every extended-length APDU (the\n"
"                       card never sees it; the program gets one byte and\n"
"                       no status word)\n"
"  --atr HEX            present this ATR (hex, spaces allowed), e.g. one\n"
"                       of the nine seen on real cards\n"
"  --host H             vpcd's address: loopback only (127.0.0.0/8, ::1 or\n"
"                       localhost); anything else is refused (default\n"
"                       127.0.0.1)\n"
"  --port N             vpcd's port (default 35963: the first slot of\n"
"                       Debian's /etc/reader.conf.d/vpcd)\n"
"  --reselect-clears-pin  SELECT of the JPKI AP drops verified PINs\n"
"  --extended-length    READ BINARY accepts extended Le\n"
"  --chain-chunk N      answer data in chunks of N bytes with 61xx\n"
"  --latency-apdu-us N  delay per APDU, microseconds\n"
"  --latency-byte-us N  delay per byte each way\n"
"  --latency-sign-us N  delay per COMPUTE DIGITAL SIGNATURE\n"
"  --reset-after N      reset the card once, after N APDUs.  The APDU\n"
"                       that triggers it is not answered: the card closes\n"
"                       its socket, stays out 1.2 s (pcscd polls vpcd every\n"
"                       0.4 s) and connects again, so PC/SC sees a removal\n"
"                       and an insertion (vpcd cannot signal a reset); the\n"
"                       card state is that of a fresh reset\n"
"  --remove-after N     remove the card after N APDUs: the card closes its\n"
"                       socket, does not come back, and the program exits\n"
"                       with status 3\n"
"  --corrupt sw|truncate|garbage|overlong\n"
"                       corrupt answers (a wrong SW, a cut answer, random\n"
"                       bytes, an answer longer than asked for)\n"
"  --corrupt-after N    from APDU number N on (1-based; default 1)\n"
"  --corrupt-count K    only K answers from there (default: every one)\n"
"  --corrupt-ins XX     only answers to commands with INS XX (hex) and\n"
"                       data, counted among themselves by --corrupt-after\n"
"                       (20: the VERIFYs that carry a PIN)\n"
"  --corrupt-sw XXXX    the status word `--corrupt sw` puts in (4 hex\n"
"                       digits; default 6F00)\n"
"  --log FILE           log every APDU to FILE (PIN bytes redacted)\n"
"  --ready-file F       write F (\"pid PORT\") once connected to vpcd the\n"
"                       first time; tests wait for it\n"
"  --stats-file F       rewrite F after each APDU, before answering it:\n"
"                       \"apdus N\", \"bytes-in N\" (commands) and\n"
"                       \"bytes-out N\" (answers with SW), one a line, totals\n"
"                       since start (for benchmarks)\n"
"SIGTERM or SIGINT closes the socket (the card is removed) and exits 0.\n"
"\n"
"Exit status: 0 success (run: stopped by SIGTERM/SIGINT); 1 the card\n"
"directory, the SoftHSM token or the socket failed; 2 bad command line;\n"
"3 run: the card was removed by --remove-after.\n";

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "mynacard-emu: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'mynacard-emu --help'.\n");
}

/* A decimal number within [min, max], all of @s. */
static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *opt, const char *s, unsigned *out)
{
    long v;

    if (!parse_long(s, 0, UINT_MAX > LONG_MAX ? LONG_MAX : (long)UINT_MAX,
                    &v)) {
        fprintf(stderr, "mynacard-emu: %s: not a number: %s\n", opt, s);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* An ATR in hex, spaces and colons allowed between bytes: 2 to @cap
 * bytes, the first 3B or 3F. */
static bool parse_atr(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;

    while (*s) {
        unsigned v;

        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        if (n == cap || sscanf(s, "%2x", &v) != 1 ||
            !((s[0] >= '0' && s[0] <= '9') || (s[0] | 0x20) >= 'a') ||
            s[1] == '\0' || s[1] == ' ' || s[1] == ':')
            return false;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    if (n < 2 || (out[0] != 0x3B && out[0] != 0x3F))
        return false;
    *len = n;
    return true;
}

/* ---- init and status ---- */

enum {
    OPT_AUTH_PIN = 256, OPT_SIGN_PIN, OPT_NAME, OPT_NAME_ALT, OPT_ADDRESS,
    OPT_ADDRESS_ALT, OPT_BIRTH, OPT_SEX, OPT_CITY, OPT_TOKEN_LABEL,
    OPT_NOT_BEFORE, OPT_VALID_DAYS, OPT_SERIAL,
    OPT_HOST, OPT_PORT, OPT_RESELECT, OPT_EXTENDED, OPT_CHAIN,
    OPT_LAT_APDU, OPT_LAT_BYTE, OPT_LAT_SIGN, OPT_RESET_AFTER,
    OPT_REMOVE_AFTER, OPT_CORRUPT, OPT_CORRUPT_AFTER,
    OPT_CORRUPT_SW, OPT_CORRUPT_COUNT, OPT_CORRUPT_INS, OPT_LOG, OPT_READY,
    OPT_STATS, OPT_PROFILE, OPT_ATR, OPT_WARM_KEEPS, OPT_POWERUP_6F00,
    OPT_EMPTY_VERIFY_9000, OPT_SIGN_LEN_6985, OPT_SELECT_MF_9000,
    OPT_SIGN_PSS, OPT_NO_SIGN_PSS, OPT_SIGN_PSS_BAD, OPT_SHORT_ONLY,
    OPT_TEXT_PIN, OPT_MFG_NUMBER
};

static const struct option init_opts[] = {
    {"auth-pin", required_argument, NULL, OPT_AUTH_PIN},
    {"sign-pin", required_argument, NULL, OPT_SIGN_PIN},
    {"name", required_argument, NULL, OPT_NAME},
    {"name-alt", required_argument, NULL, OPT_NAME_ALT},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"address-alt", required_argument, NULL, OPT_ADDRESS_ALT},
    {"birth", required_argument, NULL, OPT_BIRTH},
    {"sex", required_argument, NULL, OPT_SEX},
    {"city", required_argument, NULL, OPT_CITY},
    {"token-label", required_argument, NULL, OPT_TOKEN_LABEL},
    {"not-before-days", required_argument, NULL, OPT_NOT_BEFORE},
    {"valid-days", required_argument, NULL, OPT_VALID_DAYS},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"text-pin", required_argument, NULL, OPT_TEXT_PIN},
    {"manufacture-number", required_argument, NULL, OPT_MFG_NUMBER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The one non-option argument, DIR, after getopt_long has moved options
 * ahead of it. */
static const char *dir_arg(int argc, char **argv)
{
    if (optind != argc - 1) {
        usage_error("%s", optind >= argc ? "missing DIR"
                                          : "more than one DIR");
        return NULL;
    }
    return argv[optind];
}

static int cmd_init(int argc, char **argv)
{
    struct emu_init_params p;
    const char *dir;
    long v;
    int c;

    emu_init_params_default(&p);
    while ((c = getopt_long(argc, argv, "h", init_opts, NULL)) != -1) {
        switch (c) {
        case OPT_AUTH_PIN: p.auth_pin = optarg; break;
        case OPT_TEXT_PIN: p.text_pin = optarg; break;
        case OPT_MFG_NUMBER: p.mfg_number = optarg; break;
        case OPT_SIGN_PIN: p.sign_pin = optarg; break;
        case OPT_NAME: p.name = optarg; break;
        case OPT_NAME_ALT: p.name_alt = optarg; break;
        case OPT_ADDRESS: p.address = optarg; break;
        case OPT_ADDRESS_ALT: p.address_alt = optarg; break;
        case OPT_BIRTH: p.birth = optarg; break;
        case OPT_SEX:
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0 &&
                strcmp(optarg, "3") != 0) {
                usage_error("--sex must be 1, 2 or 3, not %s", optarg);
                return EXIT_USAGE;
            }
            p.sex = optarg;
            break;
        case OPT_CITY: p.city = optarg; break;
        case OPT_TOKEN_LABEL: p.token_label = optarg; break;
        case OPT_NOT_BEFORE:
            if (!parse_long(optarg, -36500, 0, &v)) {
                usage_error("--not-before-days: 0 or negative, not %s",
                            optarg);
                return EXIT_USAGE;
            }
            p.not_before_days = (int)v;
            break;
        case OPT_VALID_DAYS:
            if (!parse_long(optarg, 1, 36500, &v)) {
                usage_error("--valid-days: 1 to 36500, not %s", optarg);
                return EXIT_USAGE;
            }
            p.valid_days = (int)v;
            break;
        case OPT_SERIAL:
            if (!parse_uint("--serial", optarg, &p.serial))
                return EXIT_USAGE;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            /* getopt_long has said what was wrong. */
            fprintf(stderr, "Try 'mynacard-emu --help'.\n");
            return EXIT_USAGE;
        }
    }
    dir = dir_arg(argc, argv);
    if (dir == NULL)
        return EXIT_USAGE;
    return emu_card_init(dir, &p) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct emu_card *card;
    const char *dir;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        fprintf(stderr, "Try 'mynacard-emu --help'.\n");
        return EXIT_USAGE;
    }
    dir = dir_arg(argc, argv);
    if (dir == NULL)
        return EXIT_USAGE;
    if (emu_card_open(dir, NULL, &card) != 0)
        return EXIT_FAIL;
    printf("auth-tries %d\nsign-tries %d\n", emu_card_tries(card, 0),
           emu_card_tries(card, 1));
    emu_card_close(card);
    return EXIT_OK;
}

/* ---- run ---- */

static const struct option run_opts[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"reselect-clears-pin", no_argument, NULL, OPT_RESELECT},
    {"extended-length", no_argument, NULL, OPT_EXTENDED},
    {"chain-chunk", required_argument, NULL, OPT_CHAIN},
    {"latency-apdu-us", required_argument, NULL, OPT_LAT_APDU},
    {"latency-byte-us", required_argument, NULL, OPT_LAT_BYTE},
    {"latency-sign-us", required_argument, NULL, OPT_LAT_SIGN},
    {"reset-after", required_argument, NULL, OPT_RESET_AFTER},
    {"remove-after", required_argument, NULL, OPT_REMOVE_AFTER},
    {"corrupt", required_argument, NULL, OPT_CORRUPT},
    {"corrupt-after", required_argument, NULL, OPT_CORRUPT_AFTER},
    {"corrupt-sw", required_argument, NULL, OPT_CORRUPT_SW},
    {"corrupt-count", required_argument, NULL, OPT_CORRUPT_COUNT},
    {"corrupt-ins", required_argument, NULL, OPT_CORRUPT_INS},
    {"log", required_argument, NULL, OPT_LOG},
    {"ready-file", required_argument, NULL, OPT_READY},
    {"stats-file", required_argument, NULL, OPT_STATS},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"atr", required_argument, NULL, OPT_ATR},
    {"warm-reset-keeps-pin", no_argument, NULL, OPT_WARM_KEEPS},
    {"powerup-6f00", no_argument, NULL, OPT_POWERUP_6F00},
    {"empty-verify-9000", no_argument, NULL, OPT_EMPTY_VERIFY_9000},
    {"sign-length-6985", no_argument, NULL, OPT_SIGN_LEN_6985},
    {"select-mf-9000", no_argument, NULL, OPT_SELECT_MF_9000},
    {"sign-pss", no_argument, NULL, OPT_SIGN_PSS},
    {"no-sign-pss", no_argument, NULL, OPT_NO_SIGN_PSS},
    {"sign-pss-bad", no_argument, NULL, OPT_SIGN_PSS_BAD},
    {"short-apdu-only", no_argument, NULL, OPT_SHORT_ONLY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Set by SIGTERM and SIGINT, which are blocked except inside ppoll(): a
 * signal can only arrive while we wait, never between a check and a
 * blocking call. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct run_ctx {
    struct emu_card *card;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    sigset_t origmask;    /* the signal mask we started with */
    sigset_t waitmask;    /* the signal mask while waiting: stops allowed */
    const char *ready_file;
    bool ready_written;
    const char *stats_file;
    uint8_t *msg;         /* one message from the reader */
    uint8_t *resp;        /* one answer */
};

/* Loopback only: 127.0.0.0/8, ::1, or the name "localhost" (taken as
 * 127.0.0.1 without asking any resolver). */
static bool loopback_addr(const char *host, uint16_t port,
                          struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
            return false;
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof(*in4);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return false;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        return true;
    }
    return false;
}

/* Wait until @fd is readable (fd -1: just sleep) or @ms pass.  Returns 1
 * readable, 0 timeout, -1 stop requested or error. */
static int wait_fd(struct run_ctx *r, int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    struct timespec ts, *tsp = NULL;
    int n;

    if (ms >= 0) {
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        tsp = &ts;
    }
    for (;;) {
        if (stop_requested)
            return -1;
        n = ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &r->waitmask);
        if (n >= 0)
            return n > 0 ? 1 : 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Read exactly @len bytes.  Returns 0, or -1 on EOF, error or stop. */
static int read_full(struct run_ctx *r, int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;
    int one = 1;

    while (got < len) {
        if (wait_fd(r, fd, -1) < 0)
            return -1;
        /* vpcd writes the length and the payload of a message apart,
         * without TCP_NODELAY: Nagle holds the payload until the length is
         * acknowledged, and a delayed ACK costs 40 ms a message.  Linux
         * clears TCP_QUICKACK as it pleases, so ask again each time. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        n = recv(fd, buf + got, len - got, 0);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* Send one message: the 2-byte length, then @len bytes. */
static int send_msg(int fd, const uint8_t *buf, size_t len)
{
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    struct iovec iov[2] = {{hdr, 2}, {(void *)buf, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    size_t left = len + 2;
    ssize_t n;

    if (len > VPCD_MSG_MAX)
        return -1;
    while (left > 0) {
        /* MSG_NOSIGNAL: a vanished vpcd is an error here, not a SIGPIPE. */
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        left -= (size_t)n;
        /* Advance over what went out; rarely more than one round. */
        while (n > 0 && mh.msg_iovlen > 0) {
            size_t take = (size_t)n < mh.msg_iov->iov_len
                              ? (size_t)n : mh.msg_iov->iov_len;

            mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + take;
            mh.msg_iov->iov_len -= take;
            n -= (ssize_t)take;
            if (mh.msg_iov->iov_len == 0) {
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
        }
    }
    return 0;
}

static void write_ready_file(struct run_ctx *r, uint16_t port)
{
    char tmp[PATH_MAX];
    FILE *f;

    if (r->ready_file == NULL || r->ready_written)
        return;
    /* Written beside and renamed, so that a test never reads half of it. */
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", r->ready_file) >=
        (int)sizeof(tmp)) {
        fprintf(stderr, "mynacard-emu: --ready-file: path too long\n");
        return;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "mynacard-emu: %s: %s\n", tmp, strerror(errno));
        return;
    }
    fprintf(f, "%ld %u\n", (long)getpid(), (unsigned)port);
    if (fclose(f) != 0 || rename(tmp, r->ready_file) != 0) {
        fprintf(stderr, "mynacard-emu: %s: %s\n", r->ready_file,
                strerror(errno));
        unlink(tmp);
        return;
    }
    r->ready_written = true;
}

/* Rewrite the --stats-file with the card's counters.  Written beside and
 * renamed, so that a reader never sees half of it; done before the answer
 * goes out, so that a program that got its answer reads counters that
 * include it. */
static void write_stats_file(struct run_ctx *r)
{
    char tmp[PATH_MAX];
    unsigned long apdus = 0, in = 0, out = 0;
    FILE *f;

    if (r->stats_file == NULL)
        return;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", r->stats_file) >=
        (int)sizeof(tmp))
        return;
    emu_card_counters(r->card, &apdus, &in, &out);
    f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fprintf(f, "apdus %lu\nbytes-in %lu\nbytes-out %lu\n", apdus, in, out);
    if (fclose(f) != 0 || rename(tmp, r->stats_file) != 0)
        unlink(tmp);
}

/* Connect to vpcd, retrying until it listens.  Returns the socket, or -1
 * when a stop was requested. */
static int connect_vpcd(struct run_ctx *r)
{
    bool told = false;
    int fd, one = 1;

    for (;;) {
        fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fprintf(stderr, "mynacard-emu: socket: %s\n", strerror(errno));
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&r->addr, r->addrlen) == 0)
            break;
        if (!told) {
            fprintf(stderr, "mynacard-emu: waiting for vpcd (%s)\n",
                    strerror(errno));
            told = true;
        }
        close(fd);
        if (wait_fd(r, -1, CONNECT_RETRY_MS) < 0)
            return -1;
    }
    /* APDUs are small and answered one at a time: send them now. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

enum serve_end { SERVE_STOP, SERVE_RECONNECT, SERVE_RESET, SERVE_REMOVED };

/* Answer the reader on @fd until the connection ends; says why it did. */
static enum serve_end serve(struct run_ctx *r, int fd)
{
    const uint8_t *atr;
    size_t atrlen, rlen;
    uint8_t hdr[2];
    size_t len;
    int err;

    for (;;) {
        if (read_full(r, fd, hdr, 2) < 0)
            return stop_requested ? SERVE_STOP : SERVE_RECONNECT;
        len = ((size_t)hdr[0] << 8) | hdr[1];
        if (len > 0 && read_full(r, fd, r->msg, len) < 0)
            return stop_requested ? SERVE_STOP : SERVE_RECONNECT;
        if (len == 1) {
            switch (r->msg[0]) {
            case VPCD_GET_ATR:
                atr = emu_card_atr(r->card, &atrlen);
                if (send_msg(fd, atr, atrlen) < 0)
                    return SERVE_RECONNECT;
                break;
            case VPCD_POWER_OFF:
                emu_card_power_off(r->card);
                break;
            case VPCD_POWER_ON:
                emu_card_power_on(r->card);
                break;
            case VPCD_RESET:
                emu_card_reset(r->card);
                break;
            default:
                /* Unknown control bytes have no answer to give. */
                break;
            }
            continue;
        }
        if (len < 4) {
            /* Not a command APDU: the card would not answer it either. */
            static const uint8_t sw_wrong_length[2] = {0x67, 0x00};

            if (send_msg(fd, sw_wrong_length, 2) < 0)
                return SERVE_RECONNECT;
            continue;
        }
        err = emu_card_apdu(r->card, r->msg, len, r->resp, VPCD_MSG_MAX,
                            &rlen);
        if (err == MYNA_E_CARD_RESET)
            return SERVE_RESET;
        if (err == MYNA_E_NO_CARD)
            return SERVE_REMOVED;
        if (err == MYNA_E_TRANSPORT) {
            /* --short-apdu-only, or a card without power: nothing came
             * back from the card.  One byte, not even a status word, is
             * how the program learns of it through vpcd (an empty answer
             * stalls vpcd). */
            static const uint8_t no_answer[1] = {0x00};

            if (send_msg(fd, no_answer, 1) < 0)
                return SERVE_RECONNECT;
            continue;
        }
        if (err < 0) {
            /* The emulator itself failed: say so as a card would. */
            static const uint8_t sw_no_info[2] = {0x6F, 0x00};

            fprintf(stderr, "mynacard-emu: APDU failed: %d\n", err);
            if (send_msg(fd, sw_no_info, 2) < 0)
                return SERVE_RECONNECT;
            continue;
        }
        write_stats_file(r);
        if (send_msg(fd, r->resp, rlen) < 0)
            return SERVE_RECONNECT;
    }
}

static int run_loop(struct run_ctx *r, uint16_t port)
{
    enum serve_end why;
    int fd;

    for (;;) {
        fd = connect_vpcd(r);
        if (fd < 0)
            return stop_requested ? EXIT_OK : EXIT_FAIL;
        write_ready_file(r, port);
        why = serve(r, fd);
        /* Closing the socket is how a card leaves a vpcd reader. */
        close(fd);
        switch (why) {
        case SERVE_STOP:
            return EXIT_OK;
        case SERVE_REMOVED:
            fprintf(stderr, "mynacard-emu: card removed (--remove-after)\n");
            return EXIT_REMOVED;
        case SERVE_RESET:
            /* vpcd cannot tell pcscd that a card was reset: take the card
             * out long enough for pcscd to see it gone (out of the reader,
             * it has no power), then put it back in. */
            emu_card_power_off(r->card);
            if (wait_fd(r, -1, RESET_OUT_MS) < 0)
                return EXIT_OK;
            break;
        case SERVE_RECONNECT:
            /* vpcd went away (pcscd stopped): wait for the next one; the
             * card comes back fresh, as after a power cycle. */
            emu_card_power_off(r->card);
            break;
        }
    }
}

static int cmd_run(int argc, char **argv)
{
    struct emu_options opt;
    struct run_ctx r;
    struct sigaction sa;
    sigset_t stops;
    const char *host = "127.0.0.1";
    const char *dir;
    bool corrupt_after_set = false;
    long port = VPCD_PORT_DEFAULT;
    int rc = EXIT_FAIL;
    int c;

    memset(&opt, 0, sizeof(opt));
    memset(&r, 0, sizeof(r));
    while ((c = getopt_long(argc, argv, "h", run_opts, NULL)) != -1) {
        switch (c) {
        case OPT_HOST: host = optarg; break;
        case OPT_PORT:
            if (!parse_long(optarg, 1, 65535, &port)) {
                usage_error("--port: 1 to 65535, not %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_RESELECT: opt.reselect_clears_pin = true; break;
        case OPT_EXTENDED: opt.extended_length = true; break;
        case OPT_CHAIN:
            if (!parse_uint("--chain-chunk", optarg, &opt.chain_chunk))
                return EXIT_USAGE;
            break;
        case OPT_LAT_APDU:
            if (!parse_uint("--latency-apdu-us", optarg, &opt.latency_apdu_us))
                return EXIT_USAGE;
            break;
        case OPT_LAT_BYTE:
            if (!parse_uint("--latency-byte-us", optarg, &opt.latency_byte_us))
                return EXIT_USAGE;
            break;
        case OPT_LAT_SIGN:
            if (!parse_uint("--latency-sign-us", optarg, &opt.latency_sign_us))
                return EXIT_USAGE;
            break;
        case OPT_RESET_AFTER:
            if (!parse_uint("--reset-after", optarg, &opt.reset_after))
                return EXIT_USAGE;
            break;
        case OPT_REMOVE_AFTER:
            if (!parse_uint("--remove-after", optarg, &opt.remove_after))
                return EXIT_USAGE;
            break;
        case OPT_CORRUPT:
            if (strcmp(optarg, "sw") == 0)
                opt.corrupt = EMU_CORRUPT_SW;
            else if (strcmp(optarg, "truncate") == 0)
                opt.corrupt = EMU_CORRUPT_TRUNCATE;
            else if (strcmp(optarg, "garbage") == 0)
                opt.corrupt = EMU_CORRUPT_GARBAGE;
            else if (strcmp(optarg, "overlong") == 0)
                opt.corrupt = EMU_CORRUPT_OVERLONG;
            else {
                usage_error("--corrupt: sw, truncate, garbage or overlong, "
                            "not %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_CORRUPT_SW: {
            char *end = NULL;
            unsigned long v = strtoul(optarg, &end, 16);

            if (strlen(optarg) != 4 || !end || *end != '\0' || v == 0) {
                usage_error("--corrupt-sw: 4 hex digits, not %s", optarg);
                return EXIT_USAGE;
            }
            opt.corrupt_sw = (unsigned)v;
            break;
        }
        case OPT_CORRUPT_INS: {
            char *end = NULL;
            unsigned long v = strtoul(optarg, &end, 16);

            if (!*optarg || !end || *end != '\0' || v == 0 || v > 0xFF) {
                usage_error("--corrupt-ins: an INS byte in hex, not %s",
                            optarg);
                return EXIT_USAGE;
            }
            opt.corrupt_ins = (unsigned)v;
            break;
        }
        case OPT_CORRUPT_COUNT:
            if (!parse_uint("--corrupt-count", optarg, &opt.corrupt_count))
                return EXIT_USAGE;
            break;
        case OPT_CORRUPT_AFTER:
            if (!parse_uint("--corrupt-after", optarg, &opt.corrupt_after))
                return EXIT_USAGE;
            corrupt_after_set = true;
            break;
        case OPT_PROFILE:
            opt.profile = emu_profile_from_name(optarg);
            if (opt.profile == EMU_PROFILE_DEFAULT) {
                usage_error("--profile: classic, strict or contactless, "
                            "not %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_ATR:
            if (!parse_atr(optarg, opt.atr, sizeof(opt.atr), &opt.atr_len)) {
                usage_error("--atr: 2 to 33 bytes in hex, not %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_WARM_KEEPS: opt.warm_reset_keeps_pin = true; break;
        case OPT_POWERUP_6F00: opt.powerup_6f00 = true; break;
        case OPT_EMPTY_VERIFY_9000: opt.empty_verify_9000 = true; break;
        case OPT_SIGN_LEN_6985: opt.sign_length_6985 = true; break;
        case OPT_SELECT_MF_9000: opt.select_mf_9000 = true; break;
        case OPT_SIGN_PSS: opt.sign_pss = true; break;
        case OPT_NO_SIGN_PSS: opt.sign_pss_refused = true; break;
        case OPT_SIGN_PSS_BAD: opt.sign_pss = opt.sign_pss_bad = true; break;
        case OPT_SHORT_ONLY: opt.short_apdu_only = true; break;
        case OPT_LOG: opt.log_path = optarg; break;
        case OPT_READY: r.ready_file = optarg; break;
        case OPT_STATS: r.stats_file = optarg; break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fprintf(stderr, "Try 'mynacard-emu --help'.\n");
            return EXIT_USAGE;
        }
    }
    dir = dir_arg(argc, argv);
    if (dir == NULL)
        return EXIT_USAGE;
    if (!loopback_addr(host, (uint16_t)port, &r.addr, &r.addrlen)) {
        usage_error("--host must be a loopback address, not %s", host);
        return EXIT_USAGE;
    }
    if (opt.corrupt != EMU_CORRUPT_NONE && !corrupt_after_set)
        opt.corrupt_after = 1;

    /* Stops are blocked from here on and let through only inside ppoll(),
     * so no stop is lost between a check and a blocking call. */
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stops, &r.origmask) != 0) {
        perror("mynacard-emu: sigprocmask");
        return EXIT_FAIL;
    }
    r.waitmask = r.origmask;
    sigdelset(&r.waitmask, SIGTERM);
    sigdelset(&r.waitmask, SIGINT);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    r.msg = malloc(VPCD_MSG_MAX);
    if (r.msg == NULL)
        goto out_sigmask;
    r.resp = malloc(VPCD_MSG_MAX);
    if (r.resp == NULL)
        goto out_free_msg;
    if (emu_card_open(dir, &opt, &r.card) != 0)
        goto out_free_resp;

    fprintf(stderr, "mynacard-emu: profile %s\n",
            emu_profile_name(emu_card_profile(r.card)));
    write_stats_file(&r);
    rc = run_loop(&r, (uint16_t)port);

    emu_card_close(r.card);
out_free_resp:
    free(r.resp);
out_free_msg:
    free(r.msg);
out_sigmask:
    sigprocmask(SIG_SETMASK, &r.origmask, NULL);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    /* Parse what follows the command as its own command line. */
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    usage_error("unknown command: %s", cmd);
    return EXIT_USAGE;
}
