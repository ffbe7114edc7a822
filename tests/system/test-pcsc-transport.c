/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * System test of the PC/SC transport (apdu/transport-pcsc.c) against a
 * real pcscd with the virtual card in its vpcd reader, as set up by
 * test-pcsc-transport.sh through lib.sh.  Prints TAP.  It drives the card
 * through tp_hub_pcsc_new() only, except where it plays "another program":
 * a second PC/SC connection that resets the card (the one place outside
 * transport-pcsc.c that calls SCard*, and only here in tests/).  It removes
 * and inserts the card by stopping and starting mynacard-emu, and restarts
 * pcscd, always by PID; children die with it (PR_SET_PDEATHSIG).
 *
 * Environment (from lib.sh): MYNACARD_EMU, SYS_WORK, SYS_PORT, SYS_READER,
 * SYS_EMU_PID (the card lib.sh inserted), SYS_PCSCD_PID, SYS_PCSCD (the
 * program), SYS_CARD.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <winscard.h>

#include "myna-err.h"
#include "transport.h"

static int tap_n, tap_failed;

static bool ok(bool cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    tap_n++;
    if (!cond)
        tap_failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        printf("Bail out! %s is not set (run through test-pcsc-transport.sh)\n",
               name);
        exit(1);
    }
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- Processes: the card and pcscd ---- */

static const char *emu_path, *pcscd_path, *work, *port, *reader, *card_dir;
static pid_t emu_child = -1, pcscd_child = -1;

/* Start @argv with output appended to @log; it dies when we die. */
static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    int fd;

    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
}

static void stop_child(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    waitpid(*pid, NULL, 0);
    *pid = -1;
}

static void stop_children(void)
{
    stop_child(&emu_child);
    stop_child(&pcscd_child);
}

/* Insert the card: a new mynacard-emu over the same directory, with one
 * more option and its value (or NULL). */
static void emu_start_with(const char *opt, const char *val)
{
    char ready[4096];
    char *argv[] = {(char *)emu_path, "run", (char *)card_dir, "--port",
                    (char *)port, "--ready-file", ready, (char *)opt,
                    (char *)val, NULL};
    char log[4096];

    snprintf(ready, sizeof(ready), "%s/emu-c.ready", work);
    snprintf(log, sizeof(log), "%s/emu.log", work);
    unlink(ready);
    emu_child = spawn(argv, log);
}

static void emu_start(void)
{
    emu_start_with(NULL, NULL);
}

static void pcscd_start(void)
{
    char conf[4096], log[4096];
    char *argv[] = {(char *)pcscd_path, "-f", "-a", "-d", "-c", conf, NULL};

    snprintf(conf, sizeof(conf), "%s/reader.conf.d", work);
    snprintf(log, sizeof(log), "%s/pcscd.log", work);
    pcscd_child = spawn(argv, log);
}

/* Stop a process lib.sh started (not our child: lib.sh reaps it). */
static void stop_foreign(const char *pid_env)
{
    pid_t pid = (pid_t)atol(env(pid_env));
    int i;

    kill(pid, SIGTERM);
    /* Gone or a zombie of lib.sh's: either way it no longer runs. */
    for (i = 0; i < 100; i++) {
        char path[64], buf[512];
        FILE *f;
        char *p;

        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
        f = fopen(path, "r");
        if (f == NULL)
            return;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        if (p == NULL || ((p = strrchr(buf, ')')) != NULL && p[2] == 'Z'))
            return;
        sleep_ms(50);
    }
}

/* ---- "Another program": a second PC/SC connection that resets ---- */

/* Connect to the reader as another program does (@proto: the protocol
 * it got); false, with nothing left open, when it cannot. */
static bool other_connect(SCARDCONTEXT *ctx, SCARDHANDLE *h, DWORD *proto)
{
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx) !=
        SCARD_S_SUCCESS)
        return false;
    if (SCardConnect(*ctx, reader, SCARD_SHARE_SHARED,
                     SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, h,
                     proto) != SCARD_S_SUCCESS) {
        SCardReleaseContext(*ctx);
        return false;
    }
    return true;
}

static bool other_reset(void)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE h;
    DWORD proto;
    LONG rv;

    if (!other_connect(&ctx, &h, &proto))
        return false;
    rv = SCardReconnect(h, SCARD_SHARE_SHARED,
                        SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD,
                        &proto);
    SCardDisconnect(h, SCARD_LEAVE_CARD);
    SCardReleaseContext(ctx);
    return rv == SCARD_S_SUCCESS;
}

/* Another program leaves with SCardDisconnect(SCARD_UNPOWER_CARD): pcscd
 * leaves the card unpowered, even with our connection open. */
static bool other_unpower(void)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE h;
    DWORD proto;
    LONG rv;

    if (!other_connect(&ctx, &h, &proto))
        return false;
    rv = SCardDisconnect(h, SCARD_UNPOWER_CARD);
    SCardReleaseContext(ctx);
    return rv == SCARD_S_SUCCESS;
}

/* ---- The card ---- */

static const uint8_t select_jpki[] = {0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3,
                                      0x92, 0xF0, 0x00, 0x26, 0x01, 0x00,
                                      0x00, 0x00, 0x01};

/* One APDU; returns SW1SW2, or the negative transport error. */
static int xfer(struct transport *t, const uint8_t *cmd, size_t len,
                uint8_t *resp, size_t *rlen)
{
    uint8_t buf[300];
    size_t n = 0;
    int err;

    err = tp_transmit(t, cmd, len, buf, sizeof(buf), &n);
    if (err < 0)
        return err;
    if (resp != NULL)
        memcpy(resp, buf, n);
    if (rlen != NULL)
        *rlen = n;
    return n >= 2 ? (buf[n - 2] << 8) | buf[n - 1] : -1000;
}

static int select_ef(struct transport *t, uint8_t hi, uint8_t lo)
{
    const uint8_t cmd[] = {0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo};

    return xfer(t, cmd, sizeof(cmd), NULL, NULL);
}

/* COMPUTE DIGITAL SIGNATURE with the authentication key over a SHA-256
 * DigestInfo (of zeros: the card does not care). */
static int sign_auth(struct transport *t, size_t *siglen)
{
    uint8_t cmd[5 + 51 + 1] = {0x80, 0x2A, 0x00, 0x80, 51,
                               0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60,
                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                               0x01, 0x05, 0x00, 0x04, 0x20};
    uint8_t resp[300];
    int sw;

    sw = select_ef(t, 0x00, 0x17);
    if (sw != 0x9000)
        return sw;
    sw = xfer(t, cmd, sizeof(cmd), resp, siglen);
    if (siglen != NULL && *siglen >= 2)
        *siglen -= 2;
    return sw;
}

static int verify_auth(struct transport *t, const char *pin)
{
    uint8_t cmd[5 + 4] = {0x00, 0x20, 0x00, 0x80, 4};
    int sw;

    memcpy(cmd + 5, pin, 4);
    sw = select_ef(t, 0x00, 0x18);
    if (sw != 0x9000)
        return sw;
    return xfer(t, cmd, sizeof(cmd), NULL, NULL);
}

/* ---- The hub ---- */

/* The state of the test's reader; false if it is not listed. */
static bool find_reader(struct tp_hub *hub, struct tp_reader_state *out,
                        int *err_out)
{
    struct tp_reader_state rs[TP_READERS_MAX];
    size_t n = 0, i;
    int err;

    err = tp_hub_list(hub, rs, TP_READERS_MAX, &n);
    if (err_out != NULL)
        *err_out = err;
    if (err < 0)
        return false;
    for (i = 0; i < n; i++) {
        if (strcmp(rs[i].name, reader) == 0) {
            *out = rs[i];
            return true;
        }
    }
    return false;
}

/* List and wait until the reader shows (@present) a card or not, within
 * @ms.  The way the module is meant to use list() and wait(). */
static bool await_card(struct tp_hub *hub, bool present, int ms,
                       struct tp_reader_state *out)
{
    int64_t deadline = now_ms() + ms;
    struct tp_reader_state rs;

    for (;;) {
        int64_t left = deadline - now_ms();

        if (find_reader(hub, &rs, NULL) && rs.present == present) {
            if (out != NULL)
                *out = rs;
            return true;
        }
        if (left <= 0)
            return false;
        /* Back off a little if wait() returns at once (pcscd away). */
        if (tp_hub_wait(hub, (int)(left < 1000 ? left : 1000)) == 0)
            sleep_ms(20);
    }
}

struct waiter {
    struct tp_hub *hub;
    int timeout_ms;
    int result;
    int64_t took_ms;
    volatile bool done;
    pthread_t thread;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    int64_t t0 = now_ms();

    w->result = tp_hub_wait(w->hub, w->timeout_ms);
    w->took_ms = now_ms() - t0;
    w->done = true;
    return NULL;
}

static void waiter_start(struct waiter *w, struct tp_hub *hub, int ms)
{
    memset(w, 0, sizeof(*w));
    w->hub = hub;
    w->timeout_ms = ms;
    pthread_create(&w->thread, NULL, waiter_main, w);
    /* Let it reach pcscd before the event it waits for. */
    sleep_ms(300);
}

/* Join if it finishes within @ms; false if it is still blocked (then it
 * is left running: the process ends soon). */
static bool waiter_join(struct waiter *w, int ms)
{
    int64_t deadline = now_ms() + ms;

    while (!w->done && now_ms() < deadline)
        sleep_ms(10);
    if (!w->done)
        return false;
    pthread_join(w->thread, NULL);
    return true;
}

int main(void)
{
    struct tp_reader_state rs;
    struct tp_hub *hub = NULL;
    struct transport *t = NULL, *t2 = NULL, *tx = NULL;
    struct waiter w;
    uint8_t buf[64];
    size_t len = 0, siglen = 0;
    uint32_t ev_in, ev_out;
    int64_t t0;
    bool found;
    int err, sw;

    emu_path = env("MYNACARD_EMU");
    work = env("SYS_WORK");
    port = env("SYS_PORT");
    reader = env("SYS_READER");
    card_dir = env("SYS_CARD");
    pcscd_path = env("SYS_PCSCD");
    atexit(stop_children);
    signal(SIGPIPE, SIG_IGN);

    /* Created while pcscd runs, but the context comes only with list(). */
    if (!ok(tp_hub_pcsc_new(&hub) == 0 && hub != NULL, "tp_hub_pcsc_new")
        || !hub) {
        /* Nothing below can run without it (found by scan-build). */
        printf("Bail out! no hub\n");
        return 1;
    }

    /* ---- list ---- */
    memset(&rs, 0, sizeof(rs));
    found = find_reader(hub, &rs, &err);
    ok(found, "list shows '%s' (err %d)", reader, err);
    ok(rs.present, "the reader has a card");
    ev_in = rs.events;
    {
        struct tp_reader_state all[TP_READERS_MAX];
        size_t n = 0, i;
        bool pnp = false;

        tp_hub_list(hub, all, TP_READERS_MAX, &n);
        for (i = 0; i < n; i++) {
            note("reader '%s' present %d events 0x%08x", all[i].name,
                 all[i].present, all[i].events);
            if (strstr(all[i].name, "PnP") != NULL)
                pnp = true;
        }
        ok(n == 2 && !pnp, "list shows vpcd's two readers and no PnP "
           "pseudo-reader (%zu)", n);
        ok(tp_hub_list(hub, all, 1, &n) == 0 && n == 1,
           "list fills no more than the caller's room");
    }
    ok(find_reader(hub, &rs, NULL) && rs.events == ev_in,
       "the events counter stays while nothing happens");

    /* ---- connect ---- */
    err = tp_hub_connect(hub, "No Such Reader 00 00", &tx);
    ok(err == MYNA_E_NO_READER && tx == NULL, "connect to an unknown reader: "
       "MYNA_E_NO_READER (%d)", err);
    err = tp_hub_connect(hub, "Virtual PCD 00 01", &tx);
    ok(err == MYNA_E_NO_CARD && tx == NULL, "connect to the empty second "
       "slot: MYNA_E_NO_CARD (%d)", err);
    err = tp_hub_connect(hub, reader, &t);
    if (!ok(err == 0 && t != NULL, "connect to the card (%d)", err) || !t) {
        printf("Bail out! no connection\n");
        return 1;
    }
    {
        static const uint8_t want[] = {0x3B, 0xE0, 0x00, 0xFF, 0x81,
                                       0x31, 0xFE, 0x45, 0x14};

        err = tp_atr(t, buf, sizeof(buf), &len);
        ok(err == 0 && len == sizeof(want) && memcmp(buf, want, len) == 0,
           "atr() gives the virtual card's ATR (%d, %zu bytes)", err, len);
        err = tp_atr(t, buf, 4, &len);
        ok(err == MYNA_E_BUFFER_SMALL, "atr() into 4 bytes: "
           "MYNA_E_BUFFER_SMALL (%d)", err);
    }

    /* ---- begin, transmit, end ---- */
    err = tp_begin(t);
    ok(err == 0, "begin (%d)", err);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    ok(sw == 0x9000, "SELECT JPKI AP: 9000 (%04X)", (unsigned)sw);
    err = tp_transmit(t, select_jpki, sizeof(select_jpki), buf, 1, &len);
    ok(err == MYNA_E_BUFFER_SMALL, "transmit into 1 byte: "
       "MYNA_E_BUFFER_SMALL (%d)", err);
    ok(tp_end(t, false) == 0, "end");

    /* ---- a reset by another program ---- */
    ok(other_reset(), "another connection resets the card");
    err = tp_begin(t);
    ok(err == MYNA_E_CARD_RESET, "begin after it: MYNA_E_CARD_RESET (%d)",
       err);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    ok(sw == 0x9000, "then SELECT works on the new connection (%04X)",
       (unsigned)sw);
    err = tp_end(t, false);
    ok(err == 0, "and the transaction was open: end (%d)", err);
    err = tp_begin(t);
    ok(err == 0, "the next begin is quiet (%d)", err);
    tp_end(t, false);

    ok(other_reset(), "another reset");
    err = tp_transmit(t, select_jpki, sizeof(select_jpki), buf, sizeof(buf),
                      &len);
    ok(err == MYNA_E_CARD_RESET, "transmit outside a transaction: "
       "MYNA_E_CARD_RESET (%d)", err);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    ok(sw == 0x9000, "then transmit works (%04X)", (unsigned)sw);

    ok(other_reset(), "another reset, seen by atr() first");
    err = tp_atr(t, buf, sizeof(buf), &len);
    ok(err == 0, "atr() reconnects (%d)", err);
    err = tp_begin(t);
    ok(err == MYNA_E_CARD_RESET, "and the next begin still reports the "
       "reset (%d)", err);
    tp_end(t, false);

    /* ---- another program powers the card down and leaves ---- */
    ok(other_unpower(), "another program disconnects powering the card down");
    err = tp_begin(t);
    ok(err == MYNA_E_CARD_RESET, "begin after it: MYNA_E_CARD_RESET (%d)",
       err);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    if (sw == 0x6F00)
        sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    ok(sw == 0x9000, "the card was powered up again: SELECT 9000 (%04X)",
       (unsigned)sw);
    tp_end(t, false);

    /* ---- our own reset: end(t, true) ---- */
    err = tp_begin(t);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    ok(err == 0 && sw == 0x9000, "begin and SELECT (%d, %04X)", err,
       (unsigned)sw);
    sw = verify_auth(t, "1234");
    ok(sw == 0x9000, "VERIFY the authentication PIN (%04X)", (unsigned)sw);
    sw = sign_auth(t, &siglen);
    ok(sw == 0x9000 && siglen == 256, "sign with it (%04X, %zu bytes)",
       (unsigned)sw, siglen);
    err = tp_end(t, true);
    ok(err == 0, "end with a power-down (%d)", err);
    err = tp_begin(t);
    ok(err == 0, "begin after our own power-down is not MYNA_E_CARD_RESET "
       "(%d)", err);
    sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    if (sw == 0x6F00) {
        /* The first command after power came back (the strict card). */
        note("6F00 to the first command after the power-down: sent again");
        sw = xfer(t, select_jpki, sizeof(select_jpki), NULL, NULL);
    }
    sw = sw == 0x9000 ? sign_auth(t, NULL) : sw;
    ok(sw == 0x6982, "the power-down really dropped the PIN: sign says 6982 "
       "(%04X)", (unsigned)sw);
    tp_end(t, false);

    ok(find_reader(hub, &rs, NULL) && rs.present && rs.events == ev_in,
       "resets do not change the events counter (0x%08x)", rs.events);

    /* ---- wait: timeout and cancel ---- */
    t0 = now_ms();
    err = tp_hub_wait(hub, 300);
    t0 = now_ms() - t0;
    ok(err == MYNA_E_TIMEOUT && t0 >= 250, "wait(300) with nothing "
       "happening: MYNA_E_TIMEOUT after %lld ms (%d)", (long long)t0, err);
    waiter_start(&w, hub, -1);
    t0 = now_ms();
    tp_hub_cancel(hub);
    found = waiter_join(&w, 3000);
    ok(found && w.result == MYNA_E_CANCELLED && w.took_ms >= 250,
       "cancel() wakes a blocked wait(-1): MYNA_E_CANCELLED after %lld ms "
       "(%d; blocked %lld ms)", (long long)(now_ms() - t0), w.result,
       (long long)w.took_ms);
    err = tp_hub_wait(hub, 200);
    ok(err == MYNA_E_TIMEOUT, "a cancel does not stick to later waits (%d)",
       err);
    err = tp_hub_wait(hub, 0);
    ok(err == MYNA_E_TIMEOUT, "wait(0) polls: MYNA_E_TIMEOUT (%d)", err);

    /* ---- removal ---- */
    waiter_start(&w, hub, 15000);
    stop_foreign("SYS_EMU_PID");
    found = waiter_join(&w, 15000);
    ok(found && w.result == 0 && w.took_ms >= 250,
       "wait() blocks until the removal, then wakes (%lld ms, %d)",
       (long long)w.took_ms, w.result);
    ok(await_card(hub, false, 10000, &rs), "list shows no card");
    ev_out = rs.events;
    ok(ev_out != ev_in, "the events counter changed (0x%08x -> 0x%08x)",
       ev_in, ev_out);
    err = tp_begin(t);
    ok(err == MYNA_E_NO_CARD, "begin: MYNA_E_NO_CARD (%d)", err);
    err = tp_transmit(t, select_jpki, sizeof(select_jpki), buf, sizeof(buf),
                      &len);
    ok(err == MYNA_E_NO_CARD, "transmit: MYNA_E_NO_CARD (%d)", err);
    err = tp_hub_connect(hub, reader, &tx);
    ok(err == MYNA_E_NO_CARD, "connect: MYNA_E_NO_CARD (%d)", err);

    /* ---- insertion ---- */
    waiter_start(&w, hub, 20000);
    emu_start();
    found = waiter_join(&w, 20000);
    ok(found && w.result == 0 && w.took_ms >= 250,
       "wait() blocks until the insertion, then wakes (%lld ms, %d)",
       (long long)w.took_ms, w.result);
    ok(await_card(hub, true, 10000, &rs), "list shows the card again");
    ok(rs.events != ev_out && rs.events != ev_in,
       "with a new events counter (0x%08x)", rs.events);
    err = tp_begin(t);
    ok(err == MYNA_E_NO_CARD, "the old connection stays MYNA_E_NO_CARD (%d)",
       err);
    err = tp_hub_connect(hub, reader, &t2);
    ok(err == 0, "a new connection (%d)", err);
    if (t2 != NULL) {
        err = tp_begin(t2);
        sw = xfer(t2, select_jpki, sizeof(select_jpki), NULL, NULL);
        ok(err == 0 && sw == 0x9000, "works: SELECT 9000 (%d, %04X)", err,
           (unsigned)sw);
        tp_end(t2, false);
    }

    /* ---- a change between list() and wait() is not missed ---- */
    ok(find_reader(hub, &rs, NULL) && rs.present, "list: card present");
    stop_child(&emu_child);
    /* Give pcscd time to notice, before wait() is even called. */
    sleep_ms(1500);
    err = tp_hub_wait(hub, 0);
    ok(err == 0, "wait(0) polls: the removal since list() (%d)", err);
    t0 = now_ms();
    err = tp_hub_wait(hub, 5000);
    t0 = now_ms() - t0;
    ok(err == 0 && t0 < 500, "a removal before wait() makes wait() return "
       "at once (%d, %lld ms)", err, (long long)t0);
    ok(await_card(hub, false, 5000, &rs), "list: no card");
    emu_start();
    ok(await_card(hub, true, 20000, &rs), "card inserted again");
    ev_in = rs.events;
    tp_free(t2);
    t2 = NULL;
    err = tp_hub_connect(hub, reader, &t2);
    ok(err == 0, "connect (%d)", err);

    /* ---- pcscd restarts ---- */
    stop_foreign("SYS_PCSCD_PID");
    t0 = now_ms();
    do {
        err = tp_hub_list(hub, &rs, 1, &len);
    } while (err != MYNA_E_NO_SERVICE && now_ms() - t0 < 5000 &&
             (sleep_ms(50), true));
    ok(err == MYNA_E_NO_SERVICE, "without pcscd, list: MYNA_E_NO_SERVICE "
       "(%d)", err);
    if (t2 != NULL) {
        err = tp_begin(t2);
        ok(err == MYNA_E_NO_CARD, "a connection of the old pcscd: "
           "MYNA_E_NO_CARD (%d)", err);
    }
    err = tp_hub_connect(hub, reader, &tx);
    ok(err == MYNA_E_NO_SERVICE, "connect: MYNA_E_NO_SERVICE (%d)", err);
    waiter_start(&w, hub, 20000);
    pcscd_start();
    found = waiter_join(&w, 20000);
    ok(found && w.result == 0 && w.took_ms >= 250,
       "wait() blocks while pcscd is away, wakes when it returns "
       "(%lld ms, %d)", (long long)w.took_ms, w.result);
    ok(await_card(hub, true, 20000, &rs), "list recovers: the card is "
       "back (the virtual card reconnects to the new vpcd)");
    ok(rs.events != ev_in, "with another events counter (0x%08x -> 0x%08x)",
       ev_in, rs.events);
    err = tp_hub_connect(hub, reader, &tx);
    ok(err == 0, "connect through the new pcscd (%d)", err);
    if (tx != NULL) {
        err = tp_begin(tx);
        sw = xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL);
        ok(err == 0 && sw == 0x9000, "SELECT 9000 (%d, %04X)", err,
           (unsigned)sw);
        tp_end(tx, false);
    }

    /* ---- the virtual card's own faults, as PC/SC sees them ---- */
    tp_free(tx);
    tx = NULL;
    stop_child(&emu_child);
    ok(await_card(hub, false, 10000, &rs), "card out");
    emu_start_with("--reset-after", "2");
    ok(await_card(hub, true, 20000, &rs), "card in, with --reset-after 2");
    ev_in = rs.events;
    err = tp_hub_connect(hub, reader, &tx);
    ok(err == 0, "connect (%d)", err);
    if (tx != NULL) {
        int sw1, sw2;

        sw1 = xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL);
        sw2 = xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL);
        ok(sw1 == 0x9000 && sw2 == 0x9000, "two APDUs answered (%04X %04X)",
           (unsigned)sw1, (unsigned)sw2);
        sw = xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL);
        ok(sw < 0, "the third is not: the card resets (%d)", sw);
        /* mynacard-emu stays out 1.2 s so that pcscd sees it leave. */
        ok(await_card(hub, false, 5000, &rs), "PC/SC sees the card leave");
        ok(await_card(hub, true, 10000, &rs) && rs.events != ev_in,
           "and come back as a new card (0x%08x -> 0x%08x)", ev_in,
           rs.events);
        err = tp_begin(tx);
        ok(err == MYNA_E_NO_CARD, "the connection from before: "
           "MYNA_E_NO_CARD (%d)", err);
        tp_free(tx);
        tx = NULL;
    }
    err = tp_hub_connect(hub, reader, &tx);
    sw = err == 0 ? xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL)
                  : err;
    ok(sw == 0x9000, "a new connection works (%04X)", (unsigned)sw);
    tp_free(tx);
    tx = NULL;
    stop_child(&emu_child);
    ok(await_card(hub, false, 10000, &rs), "card out");

    emu_start_with("--remove-after", "1");
    ok(await_card(hub, true, 20000, &rs), "card in, with --remove-after 1");
    err = tp_hub_connect(hub, reader, &tx);
    sw = err == 0 ? xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL)
                  : err;
    ok(sw == 0x9000, "one APDU answered (%04X)", (unsigned)sw);
    sw = tx != NULL ? xfer(tx, select_jpki, sizeof(select_jpki), NULL, NULL)
                    : 0;
    ok(sw < 0, "the next is not: the card is removed (%d)", sw);
    ok(await_card(hub, false, 5000, &rs), "PC/SC sees no card");
    {
        int status = 0;
        pid_t got = waitpid(emu_child, &status, 0);

        ok(got == emu_child && WIFEXITED(status) && WEXITSTATUS(status) == 3,
           "mynacard-emu exits with status 3 (%d)",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        emu_child = -1;
    }
    /* No connection (already reported above) is a failure here too, not a
     * crash (found by scan-build). */
    err = tx != NULL ? tp_begin(tx) : 0;
    ok(err == MYNA_E_NO_CARD, "the connection: MYNA_E_NO_CARD (%d)", err);

    tp_free(tx);
    tp_free(t2);
    tp_free(t);
    tp_hub_free(hub);
    stop_children();
    printf("1..%d\n", tap_n);
    return tap_failed == 0 ? 0 : 1;
}
