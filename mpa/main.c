/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-mpa's main loop: read a message from the browser on stdin,
 * answer it on stdout, until the end of input or mode "05".  A message
 * over MPA_MSG_MAX or cut short gets an error answer and ends the
 * program: the stream cannot be trusted to be in step any more.  Nothing
 * goes to stdout but answers (the browser reads it); nothing about
 * requests goes to stderr.  Layer: mpa/.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "mpa.h"

static int usage(void)
{
    fprintf(stderr,
            "mynacard-mpa: the native messaging host %s for Mynaportal and "
            "e-Tax.\nA browser extension starts it; it talks JSON with a "
            "4-byte length on stdin and stdout.\nSee mynacard-mpa(1).\n",
            MPA_HOST_NAME);
    return 2;
}

/* Write @ans and free it (wiped: it may hold personal data).  When
 * Jansson could not build it (out of memory), a fixed answer. */
static int send_answer(char *ans)
{
    static const char oom[] = "{\"result\":\"1\",\"errcode\":\"INTERNAL\"}";
    int r;

    if (!ans)
        return mpa_frame_write(stdout, oom, sizeof(oom) - 1);
    r = mpa_frame_write(stdout, ans, strlen(ans));
    OPENSSL_cleanse(ans, strlen(ans));
    free(ans);
    return r;
}

int main(int argc, char **argv)
{
    struct mpa_ctx ctx;
    uint8_t *msg;
    size_t len;
    bool end = false;
    char *ans;
    int st;

    /* A browser passes the caller's origin (Chromium) or the manifest
     * path and extension id (Firefox) as arguments; they decide nothing
     * here: the browser has already checked that the extension may talk
     * to us.  Only a person typing options gets the usage. */
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0))
        return usage();
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("mynacard-mpa %s\n", MYNACARD_VERSION);
        return 0;
    }
    mpa_json_wipe_on_free();
    memset(&ctx, 0, sizeof(ctx));
    while (!end) {
        st = mpa_frame_read(stdin, &msg, &len);
        if (st == MPA_FRAME_EOF)
            break;
        if (st != MPA_FRAME_OK) {
            enum mpa_err e = st == MPA_FRAME_TOO_BIG ? MPA_E_TOO_BIG
                           : st == MPA_FRAME_NOMEM   ? MPA_E_INTERNAL
                           : st == MPA_FRAME_EMPTY   ? MPA_E_BAD_REQUEST
                                                     : MPA_E_BAD_FRAME;
            send_answer(mpa_frame_error(e));
            return 1;
        }
        mpa_handle(&ctx, msg, len, &ans, &end);
        /* The message may have held a PIN. */
        OPENSSL_cleanse(msg, len);
        free(msg);
        if (end && !ans)
            break;
        if (send_answer(ans) < 0)
            return 1;
    }
    return 0;
}
