/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The reader and the card for mynacard-tool.  Layer: tool/; calls the
 * card layer's PC/SC hub (tp_hub_pcsc_new, tp_hub_list, tp_hub_connect)
 * and the JPKI application (jpki_*), never pcsc-lite itself.  A command
 * holds a transaction only while it talks to the card, never while a
 * person types: other programs (Firefox, pcscd's other clients) may use
 * the card in between, so each transaction re-selects the application.
 */
#include <string.h>

#include "myna-err.h"
#include "tool.h"

int tool_exit_for(int err)
{
    switch (err) {
    case 0:
        return TOOL_OK;
    case MYNA_E_NO_SERVICE:
        return TOOL_ENOSERVICE;
    case MYNA_E_NO_READER:
    case MYNA_E_NO_CARD:
    case MYNA_E_NOT_JPKI:
    case MYNA_E_NOT_FOUND:
        return TOOL_ENOCARD;
    case MYNA_E_PIN_INCORRECT:
        return TOOL_EPIN;
    case MYNA_E_PIN_LOCKED:
        return TOOL_EBLOCKED;
    case MYNA_E_PIN_FORMAT:
    case MYNA_E_PIN_LEN:
        return TOOL_EFORMAT;
    default:
        return TOOL_EFAIL;
    }
}

int tcard_readers(struct tp_hub **hub, struct tool_readers *out)
{
    int err;

    out->n = 0;
    *hub = NULL;
    err = tp_hub_pcsc_new(hub);
    if (err < 0)
        return err;
    err = tp_hub_list(*hub, out->r, TP_READERS_MAX, &out->n);
    /* pcsc-lite says "no readers" with an error; it is an empty list. */
    if (err == MYNA_E_NO_READER) {
        out->n = 0;
        err = 0;
    }
    return err;
}

int tcard_readers_failed(struct tp_hub *hub, int err)
{
    complain(_("cannot list the readers: %s"), tool_strerror(err));
    tp_hub_free(hub);
    return tool_exit_for(err);
}

int tcard_pick(const struct tool_readers *rs, const char *want)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (want && !strstr(rs->r[i].name, want))
            continue;
        if (rs->r[i].present)
            return (int)i;
    }
    return -1;
}

int tcard_connect(struct tp_hub *hub, const char *name, struct tool_card *c)
{
    int err;

    memset(c, 0, sizeof(*c));
    c->hub = hub;
    snprintf(c->reader, sizeof(c->reader), "%s", name);
    err = tp_hub_connect(hub, name, &c->tp);
    if (err < 0)
        return err;
    return jpki_new(c->tp, &c->j);
}

int tcard_begin(struct tool_card *c)
{
    int err = jpki_begin(c->j);

    /* A reset since our last transaction only means the selection is
     * forgotten (jpki_begin has done so): we hold no verified PIN across
     * transactions. */
    if (err == MYNA_E_CARD_RESET)
        err = 0;
    if (err < 0)
        return err;
    c->in_tx = true;
    err = jpki_select_ap(c->j);
    if (err == MYNA_E_NOT_FOUND)
        err = MYNA_E_NOT_JPKI;
    if (err < 0)
        tcard_end(c, false);
    return err;
}

void tcard_end(struct tool_card *c, bool unpower)
{
    if (!c->in_tx)
        return;
    c->in_tx = false;
    /* An error here is not the holder's concern: a power-down that failed
     * leaves a verified PIN only until the card loses power (pcscd powers
     * an unused card down), and the transport reports nothing more
     * useful. */
    (void)jpki_end(c->j, unpower);
}

void tcard_close(struct tool_card *c)
{
    tcard_end(c, false);
    jpki_free(c->j);
    tp_free(c->tp);
    tp_hub_free(c->hub);
    memset(c, 0, sizeof(*c));
}

int tcard_open(struct tool_card *c)
{
    struct tool_readers rs;
    struct tp_hub *hub = NULL;
    int err, idx;

    memset(c, 0, sizeof(*c));
    err = tcard_readers(&hub, &rs);
    if (err == MYNA_E_NO_SERVICE) {
        complain(_("pcscd is not running or not reachable: start it "
                 "(sudo systemctl start pcscd.socket); "
                 "`mynacard-tool doctor` says more"));
        tp_hub_free(hub);
        return TOOL_ENOSERVICE;
    }
    if (err < 0)
        return tcard_readers_failed(hub, err);
    if (rs.n == 0) {
        complain(_("no smart-card reader is connected"));
        tp_hub_free(hub);
        return TOOL_ENOCARD;
    }
    idx = tcard_pick(&rs, tool_opt.reader);
    if (idx < 0) {
        if (tool_opt.reader)
            complain(_("no card in a reader matching \"%s\""), tool_opt.reader);
        else
            complain(_("no card in the reader: insert your My Number Card"));
        tp_hub_free(hub);
        return TOOL_ENOCARD;
    }
    err = tcard_connect(hub, rs.r[idx].name, c);
    if (err < 0) {
        complain(_("cannot connect to the card in %s: %s"), rs.r[idx].name,
                 tool_strerror(err));
        tcard_close(c);
        return tool_exit_for(err);
    }
    return TOOL_OK;
}
