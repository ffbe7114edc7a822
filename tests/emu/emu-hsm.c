/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The SoftHSM2 instances that hold the virtual cards' keys.  SoftHSM keeps
 * its configuration and tokens in process-wide singletons and reads
 * SOFTHSM2_CONF only in C_Initialize, so two cards open at once in one
 * process (a module test with two readers) cannot share one instance: each
 * card gets a loaded library of its own, the installed file for the first
 * and private copies (a different path makes dlopen load a separate
 * instance) for the others.  Instances go back to a pool on close and are
 * never unloaded.  Calls dlopen and SoftHSM's PKCS#11 functions only.
 */
#include "config.h"
#include "emu-internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HSM_POOL_MAX 32

struct emu_hsm {
    void *dl;
    CK_FUNCTION_LIST *fn;
    bool busy;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct emu_hsm pool[HSM_POOL_MAX];
static unsigned pool_len;

static const char *softhsm_path(void)
{
    /* An override for machines where meson did not find SoftHSM, and for
     * trying another SoftHSM build. */
    const char *env = getenv("MYNACARD_SOFTHSM_MODULE");

    if (env && env[0])
        return env;
    return MYNACARD_SOFTHSM_MODULE;
}

/* Copy the library to a private temporary file and return its name. */
static char *copy_library_locked(const char *src)
{
    const char *tmpdir = getenv("TMPDIR");
    char buf[65536];
    size_t total = 0;
    ssize_t n;
    char *name;
    int in, fd;

    if (!tmpdir || !tmpdir[0])
        tmpdir = "/tmp";
    name = emu_path(tmpdir, "mynacard-softhsm-XXXXXX");
    if (!name)
        return NULL;
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        goto err_free;
    fd = mkstemp(name);
    if (fd < 0)
        goto err_in;
    for (;;) {
        n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (write(fd, buf, (size_t)n) != n)
            goto err_unlink;
        total += (size_t)n;
    }
    if (n < 0 || total == 0)
        goto err_unlink;
    close(fd);
    close(in);
    return name;

err_unlink:
    close(fd);
    unlink(name);
err_in:
    close(in);
err_free:
    free(name);
    return NULL;
}

static struct emu_hsm *load_locked(void)
{
    const char *src = softhsm_path();
    struct emu_hsm *h;
    CK_C_GetFunctionList get;
    char *copy = NULL;
    void *dl;

    if (pool_len == HSM_POOL_MAX) {
        fprintf(stderr, "mynacard-emu: more than %d cards open\n",
                HSM_POOL_MAX);
        return NULL;
    }
    if (pool_len == 0) {
        dl = dlopen(src, RTLD_NOW | RTLD_LOCAL);
    } else {
        copy = copy_library_locked(src);
        if (!copy) {
            fprintf(stderr, "mynacard-emu: cannot copy %s: %s\n", src,
                    strerror(errno));
            return NULL;
        }
        dl = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
        /* The mapping stays; the name is not needed any more. */
        unlink(copy);
        free(copy);
    }
    if (!dl) {
        fprintf(stderr, "mynacard-emu: cannot load SoftHSM: %s\n", dlerror());
        return NULL;
    }
    get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    h = &pool[pool_len];
    if (!get || get(&h->fn) != CKR_OK) {
        fprintf(stderr, "mynacard-emu: %s is not a PKCS#11 module\n", src);
        dlclose(dl);
        return NULL;
    }
    h->dl = dl;
    pool_len++;
    return h;
}

/* C_Initialize with SOFTHSM2_CONF pointing at @conf.  The environment is
 * process-wide: the pool lock serialises the cards, not other threads
 * that read the environment. */
static CK_RV init_with_conf_locked(struct emu_hsm *h, const char *conf)
{
    CK_C_INITIALIZE_ARGS args;
    const char *old = getenv("SOFTHSM2_CONF");
    char *saved = old ? strdup(old) : NULL;
    CK_RV rv;

    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    setenv("SOFTHSM2_CONF", conf, 1);
    rv = h->fn->C_Initialize(&args);
    if (saved)
        setenv("SOFTHSM2_CONF", saved, 1);
    else
        unsetenv("SOFTHSM2_CONF");
    free(saved);
    return rv;
}

int emu_hsm_open(const char *dir, struct emu_hsm **out)
{
    struct emu_hsm *h = NULL;
    char *conf;
    unsigned i;
    CK_RV rv;
    int rc = -1;

    conf = emu_path(dir, EMU_CONF_FILE);
    if (!conf)
        return -1;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        h = NULL;
        for (i = 0; i < pool_len; i++) {
            if (!pool[i].busy) {
                h = &pool[i];
                break;
            }
        }
        if (!h)
            h = load_locked();
        if (!h)
            break;
        rv = init_with_conf_locked(h, conf);
        if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            /* Someone else in this process (p11-kit, a test) uses this
             * instance: leave it to them for good and load another. */
            h->busy = true;
            continue;
        }
        if (rv != CKR_OK) {
            fprintf(stderr, "mynacard-emu: SoftHSM C_Initialize (%s): "
                    "0x%lx\n", conf, (unsigned long)rv);
            break;
        }
        h->busy = true;
        *out = h;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&pool_lock);
    free(conf);
    return rc;
}

CK_FUNCTION_LIST *emu_hsm_fn(const struct emu_hsm *h)
{
    return h->fn;
}

void emu_hsm_close(struct emu_hsm *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&pool_lock);
    h->fn->C_Finalize(NULL);
    h->busy = false;
    pthread_mutex_unlock(&pool_lock);
}

int emu_hsm_find_token(struct emu_hsm *h, CK_SLOT_ID *slot)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16, i;
    char label[32];

    memset(label, ' ', sizeof(label));
    memcpy(label, EMU_HSM_TOKEN_LABEL, strlen(EMU_HSM_TOKEN_LABEL));
    if (h->fn->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return -1;
    for (i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;

        if (h->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        if (!(ti.flags & CKF_TOKEN_INITIALIZED))
            continue;
        if (memcmp(ti.label, label, sizeof(label)) == 0) {
            *slot = slots[i];
            return 0;
        }
    }
    return -1;
}

int emu_hsm_find_key(struct emu_hsm *h, CK_SESSION_HANDLE s,
                     CK_OBJECT_CLASS cls, const char *id,
                     CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_ID, (void *)id, strlen(id) },
    };
    CK_ULONG n = 0;
    CK_RV rv;

    rv = h->fn->C_FindObjectsInit(s, tmpl, 2);
    if (rv != CKR_OK)
        return -1;
    rv = h->fn->C_FindObjects(s, out, 1, &n);
    h->fn->C_FindObjectsFinal(s);
    return rv == CKR_OK && n == 1 ? 0 : -1;
}
