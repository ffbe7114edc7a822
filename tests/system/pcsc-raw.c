/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * pcsc-raw: "another program" of the system tests.  It talks raw PC/SC to
 * the card in one reader, in one shared connection, with no card driver
 * and no knowledge of JPKI: the way any other program on the machine
 * could reach the card behind the module's back.
 *
 *   pcsc-raw READER APDU...        send each APDU (hex), print each answer
 *   pcsc-raw READER --reset        connect, and disconnect with a warm reset
 *   pcsc-raw READER --unpower      connect, and disconnect powering it down
 *   pcsc-raw READER --hold SECS APDU...
 *                                  as the first form, then keep the
 *                                  connection open SECS seconds (a program
 *                                  that stays, such as a browser)
 *
 * Each answer is printed as "Received (SW1=0xHH, SW2=0xHH)" followed by
 * the data in hex, the format of opensc-tool -s that the tests read.  A
 * card just powered up may answer its first command 6F00 without doing
 * it (doc/jpki-card.md): the first APDU is sent once more then, as any
 * program for this card must.  Exit status: 0 when every APDU got an
 * answer, 1 on a PC/SC failure, 2 for a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

static int unhex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
    size_t n = 0;

    while (*s) {
        unsigned v;

        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        if (n == cap || !s[1] || sscanf(s, "%2x", &v) != 1)
            return -1;
        out[n++] = (unsigned char)v;
        s += 2;
    }
    *len = n;
    return n >= 4 ? 0 : -1;
}

static int transmit(SCARDHANDLE card, DWORD proto, const unsigned char *cmd,
                    size_t len, unsigned char *resp, DWORD *rlen)
{
    const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0
                                                             : SCARD_PCI_T1;
    LONG rv;

    *rlen = 258;
    rv = SCardTransmit(card, pci, cmd, (DWORD)len, NULL, resp, rlen);
    if (rv != SCARD_S_SUCCESS || *rlen < 2) {
        fprintf(stderr, "pcsc-raw: SCardTransmit: %s\n",
                pcsc_stringify_error(rv));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto = 0, disposition = SCARD_LEAVE_CARD;
    unsigned hold = 0;
    int first = 2, rc = 0;
    LONG rv;

    if (argc < 3) {
        fprintf(stderr, "usage: pcsc-raw READER APDU... | --reset | "
                        "--unpower | --hold SECS APDU...\n");
        return 2;
    }
    if (strcmp(argv[2], "--reset") == 0)
        disposition = SCARD_RESET_CARD;
    else if (strcmp(argv[2], "--unpower") == 0)
        disposition = SCARD_UNPOWER_CARD;
    if (disposition != SCARD_LEAVE_CARD)
        first = 3;
    if (strcmp(argv[2], "--hold") == 0) {
        if (argc < 4)
            return 2;
        hold = (unsigned)atoi(argv[3]);
        first = 4;
    }
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
    if (rv != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-raw: SCardEstablishContext: %s\n",
                pcsc_stringify_error(rv));
        return 1;
    }
    rv = SCardConnect(ctx, argv[1], SCARD_SHARE_SHARED,
                      SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
    if (rv != SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-raw: SCardConnect: %s\n",
                pcsc_stringify_error(rv));
        SCardReleaseContext(ctx);
        return 1;
    }
    for (int i = first; i < argc; i++) {
        unsigned char cmd[300], resp[300];
        size_t len = 0;
        DWORD rlen = 0;

        if (unhex(argv[i], cmd, sizeof(cmd), &len) < 0) {
            fprintf(stderr, "pcsc-raw: not an APDU: %s\n", argv[i]);
            rc = 2;
            break;
        }
        printf("Sending: %s\n", argv[i]);
        if (transmit(card, proto, cmd, len, resp, &rlen) < 0) {
            rc = 1;
            break;
        }
        if (i == first && resp[rlen - 2] == 0x6F && resp[rlen - 1] == 0x00) {
            printf("# 6F00 to the first command: sent once more\n");
            if (transmit(card, proto, cmd, len, resp, &rlen) < 0) {
                rc = 1;
                break;
            }
        }
        printf("Received (SW1=0x%02X, SW2=0x%02X)", resp[rlen - 2],
               resp[rlen - 1]);
        for (DWORD k = 0; k + 2 < rlen; k++)
            printf("%s%02X", k ? " " : "\n", resp[k]);
        printf("\n");
    }
    fflush(stdout);
    if (hold)
        sleep(hold);
    SCardDisconnect(card, disposition);
    SCardReleaseContext(ctx);
    return rc;
}
