/*
 * test_qmp.c - the QMP module: the input stream (texts split across reads,
 * several in one read, malformed input and recovery, limits), the writer's
 * member order and escapes, request and argument validation, and the
 * server over a socketpair (greeting, negotiation, events only to
 * negotiated clients, half-close, SCM_RIGHTS for getfd).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/ctx.h"
#include "outboard/fdname.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"
#include "outboard/qmp_json.h"
#include "outboard/runstate.h"
#include "ut.h"

/* ---- the stream ----------------------------------------------------- */

/* What the stream delivered: each value as QEMU prints it, or "E:<error>"
 * (the first 63 items, and the latest one). */
struct got {
    char *items[64];
    size_t n;
};

static bool collect(void *opaque, json_t *val, const char *err)
{
    struct got *g = opaque;
    char *s;

    if (val) {
        s = ob_qmp_json_dumps(val);
        json_decref(val);
    } else if (asprintf(&s, "E:%s", err) < 0) {
        s = NULL;
    }
    if (g->n < 64) {
        g->items[g->n++] = s;
    } else {
        /* full: the last slot keeps the latest item */
        free(g->items[63]);
        g->items[63] = s;
    }
    return true;
}

static void got_free(struct got *g)
{
    while (g->n > 0) {
        free(g->items[--g->n]);
    }
}

/* Feeds TEXT in pieces of STEP bytes (0: at once). */
static void feed(struct got *g, const char *text, size_t len, size_t step)
{
    struct ob_qmp_json_stream s;
    size_t off = 0;

    memset(g, 0, sizeof(*g));
    ob_qmp_json_stream_init(&s, collect, g);
    if (!step) {
        step = len;
    }
    while (off < len) {
        size_t n = len - off < step ? len - off : step;

        ob_qmp_json_stream_feed(&s, text + off, n);
        off += n;
    }
    ob_qmp_json_stream_fini(&s);
}
#define FEED(g, lit, step) feed((g), (lit), sizeof(lit) - 1, (step))

static void test_stream_split_and_merged(void)
{
    static const char two[] = "{\"execute\":\"query-status\"}{\"execute\":\"query-version\","
                              "\"id\":[1,\"a\"]}";
    struct got g;
    size_t step;

    /* the same two values, whatever the read boundaries */
    for (step = 0; step < 9; step++) {
        FEED(&g, two, step);
        UT_EQ(g.n, 2);
        if (g.n == 2) {
            UT_STREQ(g.items[0], "{\"execute\": \"query-status\"}");
            UT_STREQ(g.items[1], "{\"execute\": \"query-version\", \"id\": [1, \"a\"]}");
        }
        got_free(&g);
    }
    /* whitespace and newlines between values are ignored; no newline needed */
    FEED(&g, "\n\n  \t{\"a\":1}\r\n\n", 0);
    UT_EQ(g.n, 1);
    got_free(&g);
    FEED(&g, "   \n\n", 0);
    UT_EQ(g.n, 0);
    got_free(&g);
    /* an incomplete value waits */
    FEED(&g, "{\"execute\":\"query-st", 0);
    UT_EQ(g.n, 0);
    got_free(&g);
}

static void test_stream_malformed(void)
{
    struct got g;

    FEED(&g, "foo\n", 0);
    UT_EQ_FATAL(g.n, 1);
    UT_STREQ(g.items[0], "E:JSON parse error, invalid keyword 'foo'");
    got_free(&g);
    FEED(&g, "{\"execute\":\"query-status\",}", 0);
    UT_EQ_FATAL(g.n, 1);
    UT_STREQ(g.items[0], "E:JSON parse error, expecting value");
    got_free(&g);
    FEED(&g, "{\"execute\":\"query-status\" \"x\"}", 0);
    UT_EQ_FATAL(g.n, 1);
    UT_STREQ(g.items[0], "E:JSON parse error, expected separator in dict");
    got_free(&g);
    /* a stray closer after a good value */
    FEED(&g, "{\"a\":1}}", 0);
    UT_EQ_FATAL(g.n, 2);
    UT_STREQ(g.items[1], "E:JSON parse error, expecting value");
    got_free(&g);
    /* a control character resynchronises; the next request is served */
    FEED(&g, "{\"execute\":\"query-st\x01{\"b\":2}", 0);
    UT_EQ_FATAL(g.n, 2);
    UT_STREQ(g.items[0], "E:JSON parse error, stray '\"query-st\x01'");
    UT_STREQ(g.items[1], "{\"b\": 2}");
    got_free(&g);
    /* single quotes are an accepted extension */
    FEED(&g, "{'execute':'query-status'}", 0);
    UT_EQ_FATAL(g.n, 1);
    UT_STREQ(g.items[0], "{\"execute\": \"query-status\"}");
    got_free(&g);
}

static void test_stream_nesting_limit(void)
{
    enum { DEPTH = OB_QMP_JSON_MAX_NESTING + 1 };
    char *text = malloc(2 * DEPTH + 8);
    struct got g;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (i = 0; i < DEPTH; i++) {
        text[i] = '[';
        text[DEPTH + i] = ']';
    }
    memcpy(text + 2 * DEPTH, "{\"c\":3}", 8);
    feed(&g, text, strlen(text), 4096);
    /* one limit error, then an error per leftover closer, then the request */
    UT_EQ_FATAL(g.n, 64);
    UT_STREQ(g.items[0], "E:JSON nesting depth limit exceeded");
    UT_STREQ(g.items[1], "E:JSON parse error, expecting value");
    UT_STREQ(g.items[g.n - 1], "{\"c\": 3}");
    got_free(&g);
    free(text);
}

/* A string token over 64 MiB: one limit error, then the stream recovers. */
static void test_stream_token_size_limit(void)
{
    enum { CHUNK = 1 << 16 };
    size_t total = OB_QMP_JSON_MAX_TOKEN_SIZE + CHUNK, off;
    struct ob_qmp_json_stream s;
    char *chunk = malloc(CHUNK);
    struct got g;

    CU_ASSERT_PTR_NOT_NULL_FATAL(chunk);
    memset(chunk, 'a', CHUNK);
    memset(&g, 0, sizeof(g));
    ob_qmp_json_stream_init(&s, collect, &g);
    ob_qmp_json_stream_feed(&s, "{\"execute\":\"", 12);
    for (off = 0; off < total; off += CHUNK) {
        ob_qmp_json_stream_feed(&s, chunk, CHUNK);
    }
    ob_qmp_json_stream_feed(&s, "\"}\x01{\"d\":4}", 10);
    ob_qmp_json_stream_fini(&s);
    free(chunk);
    CU_ASSERT_FATAL(g.n >= 2);
    UT_STREQ(g.items[0], "E:JSON token size limit exceeded");
    /* as QEMU: the rest of the string is lexed as a keyword, then resync */
    CU_ASSERT(strncmp(g.items[1], "E:JSON parse error, invalid keyword 'aaaa", 41) == 0);
    UT_STREQ(g.items[g.n - 1], "{\"d\": 4}");
    got_free(&g);
}

/* ---- the writer ----------------------------------------------------- */

static void test_writer_order(void)
{
    json_t *v = ob_qmp_version_json();
    json_t *st = json_pack("{s:b,s:b,s:s}", "running", 0, "singlestep", 0,
                           "status", "paused");
    json_t *rsp = json_pack("{s:o,s:i}", "return", st, "id", 1);
    char *s;

    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rsp);
    /* QEMU's QDict order: micro, minor, major; status, singlestep, running;
     * "return" before "id" */
    s = ob_qmp_json_dumps(json_object_get(v, "qemu"));
    UT_STREQ(s, "{\"micro\": 0, \"minor\": 1, \"major\": 0}");
    free(s);
    s = ob_qmp_json_dumps(rsp);
    UT_STREQ(s, "{\"return\": {\"status\": \"paused\", \"singlestep\": false, "
             "\"running\": false}, \"id\": 1}");
    free(s);
    json_decref(v);
    json_decref(rsp);
    /* pure ASCII out: \uXXXX, CR LF escaped */
    v = ob_qmp_json_string("VM status: \xc3\xa9\r\n");
    s = ob_qmp_json_dumps(v);
    UT_STREQ(s, "\"VM status: \\u00E9\\r\\n\"");
    free(s);
    json_decref(v);
}

/* ---- dispatch ------------------------------------------------------- */

static struct ob_ctx dctx;
static struct ob_qmp *dq;

static void dispatch_setup(void)
{
    CU_ASSERT_FATAL(ut_ctx_open(&dctx) == 0);
    dq = ob_qmp_new(&dctx, "vm0");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dq);
}

static void dispatch_teardown(void)
{
    ob_qmp_free(dq);
    dq = NULL;
    ob_ctx_fini(&dctx);
}

/* Runs TEXT as a request; returns the response as printed (malloc'd). */
static char *run(const char *text, bool negotiating, bool oob)
{
    struct ob_qmp_req r;
    char err[256];
    json_t *req = ob_qmp_json_parse(text, strlen(text), err, sizeof(err));
    json_t *rsp;
    char *s;

    memset(&r, 0, sizeof(r));
    r.qmp = dq;
    r.negotiating = negotiating;
    r.oob = oob;
    rsp = ob_qmp_dispatch(&r, req, req ? NULL : err);
    s = ob_qmp_json_dumps(rsp);
    json_decref(rsp);
    json_decref(req);
    ob_qmp_req_clear(&r);
    return s;
}

static void expect(const char *text, bool negotiating, const char *want, unsigned line)
{
    char *got = run(text, negotiating, false);

    ut_check_str(got, want, text, line, __FILE__, false);
    free(got);
}
#define EXPECT(text, want) expect((text), false, (want), __LINE__)
#define ERR(cls, desc) "{\"error\": {\"class\": \"" cls "\", \"desc\": \"" desc "\"}}"
#define ERR_ID(id, cls, desc) \
    "{\"id\": " id ", \"error\": {\"class\": \"" cls "\", \"desc\": \"" desc "\"}}"

static void test_dispatch_request_shape(void)
{
    EXPECT("[1,2]", ERR("GenericError", "QMP input must be a JSON object"));
    EXPECT("{\"execute\":1}", ERR("GenericError",
                                  "QMP input member 'execute' must be a string"));
    EXPECT("{\"execute\":\"query-status\",\"arguments\":[]}",
           ERR("GenericError", "QMP input member 'arguments' must be an object"));
    EXPECT("{\"execute\":\"query-status\",\"foo\":1,\"id\":7}",
           ERR_ID("7", "GenericError", "QMP input member 'foo' is unexpected"));
    EXPECT("{}", ERR("GenericError", "QMP input lacks member 'execute'"));
    EXPECT("{\"exec-oob\":\"query-status\"}",
           ERR("GenericError", "QMP input member 'exec-oob' is unexpected"));
    EXPECT("{\"execute\":\"nosuch\",\"id\":\"x\"}",
           ERR_ID("\"x\"", "CommandNotFound", "The command nosuch has not been found"));
    /* any id comes back verbatim */
    EXPECT("{\"execute\":\"query-name\",\"id\":{\"a\":[null]}}",
           "{\"return\": {\"name\": \"vm0\"}, \"id\": {\"a\": [null]}}");
}

static void test_dispatch_negotiation(void)
{
    expect("{\"execute\":\"query-status\"}", true,
           ERR("CommandNotFound",
               "Expecting capabilities negotiation with 'qmp_capabilities'"), __LINE__);
    expect("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":\"oob\"}}", true,
           ERR("GenericError", "Invalid parameter type for 'enable', expected: array"),
           __LINE__);
    expect("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"foo\"]}}", true,
           ERR("GenericError", "Parameter 'null' does not accept value 'foo'"), __LINE__);
    expect("{\"execute\":\"qmp_capabilities\",\"arguments\":{}}", true,
           "{\"return\": {}}", __LINE__);
    expect("{\"execute\":\"qmp_capabilities\"}", false,
           ERR("CommandNotFound",
               "Capabilities negotiation is already complete, command ignored"), __LINE__);
}

static void test_dispatch_oob(void)
{
    char *s = run("{\"exec-oob\":\"query-status\",\"id\":\"o\"}", false, true);

    UT_STREQ(s, ERR_ID("\"o\"", "GenericError",
                       "The command query-status does not support OOB"));
    free(s);
    s = run("{\"execute\":\"query-status\",\"exec-oob\":\"stop\"}", false, true);
    UT_STREQ(s, ERR("GenericError", "QMP input member 'execute' clashes with 'exec-oob'"));
    free(s);
    /* nothing ran */
    UT_EQ(ob_runstate_get(&dctx), OB_RS_RUNNING);
}

static void test_dispatch_arguments(void)
{
    EXPECT("{\"execute\":\"device_del\"}", ERR("GenericError", "Parameter 'id' is missing"));
    EXPECT("{\"execute\":\"device_del\",\"arguments\":{\"id\":5}}",
           ERR("GenericError", "Invalid parameter type for 'id', expected: string"));
    EXPECT("{\"execute\":\"query-status\",\"arguments\":{\"x\":1}}",
           ERR("GenericError", "Parameter 'x' is unexpected"));
    EXPECT("{\"execute\":\"device_del\",\"arguments\":{\"id\":\"nope\"},\"id\":9}",
           ERR_ID("9", "DeviceNotFound", "Device 'nope' not found"));
    EXPECT("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
           "\"info nosuch\"}}", "{\"return\": \"unknown command: 'info nosuch'\\r\\n\"}");
    EXPECT("{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"f\"}}",
           ERR("GenericError", "No file descriptor supplied via SCM_RIGHTS"));
    EXPECT("{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"f\"}}",
           ERR("GenericError", "File descriptor named 'f' not found"));
    EXPECT("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"bogus\"}}",
           ERR("GenericError", "Parameter 'driver' does not accept value 'bogus'"));
    EXPECT("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\","
           "\"node-name\":\"n\",\"file\":{\"filename\":\"/x\"}}}",
           ERR("GenericError", "Parameter 'file.driver' is missing"));
    EXPECT("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"file\","
           "\"filename\":\"/x\",\"cache\":{\"direct\":1}}}",
           ERR("GenericError", "Invalid parameter type for 'cache.direct', expected: boolean"));
    EXPECT("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"file\","
           "\"filename\":\"/x\"}}",
           ERR("GenericError", "'node-name' must be specified for the root node"));
    EXPECT("{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"n\"}}",
           ERR("GenericError", "Failed to find node with node-name='n'"));
    /* a rejected request has no effect */
    EXPECT("{\"execute\":\"stop\",\"arguments\":{\"now\":true}}",
           ERR("GenericError", "Parameter 'now' is unexpected"));
    UT_EQ(ob_runstate_get(&dctx), OB_RS_RUNNING);
}

static void test_dispatch_runstate(void)
{
    EXPECT("{\"execute\":\"stop\"}", "{\"return\": {}}");
    EXPECT("{\"execute\":\"query-status\"}", "{\"return\": {\"status\": \"paused\", "
           "\"singlestep\": false, \"running\": false}}");
    EXPECT("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
           "\"info status\"}}", "{\"return\": \"VM status: paused\\r\\n\"}");
    EXPECT("{\"execute\":\"cont\"}", "{\"return\": {}}");
    UT_EQ(ob_runstate_get(&dctx), OB_RS_RUNNING);
    EXPECT("{\"execute\":\"query-pci\"}", "{\"return\": [{\"bus\": 0, \"devices\": []}]}");
    EXPECT("{\"execute\":\"query-block\"}", "{\"return\": []}");
}

/* ---- the server over a socketpair ------------------------------------ */

static struct ob_ctx sctx;
static struct ob_qmp *sq;
static int peer = -1;

static void server_setup(void)
{
    int sv[2];
    char err[128];

    CU_ASSERT_FATAL(ut_ctx_open(&sctx) == 0);
    sq = ob_qmp_new(&sctx, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sq);
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    peer = sv[0];
    CU_ASSERT_FATAL(ob_qmp_add_connected_fd(sq, "t", sv[1], err, sizeof(err)) == 0);
}

static void server_teardown(void)
{
    ob_qmp_free(sq);
    sq = NULL;
    ob_ctx_fini(&sctx);
    if (peer >= 0) {
        close(peer);
        peer = -1;
    }
}

static void spin(void)
{
    int i;

    for (i = 0; i < 4; i++) {
        event_base_loop(sctx.base, EVLOOP_NONBLOCK);
    }
}

/* Everything the server has written so far (NUL-terminated, static). */
static const char *drain(void)
{
    static char buf[8192];
    ssize_t n;

    spin();
    n = recv(peer, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void say(const char *s)
{
    CU_ASSERT_EQUAL(send(peer, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
    spin();
}

static void test_server_greeting_and_events(void)
{
    const char *out = drain();

    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"capabilities\": [\"oob\"]}}\r\n"));
    CU_ASSERT_EQUAL(strncmp(out, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": ", 39), 0);
    UT_EQ(ob_qmp_client_count(sq), 1);
    /* not negotiated: an event is dropped, not queued */
    ob_vm_stop(&sctx, OB_RS_PAUSED);
    UT_STREQ(drain(), "");
    say("{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}");
    UT_STREQ(drain(), "{\"return\": {}}\r\n");
    ob_vm_start(&sctx);
    out = drain();
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"event\": \"RESUME\"}\r\n"));
    CU_ASSERT_EQUAL(strncmp(out, "{\"timestamp\": {\"seconds\": ", 26), 0);
    /* the event a command causes comes before its return */
    say("{\"execute\":\"stop\",\"id\":1}");
    out = drain();
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"event\": \"STOP\"}\r\n{\"return\": {}, "
                                       "\"id\": 1}\r\n"));
}

/* BLOCK_IO_ERROR names the drive as QEMU does: a -drive drive by its id and
 * the automatic node name query-block reports, a blockdev-add node by ""
 * and its node name. */
static void test_server_block_io_error_names(void)
{
    struct ob_event ev;
    const char *out;

    drain();    /* the greeting */
    say("{\"execute\":\"qmp_capabilities\"}");
    UT_STREQ(drain(), "{\"return\": {}}\r\n");
    memset(&ev, 0, sizeof(ev));
    ev.kind = OB_EV_BLOCK_IO_ERROR;
    ev.u.io.device = "d0";
    ev.u.io.node_name = "d0";
    ev.u.io.write = true;
    ev.u.io.action = "report";
    ev.u.io.reason = "Input/output error";
    ob_event_emit(&sctx, &ev);
    out = drain();
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"device\": \"d0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node-name\": \"#block157\""));
    UT_STREQ(ob_qmp_drive_node_name(sq, "d0"), "#block157");
    UT_STREQ(ob_qmp_drive_node_name(sq, "d1"), "#block331");
    CU_ASSERT_FATAL(ob_qmp_node_add(sq, "n1", "raw") == 0);
    ev.u.io.device = "n1";
    ev.u.io.node_name = "n1";
    ob_event_emit(&sctx, &ev);
    out = drain();
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"device\": \"\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node-name\": \"n1\""));
    UT_STREQ(ob_qmp_drive_node_name(sq, "n1"), "n1");
}

static void test_server_half_close(void)
{
    char buf[256];
    ssize_t n;

    drain();
    say("{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-name\"}{\"exe");
    shutdown(peer, SHUT_WR);
    spin();
    n = recv(peer, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    CU_ASSERT_FATAL(n > 0);
    buf[n] = '\0';
    UT_STREQ(buf, "{\"return\": {}}\r\n{\"return\": {}}\r\n");
    /* then the server closes its side */
    UT_EQ(recv(peer, buf, sizeof(buf), MSG_DONTWAIT), 0);
    UT_EQ(ob_qmp_client_count(sq), 0);
}

static void test_server_getfd(void)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    const char *req = "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"mig\"}}";
    struct iovec iov = { (void *)req, strlen(req) };
    struct msghdr msg;
    struct cmsghdr *cm;
    int fds[2], fd;

    drain();
    say("{\"execute\":\"qmp_capabilities\"}");
    UT_STREQ(drain(), "{\"return\": {}}\r\n");
    CU_ASSERT_FATAL(pipe2(fds, O_CLOEXEC) == 0);
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fds[0], sizeof(int));
    CU_ASSERT(sendmsg(peer, &msg, 0) == (ssize_t)strlen(req));
    close(fds[0]);
    UT_STREQ(drain(), "{\"return\": {}}\r\n");
    fd = ob_fdname_take(&sctx, "mig");
    CU_ASSERT(fd >= 0);
    if (fd >= 0) {
        close(fd);
    }
    close(fds[1]);
}

/*
 * A client that sends without reading: the server stops reading it once
 * its output passes OB_QMP_OUT_PAUSE, and every request is still answered,
 * in order, once the client reads.
 */
static void test_server_backpressure(void)
{
    static const char req[] = "{\"execute\":\"query-commands\"}";
    static char buf[1 << 16];
    size_t sent = 0, answered = 0, tries;
    ssize_t n;

    drain();
    say("{\"execute\":\"qmp_capabilities\"}");
    UT_STREQ(drain(), "{\"return\": {}}\r\n");
    /* until neither the socket nor the server takes more */
    for (tries = 0; tries < 200000; tries++) {
        n = send(peer, req, sizeof(req) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            spin();
            n = send(peer, req, sizeof(req) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0) {
                break;
            }
        }
        CU_ASSERT_EQUAL_FATAL(n, (ssize_t)(sizeof(req) - 1));
        sent++;
        if (sent % 64 == 0) {
            spin();
        }
    }
    CU_ASSERT(tries < 200000);          /* the server did stop reading */
    UT_EQ(ob_qmp_client_count(sq), 1);
    /* now read everything: one answer per request */
    for (tries = 0; tries < 100000 && answered < sent; tries++) {
        spin();
        n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            ssize_t i;

            for (i = 0; i < n; i++) {
                answered += buf[i] == '\n';
            }
        }
    }
    UT_EQ(answered, sent);
}

static const struct ut_test stream_tests[] = {
    UT_TEST(test_stream_split_and_merged),
    UT_TEST(test_stream_malformed),
    UT_TEST(test_stream_nesting_limit),
    UT_TEST(test_stream_token_size_limit),
    UT_TEST(test_writer_order),
    UT_END,
};

static const struct ut_test dispatch_tests[] = {
    UT_TEST(test_dispatch_request_shape),
    UT_TEST(test_dispatch_negotiation),
    UT_TEST(test_dispatch_oob),
    UT_TEST(test_dispatch_arguments),
    UT_TEST(test_dispatch_runstate),
    UT_END,
};

static const struct ut_test server_tests[] = {
    UT_TEST(test_server_greeting_and_events),
    UT_TEST(test_server_block_io_error_names),
    UT_TEST(test_server_half_close),
    UT_TEST(test_server_getfd),
    UT_TEST(test_server_backpressure),
    UT_END,
};

int test_qmp_register(void)
{
    static const struct ut_suite suites[] = {
        { "qmp_json", NULL, NULL, stream_tests },
        { "qmp_dispatch", dispatch_setup, dispatch_teardown, dispatch_tests },
        { "qmp_server", server_setup, server_teardown, server_tests },
    };
    size_t i;
    int rc = CUE_SUCCESS;

    for (i = 0; rc == CUE_SUCCESS && i < sizeof(suites) / sizeof(suites[0]); i++) {
        rc = ut_add_suite(&suites[i]);
    }
    return rc;
}
