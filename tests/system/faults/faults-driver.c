/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * faults-driver: an application of the fault system tests.  It dlopen()s
 * a PKCS#11 module (one of ours) as Firefox or LibreOffice would, and runs
 * one scenario through C_GetFunctionList on the token of one role, over a
 * real pcscd and the virtual card that the calling script (test-*.sh in
 * this directory, through tests/system/lib.sh) breaks in some way: removed,
 * reset, slowed down, answering in 1-byte chunks, corrupted, pcscd
 * restarted, another program in the middle.  Every signature C_Sign
 * returns with CKR_OK is checked with OpenSSL against the token's own
 * certificate, so that "nothing wrong returned as right" is measured here.
 *
 * Output: TAP comments ("# ...") for people, and lines the script parses:
 *
 *   RESULT stage=STAGE rv=CKR_NAME sig=ok|bad|none
 *   SUMMARY ok=N bad=N err=N ok_after_mark=N logins=N
 *
 * STAGE is where the scenario stopped (done when it went through).  A
 * signature returned with CKR_OK that does not verify prints sig=bad and
 * makes the exit status 3; a hung wait ends with status 4.  Otherwise the
 * exit status is 0: the script judges the CKRs.
 *
 *   faults-driver MODULE login-sign ROLE PIN
 *       C_Initialize, find the token, open a session, C_Login, C_Sign (with
 *       the context-specific login the signature key asks for), C_Logout,
 *       C_CloseSession, C_Finalize.
 *   faults-driver MODULE pause-sign ROLE PIN PAUSEFILE GOFILE
 *       Log in, create PAUSEFILE, wait for GOFILE, sign (RESULT); then, if
 *       that failed, log in again and sign (a second RESULT).  Finalizes
 *       without C_Logout.
 *   faults-driver MODULE sign-loop ROLE PIN STOPFILE MARKFILE
 *       Until STOPFILE exists: (re)open a session and log in when there is
 *       none, sign, close the session on any error; 200 ms between tries.  ok_after_mark counts the good signatures made after
 *       MARKFILE appeared.
 *   faults-driver MODULE concurrent ROLE PIN N BARRIER NAME
 *       Log in, create BARRIER/NAME.ready and wait for another .ready file,
 *       sign N times, create BARRIER/NAME.done and wait for another .done,
 *       then C_Finalize (no C_Logout): two of these on the two tokens of
 *       one card each keep their own login while the other signs.
 *
 *   faults-driver MODULE login-twice ROLE PIN
 *       C_Login with PIN, and if the card rejected it, C_Login with the same
 *       PIN again (a RESULT for each): the module must refuse the second
 *       one without sending it.
 *   faults-driver MODULE close-wait ROLE PIN PAUSEFILE GOFILE
 *       Log in, sign, close the last session, create PAUSEFILE and wait for
 *       GOFILE before C_Finalize: meanwhile no PIN may be verified on the
 *       card.
 *
 * ROLE is auth (the token whose PIN is 4 digits) or sign.  Layer: test
 * code; calls the module through dlopen() and OpenSSL only.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#define WAIT_MAX_S 180

static CK_FUNCTION_LIST *f;
static bool want_auth;
static const char *pin;
static int exit_status;

struct ctx {
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    X509 *cert;
    bool always_auth;
    unsigned logins;            /* C_Login(CKU_USER) calls made */
};

static const char *rv_name(CK_RV rv)
{
    switch (rv) {
#define N(x) case x: return #x
    N(CKR_OK); N(CKR_HOST_MEMORY); N(CKR_SLOT_ID_INVALID);
    N(CKR_GENERAL_ERROR); N(CKR_FUNCTION_FAILED); N(CKR_ARGUMENTS_BAD);
    N(CKR_CANT_LOCK); N(CKR_DEVICE_ERROR); N(CKR_DEVICE_MEMORY);
    N(CKR_DEVICE_REMOVED); N(CKR_FUNCTION_CANCELED);
    N(CKR_KEY_HANDLE_INVALID); N(CKR_MECHANISM_INVALID);
    N(CKR_OBJECT_HANDLE_INVALID); N(CKR_OPERATION_ACTIVE);
    N(CKR_OPERATION_NOT_INITIALIZED); N(CKR_PIN_INCORRECT);
    N(CKR_PIN_INVALID); N(CKR_PIN_LEN_RANGE); N(CKR_PIN_LOCKED);
    N(CKR_SESSION_CLOSED); N(CKR_SESSION_HANDLE_INVALID);
    N(CKR_TOKEN_NOT_PRESENT); N(CKR_TOKEN_NOT_RECOGNIZED);
    N(CKR_USER_ALREADY_LOGGED_IN); N(CKR_USER_NOT_LOGGED_IN);
    N(CKR_USER_PIN_NOT_INITIALIZED); N(CKR_BUFFER_TOO_SMALL);
    N(CKR_CRYPTOKI_NOT_INITIALIZED); N(CKR_CRYPTOKI_ALREADY_INITIALIZED);
    N(CKR_DATA_LEN_RANGE); N(CKR_SESSION_COUNT);
#undef N
    default: return "CKR_UNKNOWN";
    }
}

static void result(const char *stage, CK_RV rv, const char *sig)
{
    printf("RESULT stage=%s rv=%s sig=%s\n", stage, rv_name(rv), sig);
    if (strcmp(rv_name(rv), "CKR_UNKNOWN") == 0)
        printf("# unknown CK_RV 0x%lx\n", (unsigned long)rv);
    fflush(stdout);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void touch(const char *path)
{
    FILE *fp = fopen(path, "w");

    if (fp)
        fclose(fp);
}

/* Wait until @path exists; exit 4 after WAIT_MAX_S. */
static void wait_for(const char *path)
{
    for (int i = 0; i < WAIT_MAX_S * 10; i++) {
        if (exists(path))
            return;
        sleep_ms(100);
    }
    printf("# waited %d s for %s\n", WAIT_MAX_S, path);
    exit(4);
}

/* Wait until @dir holds @n files ending in @suffix. */
static void wait_files(const char *dir, const char *suffix, int n)
{
    size_t sl = strlen(suffix);

    for (int i = 0; i < WAIT_MAX_S * 10; i++) {
        struct dirent *de;
        int count = 0;
        DIR *d = opendir(dir);

        if (d) {
            while ((de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);

                if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0)
                    count++;
            }
            closedir(d);
        }
        if (count >= n)
            return;
        sleep_ms(100);
    }
    printf("# waited %d s for %d %s files in %s\n", WAIT_MAX_S, n, suffix,
           dir);
    exit(4);
}

/* The token of the wanted role: its PIN is 4 digits (auth) or longer. */
static CK_RV find_slot(CK_SLOT_ID *out)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_TOKEN_INFO ti;
    CK_RV rv;

    rv = f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        return rv;
    for (CK_ULONG i = 0; i < n; i++) {
        if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        if ((ti.ulMaxPinLen == 4) == want_auth) {
            *out = slots[i];
            return CKR_OK;
        }
    }
    return CKR_TOKEN_NOT_PRESENT;
}

static CK_RV find_one(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG nt,
                      CK_OBJECT_HANDLE *o)
{
    CK_ULONG n = 0;
    CK_RV rv;

    rv = f->C_FindObjectsInit(s, t, nt);
    if (rv != CKR_OK)
        return rv;
    rv = f->C_FindObjects(s, o, 1, &n);
    f->C_FindObjectsFinal(s);
    if (rv == CKR_OK && n != 1) {
        /* Not the module's answer: ours, for "no such object". */
        printf("# %lu objects found where one was expected\n",
               (unsigned long)n);
        rv = CKR_KEY_HANDLE_INVALID;
    }
    return rv;
}

/* The private key, whether it asks for a context-specific login, and the
 * certificate with its CKA_ID (logged in: the signature certificate shows
 * only then). */
static CK_RV find_key(struct ctx *c)
{
    CK_OBJECT_CLASS kcls = CKO_PRIVATE_KEY, ccls = CKO_CERTIFICATE;
    CK_ATTRIBUTE kt = { CKA_CLASS, &kcls, sizeof(kcls) };
    unsigned char id[64], *der;
    CK_BBOOL always = CK_FALSE;
    CK_ATTRIBUTE ka[2] = {
        { CKA_ID, id, sizeof(id) },
        { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) },
    };
    CK_ATTRIBUTE ct[2] = {
        { CKA_CLASS, &ccls, sizeof(ccls) },
        { CKA_ID, id, 0 },
    };
    CK_ATTRIBUTE val = { CKA_VALUE, NULL, 0 };
    CK_OBJECT_HANDLE co;
    const unsigned char *p;
    CK_RV rv;

    rv = find_one(c->s, &kt, 1, &c->key);
    if (rv == CKR_OK)
        rv = f->C_GetAttributeValue(c->s, c->key, ka, 2);
    if (rv != CKR_OK)
        return rv;
    c->always_auth = always == CK_TRUE;
    ct[1].ulValueLen = ka[0].ulValueLen;
    rv = find_one(c->s, ct, 2, &co);
    if (rv == CKR_OK)
        rv = f->C_GetAttributeValue(c->s, co, &val, 1);
    if (rv != CKR_OK)
        return rv;
    der = malloc(val.ulValueLen ? val.ulValueLen : 1);
    if (!der)
        return CKR_HOST_MEMORY;
    val.pValue = der;
    rv = f->C_GetAttributeValue(c->s, co, &val, 1);
    if (rv == CKR_OK) {
        p = der;
        X509_free(c->cert);
        c->cert = d2i_X509(NULL, &p, (long)val.ulValueLen);
        if (!c->cert)
            rv = CKR_GENERAL_ERROR;
    }
    free(der);
    return rv;
}

static bool sig_verifies(X509 *cert, const unsigned char *msg, size_t len,
                         const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok;

    ok = md && cert &&
         EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
                              X509_get0_pubkey(cert)) == 1 &&
         EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Open a session on the role's token and log in.  @stage says where it
 * failed. */
static CK_RV open_login(struct ctx *c, const char **stage)
{
    CK_RV rv;

    *stage = "slots";
    rv = find_slot(&c->slot);
    if (rv != CKR_OK)
        return rv;
    *stage = "session";
    rv = f->C_OpenSession(c->slot, CKF_SERIAL_SESSION, NULL, NULL, &c->s);
    if (rv != CKR_OK) {
        c->s = CK_INVALID_HANDLE;
        return rv;
    }
    *stage = "login";
    c->logins++;
    rv = f->C_Login(c->s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    if (rv != CKR_OK)
        return rv;
    *stage = "key";
    return find_key(c);
}

/* One signature of a fresh message; *@sig says how it went. */
static CK_RV sign(struct ctx *c, const char **stage, const char **sig)
{
    static unsigned counter;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char msg[64], out[512];
    CK_ULONG outlen = sizeof(out);
    int len;
    CK_RV rv;

    *sig = "none";
    len = snprintf((char *)msg, sizeof(msg), "faults %u %ld", counter++,
                   (long)time(NULL));
    *stage = "signinit";
    rv = f->C_SignInit(c->s, &mech, c->key);
    if (rv != CKR_OK)
        return rv;
    if (c->always_auth) {
        *stage = "ctxlogin";
        rv = f->C_Login(c->s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)pin,
                        strlen(pin));
        if (rv != CKR_OK) {
            /* End the operation, as an application would. */
            f->C_Sign(c->s, msg, (CK_ULONG)len, NULL, &outlen);
            return rv;
        }
    }
    *stage = "sign";
    rv = f->C_Sign(c->s, msg, (CK_ULONG)len, out, &outlen);
    if (rv == CKR_OK) {
        if (sig_verifies(c->cert, msg, (size_t)len, out, outlen)) {
            *sig = "ok";
        } else {
            *sig = "bad";
            exit_status = 3;
        }
    }
    return rv;
}

/* Open a session, log in and sign once: what an application does. */
static CK_RV login_sign(struct ctx *c, const char **stage, const char **sig)
{
    CK_RV rv = open_login(c, stage);

    if (rv == CKR_OK)
        rv = sign(c, stage, sig);
    return rv;
}

/* The end of a command: the signature certificate it read is freed. */
static int done(struct ctx *c)
{
    X509_free(c->cert);
    return 0;
}

static int cmd_login_sign(void)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    const char *stage, *sig = "none";
    CK_RV rv;

    rv = login_sign(&c, &stage, &sig);
    if (rv == CKR_OK) {
        stage = "logout";
        rv = f->C_Logout(c.s);
    }
    if (rv == CKR_OK) {
        stage = "close";
        rv = f->C_CloseSession(c.s);
        c.s = CK_INVALID_HANDLE;
    }
    if (rv == CKR_OK)
        stage = "done";
    result(stage, rv, sig);
    return done(&c);
}

static int cmd_pause_sign(const char *pause, const char *go)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    const char *stage, *sig = "none";
    CK_RV rv;

    rv = open_login(&c, &stage);
    touch(pause);
    if (rv != CKR_OK) {
        result(stage, rv, sig);
        return 0;
    }
    wait_for(go);
    rv = sign(&c, &stage, &sig);
    result(rv == CKR_OK ? "done" : stage, rv, sig);
    if (rv != CKR_OK) {
        /* What the application does next: ask for the PIN again. */
        if (rv == CKR_USER_NOT_LOGGED_IN) {
            stage = "login";
            rv = f->C_Login(c.s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
            if (rv == CKR_OK)
                rv = sign(&c, &stage, &sig);
        } else {
            f->C_CloseAllSessions(c.slot);
            rv = login_sign(&c, &stage, &sig);
        }
        result(rv == CKR_OK ? "done" : stage, rv, sig);
    }
    return done(&c);
}

static int cmd_sign_loop(const char *stop, const char *mark)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    unsigned ok = 0, bad = 0, err = 0, after = 0, i = 0;
    const char *stage, *sig;
    CK_RV rv;

    while (!exists(stop)) {
        i++;
        if (c.s == CK_INVALID_HANDLE) {
            rv = open_login(&c, &stage);
            if (rv != CKR_OK) {
                printf("# %u: %s: %s\n", i, stage, rv_name(rv));
                err++;
                if (c.s != CK_INVALID_HANDLE)
                    f->C_CloseSession(c.s);
                c.s = CK_INVALID_HANDLE;
                sleep_ms(200);
                continue;
            }
        }
        rv = sign(&c, &stage, &sig);
        if (rv == CKR_OK && sig[0] == 'o') {
            ok++;
            if (exists(mark))
                after++;
        } else if (rv == CKR_OK) {
            bad++;
            printf("# %u: a signature that does not verify\n", i);
        } else {
            err++;
            printf("# %u: %s: %s\n", i, stage, rv_name(rv));
            f->C_CloseSession(c.s);
            c.s = CK_INVALID_HANDLE;
        }
        fflush(stdout);
        /* A pause between signatures, as a person makes: back to back,
         * the loop would hold the card so that another program's
         * transaction waits long. */
        sleep_ms(200);
    }
    printf("SUMMARY ok=%u bad=%u err=%u ok_after_mark=%u logins=%u\n", ok,
           bad, err, after, c.logins);
    return done(&c);
}

static int cmd_concurrent(unsigned n, const char *dir, const char *name)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    unsigned ok = 0, bad = 0, err = 0;
    const char *stage, *sig;
    char path[4096];
    CK_RV rv;

    rv = open_login(&c, &stage);
    snprintf(path, sizeof(path), "%s/%s.ready", dir, name);
    touch(path);
    if (rv != CKR_OK) {
        result(stage, rv, "none");
        return 0;
    }
    /* Both logged in before either signs. */
    wait_files(dir, ".ready", 2);
    for (unsigned i = 0; i < n; i++) {
        rv = sign(&c, &stage, &sig);
        if (rv == CKR_OK && sig[0] == 'o') {
            ok++;
        } else if (rv == CKR_OK) {
            bad++;
        } else {
            err++;
            printf("# %s %u: %s: %s\n", name, i, stage, rv_name(rv));
        }
        /* Let the other program in: PC/SC gives a transaction freed and
         * asked for again at once to the same program, and a program
         * refused a transaction asks again only every 100 ms (pcsc-lite
         * 1.9.9's PCSCLITE_LOCK_POLL_RATE).  A pause of three of those
         * lets the other's next try land in it even on a loaded machine;
         * 100 ms did not (seen under the sanitizer run: SSSSSSAAAA...). */
        sleep_ms(300);
    }
    snprintf(path, sizeof(path), "%s/%s.done", dir, name);
    touch(path);
    /* Neither leaves (C_Finalize resets the card) while the other signs. */
    wait_files(dir, ".done", 2);
    printf("SUMMARY ok=%u bad=%u err=%u ok_after_mark=0 logins=%u\n", ok, bad,
           err, c.logins);
    return done(&c);
}

static int cmd_login_twice(void)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    const char *stage;
    CK_RV rv;

    rv = open_login(&c, &stage);
    result(stage, rv, "none");
    if (rv == CKR_PIN_INCORRECT) {
        rv = f->C_Login(c.s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
        result("login", rv, "none");
    }
    return done(&c);
}

static int cmd_close_wait(const char *pause, const char *go)
{
    struct ctx c = { .s = CK_INVALID_HANDLE };
    const char *stage, *sig = "none";
    CK_RV rv;

    rv = login_sign(&c, &stage, &sig);
    if (rv == CKR_OK) {
        stage = "close";
        rv = f->C_CloseSession(c.s);
    }
    result(rv == CKR_OK ? "done" : stage, rv, sig);
    touch(pause);
    wait_for(go);
    return done(&c);
}

int main(int argc, char **argv)
{
    CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
    const char *cmd;
    void *dl;
    int rc = 2;
    CK_RV rv;

    if (argc < 5) {
        fprintf(stderr, "usage: faults-driver MODULE COMMAND ROLE PIN ...\n"
                "(see the comment at the top of faults-driver.c)\n");
        return 2;
    }
    cmd = argv[2];
    want_auth = strcmp(argv[3], "auth") == 0;
    pin = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);

    dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "faults-driver: %s\n", dlerror());
        return 2;
    }
    get_list = (CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl,
                                                          "C_GetFunctionList");
    if (!get_list || get_list(&f) != CKR_OK) {
        fprintf(stderr, "faults-driver: no C_GetFunctionList\n");
        return 2;
    }
    rv = f->C_Initialize(NULL);
    if (rv != CKR_OK) {
        result("init", rv, "none");
        return 0;
    }

    if (!strcmp(cmd, "login-sign"))
        rc = cmd_login_sign();
    else if (!strcmp(cmd, "pause-sign") && argc == 7)
        rc = cmd_pause_sign(argv[5], argv[6]);
    else if (!strcmp(cmd, "sign-loop") && argc == 7)
        rc = cmd_sign_loop(argv[5], argv[6]);
    else if (!strcmp(cmd, "login-twice"))
        rc = cmd_login_twice();
    else if (!strcmp(cmd, "close-wait") && argc == 7)
        rc = cmd_close_wait(argv[5], argv[6]);
    else if (!strcmp(cmd, "concurrent") && argc == 8)
        rc = cmd_concurrent((unsigned)strtoul(argv[5], NULL, 10), argv[6],
                            argv[7]);
    else
        fprintf(stderr, "faults-driver: bad command line\n");

    rv = f->C_Finalize(NULL);
    if (rv != CKR_OK)
        printf("# C_Finalize: %s\n", rv_name(rv));
    dlclose(dl);
    if (rc != 0)
        return rc;
    return exit_status;
}
