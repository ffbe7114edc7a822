/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * bench-p11: the scenarios of the performance benchmark (issue 6), run
 * against any PKCS#11 module loaded with dlopen(): ours or OpenSC's, on
 * the same virtual card behind the same pcscd.  A test tool; it knows
 * nothing of the module's insides and talks to it only through
 * C_GetFunctionList.  What the card saw comes from mynacard-emu's
 * --stats-file (APDUs and bytes each way), read just before and just after
 * the measured part of a scenario; the card rewrites that file before it
 * answers, so an answered APDU is always counted.
 *
 *   bench-p11 --module SO --scenario NAME [--stats FILE] [options]
 *
 * prints one line, "scenario=NAME apdus=N bytes_in=N bytes_out=N
 * wall_us=N per=N ops=N errors=N refused=N" (totals of the measured
 * part, which held `per` repetitions; refused: attributes whose length
 * query failed with an error other than invalid or sensitive), and exits 0 when every PKCS#11 call of the
 * scenario succeeded.  Scenarios (the numbers of issue 6):
 *   startup  1: C_Initialize, the slot list, slot and token information,
 *              a session per token, every object found and each of its
 *              attributes read (length, then value), random bytes when
 *              the token has CKF_RNG (NSS seeds itself from every such
 *              token), C_Finalize; all measured
 *   tls      2: startup, then C_Login with the authentication PIN and one
 *              CKM_RSA_PKCS signature of a SHA-256 DigestInfo
 *   pdf      3: C_Initialize, the slot list, token information, C_Login to
 *              the signature token, its certificate found by the key's
 *              CKA_ID and read, one CKM_SHA256_RSA_PKCS signature (with
 *              the CKU_CONTEXT_SPECIFIC login when the key has
 *              CKA_ALWAYS_AUTHENTICATE), C_Finalize
 *   warm     4: tls without C_Finalize (not measured), then --count more
 *              signatures (measured; the line gives the mean of one)
 *   poll     5: startup without C_Finalize (not measured), then --rounds
 *              rounds of C_GetSlotInfo and C_GetTokenInfo on every slot,
 *              --interval-ms apart (Firefox: 3000; the sleeps are not in
 *              wall_us, only the time inside the module)
 *   threads  6: both tokens logged in (not measured), then 8 threads, half
 *              on each token, each with its own session, --count
 *              signatures each, started together (measured)
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "digest-info.h"

#ifndef CKA_ALWAYS_AUTHENTICATE
#define CKA_ALWAYS_AUTHENTICATE 0x00000202UL
#endif
#ifndef CKU_CONTEXT_SPECIFIC
#define CKU_CONTEXT_SPECIFIC 2UL
#endif

#define MAX_SLOTS 32
#define MAX_OBJS 64
#define NTHREADS 8

struct counters {
    unsigned long apdus, in, out;
};

struct bench {
    CK_FUNCTION_LIST *f;
    const char *stats;
    const char *auth_pin, *sign_pin;
    const char *auth_label, *sign_label;   /* substrings of token labels */
    unsigned count, rounds, interval_ms;
    unsigned long errors;
    unsigned long ops;
    unsigned long refused;  /* attribute length queries answered with an
                             * error other than invalid or sensitive */
    CK_SLOT_ID slots[MAX_SLOTS];
    CK_ULONG nslots;
    CK_SESSION_HANDLE sess[MAX_SLOTS];     /* one per slot, 0: none */
    bool have_auth, have_sign;
    CK_SLOT_ID auth_slot, sign_slot;
};

/* ---- Measuring ---- */

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void read_stats(const struct bench *b, struct counters *c)
{
    char key[32];
    unsigned long v;
    FILE *fp;

    memset(c, 0, sizeof(*c));
    if (!b->stats)
        return;
    fp = fopen(b->stats, "r");
    if (!fp) {
        fprintf(stderr, "bench-p11: %s: %s\n", b->stats, strerror(errno));
        return;
    }
    while (fscanf(fp, "%31s %lu", key, &v) == 2) {
        if (strcmp(key, "apdus") == 0)
            c->apdus = v;
        else if (strcmp(key, "bytes-in") == 0)
            c->in = v;
        else if (strcmp(key, "bytes-out") == 0)
            c->out = v;
    }
    fclose(fp);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Count a call; a failure is reported and counted, not fatal. */
static bool ok(struct bench *b, CK_RV rv, const char *what)
{
    __atomic_add_fetch(&b->ops, 1, __ATOMIC_RELAXED);
    if (rv == CKR_OK)
        return true;
    __atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
    fprintf(stderr, "bench-p11: %s: 0x%lx\n", what, (unsigned long)rv);
    return false;
}

/* ---- Pieces of the scenarios ---- */

static bool initialize(struct bench *b)
{
    CK_C_INITIALIZE_ARGS args;

    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    return ok(b, b->f->C_Initialize(&args), "C_Initialize");
}

static void finalize(struct bench *b)
{
    ok(b, b->f->C_Finalize(NULL), "C_Finalize");
}

static bool label_has(const CK_UTF8CHAR *label, const char *needle)
{
    char buf[33];

    memcpy(buf, label, 32);
    buf[32] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The slot list, each slot's information, and the tokens' information;
 * finds the authentication and signature tokens by label. */
static bool slots_and_tokens(struct bench *b)
{
    CK_INFO info;
    CK_ULONG n = 0, i;

    ok(b, b->f->C_GetInfo(&info), "C_GetInfo");
    if (!ok(b, b->f->C_GetSlotList(CK_FALSE, NULL, &n), "C_GetSlotList"))
        return false;
    if (n > MAX_SLOTS)
        n = MAX_SLOTS;
    if (!ok(b, b->f->C_GetSlotList(CK_FALSE, b->slots, &n), "C_GetSlotList"))
        return false;
    b->nslots = n;
    b->have_auth = b->have_sign = false;
    for (i = 0; i < n; i++) {
        CK_SLOT_INFO si;
        CK_TOKEN_INFO ti;

        b->sess[i] = 0;
        if (!ok(b, b->f->C_GetSlotInfo(b->slots[i], &si), "C_GetSlotInfo"))
            continue;
        if (!(si.flags & CKF_TOKEN_PRESENT))
            continue;
        if (!ok(b, b->f->C_GetTokenInfo(b->slots[i], &ti), "C_GetTokenInfo"))
            continue;
        if (!b->have_auth && label_has(ti.label, b->auth_label)) {
            b->have_auth = true;
            b->auth_slot = b->slots[i];
        } else if (!b->have_sign && label_has(ti.label, b->sign_label)) {
            b->have_sign = true;
            b->sign_slot = b->slots[i];
        }
    }
    return true;
}

static CK_SESSION_HANDLE open_session(struct bench *b, CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s = 0;

    if (!ok(b, b->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s),
            "C_OpenSession"))
        return 0;
    return s;
}

/* Read @t of @o as NSS does: the length, then the value.  A sensitive or
 * absent attribute is an answer, not an error. */
static void read_attr(struct bench *b, CK_SESSION_HANDLE s,
                      CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
    CK_ATTRIBUTE a = { t, NULL, 0 };
    CK_RV rv;

    rv = b->f->C_GetAttributeValue(s, o, &a, 1);
    b->ops++;
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)
        return;
    if (rv != CKR_OK) {
        /* An answer all the same (OpenSC 0.23 says CKR_GENERAL_ERROR for
         * some attributes it does not have): counted apart, not a failure
         * of the scenario. */
        b->refused++;
        fprintf(stderr, "bench-p11: attribute 0x%lx of object %lu: 0x%lx\n",
                (unsigned long)t, (unsigned long)o, (unsigned long)rv);
        return;
    }
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0)
        return;
    a.pValue = malloc(a.ulValueLen);
    if (!a.pValue)
        return;
    ok(b, b->f->C_GetAttributeValue(s, o, &a, 1), "C_GetAttributeValue");
    free(a.pValue);
}

static const CK_ATTRIBUTE_TYPE common_attrs[] = {
    CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_ID, CKA_MODIFIABLE,
};
static const CK_ATTRIBUTE_TYPE cert_attrs[] = {
    CKA_CERTIFICATE_TYPE, CKA_VALUE, CKA_ISSUER, CKA_SERIAL_NUMBER,
    CKA_SUBJECT, CKA_TRUSTED, CKA_CERTIFICATE_CATEGORY,
};
static const CK_ATTRIBUTE_TYPE key_attrs[] = {
    CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_SIGN, CKA_VERIFY,
    CKA_DECRYPT, CKA_ENCRYPT, CKA_SIGN_RECOVER, CKA_ALWAYS_AUTHENTICATE,
    CKA_SENSITIVE, CKA_EXTRACTABLE,
};

static void read_object(struct bench *b, CK_SESSION_HANDLE s,
                        CK_OBJECT_HANDLE o)
{
    CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
    CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };
    size_t i;

    if (!ok(b, b->f->C_GetAttributeValue(s, o, &a, 1), "CKA_CLASS"))
        return;
    for (i = 0; i < sizeof(common_attrs) / sizeof(common_attrs[0]); i++)
        read_attr(b, s, o, common_attrs[i]);
    if (cls == CKO_CERTIFICATE) {
        for (i = 0; i < sizeof(cert_attrs) / sizeof(cert_attrs[0]); i++)
            read_attr(b, s, o, cert_attrs[i]);
    } else if (cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY) {
        for (i = 0; i < sizeof(key_attrs) / sizeof(key_attrs[0]); i++)
            read_attr(b, s, o, key_attrs[i]);
    }
}

/* Every object the session sees, and every attribute of each. */
static void read_all_objects(struct bench *b, CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE objs[MAX_OBJS];
    CK_ULONG n = 0, i;

    if (!ok(b, b->f->C_FindObjectsInit(s, NULL, 0), "C_FindObjectsInit"))
        return;
    ok(b, b->f->C_FindObjects(s, objs, MAX_OBJS, &n), "C_FindObjects");
    ok(b, b->f->C_FindObjectsFinal(s), "C_FindObjectsFinal");
    for (i = 0; i < n; i++)
        read_object(b, s, objs[i]);
}

/* Scenario 1 without C_Finalize: every token opened and read. */
static void startup(struct bench *b)
{
    CK_MECHANISM_TYPE mechs[64];
    CK_ULONG i;

    if (!initialize(b) || !slots_and_tokens(b))
        return;
    for (i = 0; i < b->nslots; i++) {
        CK_TOKEN_INFO ti;
        CK_ULONG nm = 64;

        if (b->f->C_GetTokenInfo(b->slots[i], &ti) != CKR_OK)
            continue;       /* no token: already seen above */
        b->ops++;
        ok(b, b->f->C_GetMechanismList(b->slots[i], mechs, &nm),
           "C_GetMechanismList");
        b->sess[i] = open_session(b, b->slots[i]);
        if (!b->sess[i])
            continue;
        if (ti.flags & CKF_RNG) {
            CK_BYTE rnd[32];

            ok(b, b->f->C_GenerateRandom(b->sess[i], rnd, sizeof(rnd)),
               "C_GenerateRandom");
        }
        read_all_objects(b, b->sess[i]);
    }
}

static CK_SESSION_HANDLE session_of(struct bench *b, CK_SLOT_ID slot)
{
    for (CK_ULONG i = 0; i < b->nslots; i++) {
        if (b->slots[i] == slot && b->sess[i])
            return b->sess[i];
    }
    return 0;
}

static bool login(struct bench *b, CK_SESSION_HANDLE s, CK_USER_TYPE who,
                  const char *pin)
{
    return ok(b, b->f->C_Login(s, who, (CK_UTF8CHAR *)pin,
                               (CK_ULONG)strlen(pin)), "C_Login");
}

/* The token's (first) private key, its CKA_ID and whether it always
 * authenticates. */
static CK_OBJECT_HANDLE find_key(struct bench *b, CK_SESSION_HANDLE s,
                                 CK_BYTE *id, CK_ULONG *idlen,
                                 bool *always)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE k = 0;
    CK_ULONG n = 0;
    CK_BBOOL aa = CK_FALSE;
    CK_ATTRIBUTE a[2] = { { CKA_ALWAYS_AUTHENTICATE, &aa, sizeof(aa) },
                          { CKA_ID, id, idlen ? *idlen : 0 } };

    if (!ok(b, b->f->C_FindObjectsInit(s, &tmpl, 1), "C_FindObjectsInit"))
        return 0;
    ok(b, b->f->C_FindObjects(s, &k, 1, &n), "C_FindObjects");
    ok(b, b->f->C_FindObjectsFinal(s), "C_FindObjectsFinal");
    if (n != 1) {
        ok(b, CKR_KEY_HANDLE_INVALID, "no private key");
        return 0;
    }
    if (b->f->C_GetAttributeValue(s, k, a, id ? 2 : 1) != CKR_OK)
        aa = CK_FALSE;  /* 2.20 modules may not know the attribute */
    b->ops++;
    if (idlen)
        *idlen = a[1].ulValueLen;
    *always = aa == CK_TRUE;
    return k;
}

/* One signature: C_SignInit, the context login if needed, C_Sign. */
static bool sign_once(struct bench *b, CK_SESSION_HANDLE s,
                      CK_OBJECT_HANDLE k, CK_MECHANISM_TYPE mech,
                      bool always, const char *pin,
                      const CK_BYTE *data, CK_ULONG len)
{
    CK_MECHANISM m = { mech, NULL, 0 };
    CK_BYTE sig[512];
    CK_ULONG siglen = sizeof(sig);

    if (!ok(b, b->f->C_SignInit(s, &m, k), "C_SignInit"))
        return false;
    if (always && !login(b, s, CKU_CONTEXT_SPECIFIC, pin)) {
        /* End the operation (C_Sign with no buffer would not). */
        b->f->C_Sign(s, (CK_BYTE *)data, len, sig, &siglen);
        return false;
    }
    return ok(b, b->f->C_Sign(s, (CK_BYTE *)data, len, sig, &siglen),
              "C_Sign");
}

/* ---- The scenarios ---- */

static void sc_tls_until_signed(struct bench *b, CK_SESSION_HANDLE *sp,
                                CK_OBJECT_HANDLE *kp, bool *alwaysp)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE k;
    bool always = false;

    *kp = 0;
    startup(b);
    if (!b->have_auth) {
        ok(b, CKR_TOKEN_NOT_PRESENT, "no authentication token");
        return;
    }
    s = session_of(b, b->auth_slot);
    if (!s || !login(b, s, CKU_USER, b->auth_pin))
        return;
    k = find_key(b, s, NULL, NULL, &always);
    if (!k)
        return;
    sign_once(b, s, k, CKM_RSA_PKCS, always, b->auth_pin, digest_info,
              sizeof(digest_info));
    *sp = s;
    *kp = k;
    *alwaysp = always;
}

static void sc_pdf(struct bench *b)
{
    static CK_BYTE signed_attrs[1024];  /* a PDF's signed attributes */
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_BYTE id[64];
    CK_ULONG idlen = sizeof(id), n = 0;
    CK_OBJECT_HANDLE k, cert = 0;
    CK_SESSION_HANDLE s;
    bool always = false;

    if (!initialize(b) || !slots_and_tokens(b))
        goto out;
    if (!b->have_sign) {
        ok(b, CKR_TOKEN_NOT_PRESENT, "no signature token");
        goto out;
    }
    s = open_session(b, b->sign_slot);
    if (!s || !login(b, s, CKU_USER, b->sign_pin))
        goto out;
    k = find_key(b, s, id, &idlen, &always);
    if (!k)
        goto out;
    {
        CK_ATTRIBUTE tmpl[2] = { { CKA_CLASS, &cls, sizeof(cls) },
                                 { CKA_ID, id, idlen } };

        if (ok(b, b->f->C_FindObjectsInit(s, tmpl, 2), "C_FindObjectsInit")) {
            ok(b, b->f->C_FindObjects(s, &cert, 1, &n), "C_FindObjects");
            ok(b, b->f->C_FindObjectsFinal(s), "C_FindObjectsFinal");
        }
    }
    if (n != 1)
        ok(b, CKR_OBJECT_HANDLE_INVALID, "no signature certificate");
    else
        read_attr(b, s, cert, CKA_VALUE);
    sign_once(b, s, k, CKM_SHA256_RSA_PKCS, always, b->sign_pin,
              signed_attrs, sizeof(signed_attrs));
out:
    finalize(b);
}

struct worker {
    struct bench *b;
    pthread_barrier_t *go;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE k;
    bool always;
    const char *pin;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    pthread_barrier_wait(w->go);
    for (unsigned i = 0; i < w->b->count; i++)
        sign_once(w->b, w->s, w->k, CKM_RSA_PKCS, w->always, w->pin,
                  digest_info, sizeof(digest_info));
    return NULL;
}

/* Scenario 6, up to the start: both tokens logged in, a session and the
 * key for each worker. */
static bool threads_prepare(struct bench *b, struct worker *w,
                            pthread_barrier_t *go)
{
    CK_SESSION_HANDLE s0[2];

    if (!initialize(b) || !slots_and_tokens(b))
        return false;
    if (!b->have_auth || !b->have_sign) {
        ok(b, CKR_TOKEN_NOT_PRESENT, "both tokens needed");
        return false;
    }
    s0[0] = open_session(b, b->auth_slot);
    s0[1] = open_session(b, b->sign_slot);
    if (!s0[0] || !s0[1] || !login(b, s0[0], CKU_USER, b->auth_pin) ||
        !login(b, s0[1], CKU_USER, b->sign_pin))
        return false;
    for (int i = 0; i < NTHREADS; i++) {
        bool sign = i % 2;

        w[i].b = b;
        w[i].go = go;
        w[i].pin = sign ? b->sign_pin : b->auth_pin;
        w[i].s = open_session(b, sign ? b->sign_slot : b->auth_slot);
        if (!w[i].s)
            return false;
        w[i].k = find_key(b, w[i].s, NULL, NULL, &w[i].always);
        if (!w[i].k)
            return false;
    }
    return true;
}

static void usage(void)
{
    fputs("usage: bench-p11 --module SO --scenario "
          "startup|tls|pdf|warm|poll|threads\n"
          "  [--stats FILE] [--auth-pin P] [--sign-pin P]\n"
          "  [--auth-label S] [--sign-label S] [--count N] [--rounds N]\n"
          "  [--interval-ms N]\n", stderr);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"module", required_argument, NULL, 'm'},
        {"scenario", required_argument, NULL, 's'},
        {"stats", required_argument, NULL, 'S'},
        {"auth-pin", required_argument, NULL, 'a'},
        {"sign-pin", required_argument, NULL, 'p'},
        {"auth-label", required_argument, NULL, 'A'},
        {"sign-label", required_argument, NULL, 'P'},
        {"count", required_argument, NULL, 'c'},
        {"rounds", required_argument, NULL, 'r'},
        {"interval-ms", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    struct bench b = {
        .auth_pin = "1234", .sign_pin = "ABC123",
        .auth_label = "Authentication", .sign_label = "Signature",
        .count = 1, .rounds = 20, .interval_ms = 30,
    };
    const char *module = NULL, *scenario = NULL;
    CK_RV (*get_list)(CK_FUNCTION_LIST **);
    struct counters c0, c1;
    uint64_t t0 = 0, t1 = 0, inside = 0;
    unsigned long per = 1;
    void *dl;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': module = optarg; break;
        case 's': scenario = optarg; break;
        case 'S': b.stats = optarg; break;
        case 'a': b.auth_pin = optarg; break;
        case 'p': b.sign_pin = optarg; break;
        case 'A': b.auth_label = optarg; break;
        case 'P': b.sign_label = optarg; break;
        case 'c': b.count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r': b.rounds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'i': b.interval_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage(); return 2;
        }
    }
    if (!module || !scenario || b.count == 0) {
        usage();
        return 2;
    }
    dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "bench-p11: %s\n", dlerror());
        return 1;
    }
    *(void **)&get_list = dlsym(dl, "C_GetFunctionList");
    if (!get_list || get_list(&b.f) != CKR_OK) {
        fprintf(stderr, "bench-p11: %s: no C_GetFunctionList\n", module);
        return 1;
    }

    if (strcmp(scenario, "startup") == 0) {
        read_stats(&b, &c0);
        t0 = now_us();
        startup(&b);
        finalize(&b);
        t1 = now_us();
        read_stats(&b, &c1);
    } else if (strcmp(scenario, "tls") == 0) {
        CK_SESSION_HANDLE s;
        CK_OBJECT_HANDLE k;
        bool always;

        read_stats(&b, &c0);
        t0 = now_us();
        sc_tls_until_signed(&b, &s, &k, &always);
        finalize(&b);
        t1 = now_us();
        read_stats(&b, &c1);
    } else if (strcmp(scenario, "pdf") == 0) {
        read_stats(&b, &c0);
        t0 = now_us();
        sc_pdf(&b);
        t1 = now_us();
        read_stats(&b, &c1);
    } else if (strcmp(scenario, "warm") == 0) {
        CK_SESSION_HANDLE s = 0;
        CK_OBJECT_HANDLE k = 0;
        bool always = false;

        sc_tls_until_signed(&b, &s, &k, &always);
        read_stats(&b, &c0);
        t0 = now_us();
        for (unsigned i = 0; k && i < b.count; i++)
            sign_once(&b, s, k, CKM_RSA_PKCS, always, b.auth_pin,
                      digest_info, sizeof(digest_info));
        t1 = now_us();
        read_stats(&b, &c1);
        if (!k)
            ok(&b, CKR_GENERAL_ERROR, "the first signature failed");
        finalize(&b);
        per = b.count;
    } else if (strcmp(scenario, "poll") == 0) {
        startup(&b);
        read_stats(&b, &c0);
        for (unsigned r = 0; r < b.rounds; r++) {
            uint64_t a = now_us();

            for (CK_ULONG i = 0; i < b.nslots; i++) {
                CK_SLOT_INFO si;
                CK_TOKEN_INFO ti;

                if (!ok(&b, b.f->C_GetSlotInfo(b.slots[i], &si),
                        "C_GetSlotInfo"))
                    continue;
                if (si.flags & CKF_TOKEN_PRESENT)
                    ok(&b, b.f->C_GetTokenInfo(b.slots[i], &ti),
                       "C_GetTokenInfo");
            }
            inside += now_us() - a;
            if (r + 1 < b.rounds)
                sleep_ms(b.interval_ms);
        }
        read_stats(&b, &c1);
        finalize(&b);
        t1 = inside;
    } else if (strcmp(scenario, "threads") == 0) {
        struct worker w[NTHREADS];
        pthread_t th[NTHREADS];
        pthread_barrier_t go;
        bool ready;

        memset(w, 0, sizeof(w));
        pthread_barrier_init(&go, NULL, NTHREADS + 1);
        ready = threads_prepare(&b, w, &go);
        if (ready) {
            for (int i = 0; i < NTHREADS; i++)
                pthread_create(&th[i], NULL, worker_main, &w[i]);
            read_stats(&b, &c0);
            t0 = now_us();
            pthread_barrier_wait(&go);
            for (int i = 0; i < NTHREADS; i++)
                pthread_join(th[i], NULL);
            t1 = now_us();
            read_stats(&b, &c1);
        } else {
            read_stats(&b, &c0);
            c1 = c0;
        }
        pthread_barrier_destroy(&go);
        finalize(&b);
    } else {
        usage();
        return 2;
    }

    /* Totals of the measured part, and how many repetitions it held
     * (warm: --count signatures; the report divides). */
    printf("scenario=%s apdus=%lu bytes_in=%lu bytes_out=%lu wall_us=%llu "
           "per=%lu ops=%lu errors=%lu refused=%lu\n", scenario,
           c1.apdus - c0.apdus, c1.in - c0.in, c1.out - c0.out,
           (unsigned long long)(t1 - t0), per, b.ops, b.errors, b.refused);
    /* The module stays loaded: some modules' atexit handlers need it. */
    return b.errors ? 1 : 0;
}
