/*
 * priv.h - internals shared by the proxy driver's files.
 */
#ifndef OB_PROXY_PRIV_H
#define OB_PROXY_PRIV_H

#include "outboard/proxy.h"

/* Formats a reason into px->err; returns -1. */
int ob_proxy_fail(struct ob_proxy *px, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
