/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * bench-cpu: the module's own CPU time for a warm CKM_RSA_PKCS signature,
 * the card excluded (issue 6).  The module's static library is driven
 * through C_GetFunctionList over the in-process callback transport (the
 * test hooks of module/mynacard-test.h).  Below the transport sits a
 * replaying card: during the warm-up every command goes to the virtual
 * card (tests/emu) and the answers to SELECT and COMPUTE DIGITAL SIGNATURE
 * are kept; in the measured loop a command on record (a SELECT, the same
 * signature: PKCS#1 v1.5 is deterministic) is answered from it at once, so that neither SoftHSM's RSA nor
 * the virtual card's parsing is in the figure.  VERIFY is never replayed.
 * The measured loop checks that every command of the warm signatures was
 * answered from the record.
 *
 *   bench-cpu [--card DIR] [--iterations N]
 *
 * Without --card it makes a card in a temporary directory (slow: SoftHSM
 * key generation).  Prints the mean CPU time of one warm signature
 * (CLOCK_PROCESS_CPUTIME_ID over N, C_SignInit + C_Sign), the APDUs one
 * signature sent, and exits 0 if every call succeeded.  For instruction
 * counts run it under
 *   valgrind --tool=callgrind --toggle-collect=measured_loop bench-cpu ...
 * and divide the Ir total by N.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "digest-info.h"
#include "emu.h"
#include "mynacard-test.h"
#include "transport.h"

#define REPLAY_MAX 16
#define CMD_MAX 300
#define RESP_MAX 300

struct replay_entry {
    uint8_t cmd[CMD_MAX];
    size_t cmdlen;
    uint8_t resp[RESP_MAX];
    size_t resplen;
};

struct replay {
    struct tp_card_cb inner;
    struct replay_entry e[REPLAY_MAX];
    unsigned n;
    bool armed;     /* answer from the record (only while measuring) */
    unsigned long forwarded, replayed;
};

static int replay_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                       uint8_t *resp, size_t cap, size_t *resplen)
{
    struct replay *r = ctx;
    bool keep;
    int err;

    /* Replaying a SELECT outside the measured loop would leave the
     * virtual card's selection behind the module's, and the next VERIFY
     * would go to the wrong PIN: record only, until armed. */
    for (unsigned i = 0; r->armed && i < r->n; i++) {
        struct replay_entry *e = &r->e[i];

        if (e->cmdlen == cmdlen && memcmp(e->cmd, cmd, cmdlen) == 0 &&
            e->resplen <= cap) {
            memcpy(resp, e->resp, e->resplen);
            *resplen = e->resplen;
            r->replayed++;
            return 0;
        }
    }
    r->forwarded++;
    err = r->inner.xfer(r->inner.ctx, cmd, cmdlen, resp, cap, resplen);
    /* SELECT and COMPUTE DIGITAL SIGNATURE that succeeded: answers that do
     * not depend on when they are asked.  Never a VERIFY. */
    keep = err == 0 && cmdlen >= 4 && cmdlen <= CMD_MAX &&
           *resplen >= 2 && *resplen <= RESP_MAX &&
           (cmd[1] == 0xA4 || cmd[1] == 0x2A) &&
           resp[*resplen - 2] == 0x90 && resp[*resplen - 1] == 0x00 &&
           r->n < REPLAY_MAX;
    if (keep) {
        struct replay_entry *e = &r->e[r->n++];

        memcpy(e->cmd, cmd, cmdlen);
        e->cmdlen = cmdlen;
        memcpy(e->resp, resp, *resplen);
        e->resplen = *resplen;
    }
    return err;
}

static CK_FUNCTION_LIST *f;
static unsigned long failures;

static bool sign_once(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
    CK_MECHANISM m = { CKM_RSA_PKCS, NULL, 0 };
    CK_BYTE sig[256];
    CK_ULONG siglen = sizeof(sig);

    if (f->C_SignInit(s, &m, k) != CKR_OK ||
        f->C_Sign(s, (CK_BYTE *)digest_info, sizeof(digest_info), sig,
                  &siglen) != CKR_OK || siglen != sizeof(sig)) {
        failures++;
        return false;
    }
    return true;
}

/* What callgrind's --toggle-collect names: the warm signatures only. */
__attribute__((noinline)) void measured_loop(CK_SESSION_HANDLE s,
                                             CK_OBJECT_HANDLE k,
                                             unsigned long n);
__attribute__((noinline)) void measured_loop(CK_SESSION_HANDLE s,
                                             CK_OBJECT_HANDLE k,
                                             unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        sign_once(s, k);
}

static double cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run(const char *dir, unsigned long iters)
{
    struct emu_card *card = NULL;
    struct tp_hub *hub = NULL;
    struct tp_card_cb cb;
    static struct replay rp;
    CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
    CK_SLOT_ID slots[8], auth = 0;
    CK_ULONG nslots = 8;
    CK_SESSION_HANDLE s = 0;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE k = 0;
    CK_ULONG nk = 0;
    bool found = false;
    unsigned long fwd0, rep0;
    double t0, t1;
    int rc = 1;

    if (emu_card_open(dir, NULL, &card) != 0)
        return 1;
    memset(&rp, 0, sizeof(rp));
    emu_card_callbacks(card, &rp.inner);
    cb = rp.inner;                      /* the ATR */
    cb.xfer = replay_xfer;
    cb.reset = emu_wrap_reset;
    cb.ctx = &rp;
    if (tp_hub_callback_new(1, &hub) != 0 ||
        tp_hub_callback_insert(hub, 0, &cb) != 0)
        goto out_card;
    mynacard_test_use_hub(hub);
    if (C_GetFunctionList(&f) != CKR_OK || f->C_Initialize(&args) != CKR_OK)
        goto out_hub;
    if (f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK)
        goto out_fini;
    for (CK_ULONG i = 0; i < nslots && !found; i++) {
        CK_TOKEN_INFO ti;

        if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            memmem(ti.label, sizeof(ti.label), "Authentication", 14)) {
            auth = slots[i];
            found = true;
        }
    }
    if (!found ||
        f->C_OpenSession(auth, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
        f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)"1234", 4) != CKR_OK ||
        f->C_FindObjectsInit(s, &tmpl, 1) != CKR_OK ||
        f->C_FindObjects(s, &k, 1, &nk) != CKR_OK ||
        f->C_FindObjectsFinal(s) != CKR_OK || nk != 1) {
        fprintf(stderr, "bench-cpu: cannot log in and find the key\n");
        goto out_fini;
    }
    /* Warm: the signature and the selects it needs are on record. */
    for (int i = 0; i < 3; i++)
        sign_once(s, k);
    fwd0 = rp.forwarded;
    rep0 = rp.replayed;
    rp.armed = true;

    t0 = cpu_ns();
    measured_loop(s, k, iters);
    t1 = cpu_ns();
    rp.armed = false;

    printf("iterations %lu\n", iters);
    printf("cpu-ns-per-signature %.0f\n", (t1 - t0) / (double)iters);
    printf("apdus-per-signature %.2f\n",
           (double)(rp.replayed - rep0 + rp.forwarded - fwd0) /
           (double)iters);
    printf("apdus-sent-to-the-virtual-card %lu\n", rp.forwarded - fwd0);
    printf("failures %lu\n", failures);
    rc = failures == 0 && rp.forwarded == fwd0 ? 0 : 1;
out_fini:
    f->C_Finalize(NULL);
out_hub:
    mynacard_test_use_hub(NULL);
    tp_hub_free(hub);
out_card:
    emu_card_close(card);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"card", required_argument, NULL, 'c'},
        {"iterations", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    char tmp[PATH_MAX] = "";
    unsigned long iters = 20000;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': dir = optarg; break;
        case 'n': iters = strtoul(optarg, NULL, 10); break;
        default:
            fputs("usage: bench-cpu [--card DIR] [--iterations N]\n", stderr);
            return 2;
        }
    }
    if (iters == 0)
        iters = 1;
    if (!dir) {
        struct emu_init_params p;
        const char *base = getenv("MYNACARD_TEST_TMP");

        snprintf(tmp, sizeof(tmp), "%s/bench-cpu-XXXXXX",
                 base && *base ? base : "/tmp");
        if (base && *base) {
            char cmd[PATH_MAX + 16];

            snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base);
            if (system(cmd) != 0)
                return 1;
        }
        if (!mkdtemp(tmp)) {
            perror("bench-cpu: mkdtemp");
            return 1;
        }
        rmdir(tmp);
        emu_init_params_default(&p);
        if (emu_card_init(tmp, &p) != 0)
            return 1;
        dir = tmp;
    }
    rc = run(dir, iters);
    if (tmp[0]) {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
