/*
 * it_qmp.c - the QMP monitor of the real binary, spoken in raw bytes over
 * its UNIX socket: greeting, negotiation, run state commands and their
 * events, query-pci, errors, malformed input, several clients, half-close,
 * quit. The expected lines are the shapes QEMU 7.2 prints (same member
 * order, ", " and ": " separators, CR LF line ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "outboard/qmp.h"

#include "it.h"

#define QMP_WAIT_MS 3000

/* The greeting without the version numbers. */
static const char greeting_head[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": ";
static const char greeting_tail[] = "\"package\": \"outboard ";
static const char greeting_caps[] = "\"capabilities\": [\"oob\"]}}\r\n";
static const char rsp_empty[] = "{\"return\": {}}\r\n";
static const char rsp_negotiate_first[] =
    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
    "negotiation with 'qmp_capabilities'\"}}\r\n";
static const char rsp_running_s1[] =
    "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
    "\"id\": \"s1\"}\r\n";
static const char rsp_paused[] =
    "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}}\r\n";
static const char rsp_pci_edu[] =
    "{\"return\": [{\"bus\": 0, \"devices\": [{\"irq_pin\": 1, \"bus\": 0, \"qdev_id\": "
    "\"edu0\", \"irq\": 0, \"slot\": 0, \"class_info\": {\"class\": 255}, \"id\": "
    "{\"device\": 4584, \"subsystem-vendor\": 6900, \"vendor\": 4660, \"subsystem\": "
    "4352}, \"function\": 0, \"regions\": [{\"prefetch\": false, \"mem_type_64\": false, "
    "\"bar\": 0, \"size\": 1048576, \"address\": -1, \"type\": \"memory\"}]}]}]}\r\n";
static const char rsp_nosuch_x[] =
    "{\"id\": \"x\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
    "nosuch has not been found\"}}\r\n";
static const char rsp_expecting_value[] =
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting "
    "value\"}}\r\n";
static const char rsp_bad_keyword[] =
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, invalid "
    "keyword 'foo'\"}}\r\n";
static const char rsp_stray[] =
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
    "'\\\"query-st\\u0001'\"}}\r\n";
static const char rsp_unexpected_foo[] =
    "{\"id\": 7, \"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
    "'foo' is unexpected\"}}\r\n";
static const char rsp_hmp_paused[] = "{\"return\": \"VM status: paused\\r\\n\"}\r\n";

/* One client connection with its unread bytes. */
struct qc {
    int fd;
    char buf[65536];
    size_t len;
};

static void sock_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/ob-it-qmp-%d.sock", (int)getpid());
}

static int qc_connect(struct qc *c, const char *path)
{
    struct sockaddr_un sa;
    int i;

    memset(c, 0, sizeof(*c));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (i = 0; i < QMP_WAIT_MS / 10; i++) {
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            return -1;
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return 0;
        }
        close(c->fd);
        c->fd = -1;
        usleep(10000);
    }
    return -1;
}

static void qc_close(struct qc *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static bool qc_send(struct qc *c, const char *s)
{
    size_t n = strlen(s);

    return send(c->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/*
 * The next line (with its CR LF) into LINE; "" on timeout, "<EOF>" when the
 * server closed. Waits at most MS.
 */
static const char *qc_line(struct qc *c, char *line, size_t len, int ms)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd p = { c->fd, POLLIN, 0 };
        ssize_t n;

        if (nl) {
            size_t l = (size_t)(nl - c->buf) + 1;

            snprintf(line, len, "%.*s", (int)l, c->buf);
            memmove(c->buf, c->buf + l, c->len - l);
            c->len -= l;
            return line;
        }
        if (poll(&p, 1, ms) <= 0) {
            snprintf(line, len, "%s", "");
            return line;
        }
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n <= 0) {
            snprintf(line, len, "%s", "<EOF>");
            return line;
        }
        c->len += (size_t)n;
    }
}

static bool check_line(struct qc *c, const char *want, unsigned lineno)
{
    char got[65536];
    bool ok;

    qc_line(c, got, sizeof(got), QMP_WAIT_MS);
    ok = strcmp(got, want) == 0;
    if (!ok) {
        fprintf(stderr, "\n  line %u: got  %s\n          want %s\n", lineno, got, want);
    }
    CU_assertImplementation(ok, lineno, "QMP line as expected", __FILE__, "", CU_FALSE);
    return ok;
}
#define QC_EXPECT(c, want) check_line((c), (want), __LINE__)

/* An event line: {"timestamp": {"seconds": S, "microseconds": U}, "event":
 * "NAME"<REST>, with S and U plausible numbers. */
static bool check_event(struct qc *c, const char *name, const char *rest, unsigned lineno)
{
    char got[4096], want[256];
    long long sec = -1, usec = -1;
    int off = 0;
    bool ok = false;

    qc_line(c, got, sizeof(got), QMP_WAIT_MS);
    if (sscanf(got, "{\"timestamp\": {\"seconds\": %lld, \"microseconds\": %lld}%n",
               &sec, &usec, &off) == 2 && off > 0) {
        snprintf(want, sizeof(want), ", \"event\": \"%s\"%s", name, rest);
        ok = strcmp(got + off, want) == 0 && sec > 1600000000LL &&
             llabs(sec - (long long)time(NULL)) < 60 && usec >= 0 && usec < 1000000;
    }
    if (!ok) {
        fprintf(stderr, "\n  line %u: got event %s  want %s%s\n", lineno, got, name, rest);
    }
    CU_assertImplementation(ok, lineno, "QMP event as expected", __FILE__, "", CU_FALSE);
    return ok;
}
#define QC_EVENT(c, name, rest) check_event((c), (name), (rest), __LINE__)

static bool check_greeting(struct qc *c)
{
    char got[4096];
    bool ok;

    qc_line(c, got, sizeof(got), QMP_WAIT_MS);
    ok = strncmp(got, greeting_head, strlen(greeting_head)) == 0 &&
         strstr(got, "\"minor\": ") && strstr(got, "\"major\": ") &&
         strstr(got, greeting_tail) &&
         strlen(got) > strlen(greeting_caps) &&
         strcmp(got + strlen(got) - strlen(greeting_caps), greeting_caps) == 0;
    if (!ok) {
        fprintf(stderr, "\n  greeting: %s\n", got);
    }
    IT_ASSERT(ok);
    return ok;
}

static int spawn_qmp(struct it_remote *r, const char *path)
{
    char spec[160];
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote", "-device", "edu,id=edu0",
        "-object", "x-remote-object,id=robj0,devid=edu0,fd={fd}",
        "-qmp", spec, "-name", "it-vm", NULL,
    };

    unlink(path);
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    return it_spawn(r, argv, 1);
}

/* Negotiated client: greeting read, capabilities accepted. */
static bool qc_ready(struct qc *c, const char *path)
{
    if (qc_connect(c, path) < 0) {
        return false;
    }
    return check_greeting(c) && qc_send(c, "{\"execute\":\"qmp_capabilities\"}") &&
           QC_EXPECT(c, rsp_empty);
}

static void test_session(void)
{
    struct it_remote r;
    struct qc c = { .fd = -1 };
    char path[108];

    sock_path(path, sizeof(path));
    IT_REQUIRE(spawn_qmp(&r, path) == 0);
    IT_REQUIRE(qc_connect(&c, path) == 0);
    IT_REQUIRE(check_greeting(&c));
    /* negotiation first */
    qc_send(&c, "{\"execute\":\"query-status\"}\n");
    QC_EXPECT(&c, rsp_negotiate_first);
    qc_send(&c, "{\"execute\":\"qmp_capabilities\"}\n");
    IT_REQUIRE(QC_EXPECT(&c, rsp_empty));
    qc_send(&c, "{\"execute\":\"qmp_capabilities\"}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities "
              "negotiation is already complete, command ignored\"}}\r\n");
    /* run state, with its events before the return */
    qc_send(&c, "{\"execute\":\"query-status\",\"id\":\"s1\"}");
    QC_EXPECT(&c, rsp_running_s1);
    qc_send(&c, "{\"execute\":\"stop\"}");
    QC_EVENT(&c, "STOP", "}\r\n");
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"stop\"}");     /* no transition, no event */
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"query-status\"}");
    QC_EXPECT(&c, rsp_paused);
    qc_send(&c, "{\"execute\":\"human-monitor-command\","
            "\"arguments\":{\"command-line\":\"info status\"}}");
    QC_EXPECT(&c, rsp_hmp_paused);
    /* the device keeps answering the proxy while paused */
    IT_EQ(it_cfg_rd(&r.px[0], 0x00, 4), 0x11e81234u);
    qc_send(&c, "{\"execute\":\"cont\"}");
    QC_EVENT(&c, "RESUME", "}\r\n");
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"system_reset\"}");
    QC_EVENT(&c, "RESET", ", \"data\": {\"guest\": false, \"reason\": "
             "\"host-qmp-system-reset\"}}\r\n");
    QC_EXPECT(&c, rsp_empty);
    /* devices */
    qc_send(&c, "{\"execute\":\"query-pci\"}");
    QC_EXPECT(&c, rsp_pci_edu);
    qc_send(&c, "{\"execute\":\"query-name\"}");
    QC_EXPECT(&c, "{\"return\": {\"name\": \"it-vm\"}}\r\n");
    qc_send(&c, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"nope\"},\"id\":9}");
    QC_EXPECT(&c, "{\"id\": 9, \"error\": {\"class\": \"DeviceNotFound\", \"desc\": "
              "\"Device 'nope' not found\"}}\r\n");
    /* errors */
    qc_send(&c, "{\"execute\":\"nosuch\",\"id\":\"x\"}");
    QC_EXPECT(&c, rsp_nosuch_x);
    qc_send(&c, "{\"execute\":\"query-status\",\"foo\":1,\"id\":7}");
    QC_EXPECT(&c, rsp_unexpected_foo);
    qc_send(&c, "{\"execute\":\"query-status\",\"arguments\":{\"x\":1}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' "
              "is unexpected\"}}\r\n");
    qc_send(&c, "foo\n");
    QC_EXPECT(&c, rsp_bad_keyword);
    qc_send(&c, "{\"execute\":\"query-status\",}");
    QC_EXPECT(&c, rsp_expecting_value);
    qc_send(&c, "{\"execute\":\"query-st");
    qc_send(&c, "\x01");
    QC_EXPECT(&c, rsp_stray);
    /* framing: two requests in one write, one request in pieces */
    qc_send(&c, "{'execute':'query-status'}{\"execute\":\"query-name\"}");
    QC_EXPECT(&c, "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
              "\"running\": true}}\r\n");
    QC_EXPECT(&c, "{\"return\": {\"name\": \"it-vm\"}}\r\n");
    qc_send(&c, "{\"execute\":");
    usleep(50000);
    qc_send(&c, "\"query-name\"");
    usleep(50000);
    qc_send(&c, "}");
    QC_EXPECT(&c, "{\"return\": {\"name\": \"it-vm\"}}\r\n");
    /* quit: SHUTDOWN, the return, then the connection and the process end */
    qc_send(&c, "{\"execute\":\"quit\"}");
    QC_EVENT(&c, "SHUTDOWN", ", \"data\": {\"guest\": false, \"reason\": "
             "\"host-qmp-quit\"}}\r\n");
    QC_EXPECT(&c, rsp_empty);
    QC_EXPECT(&c, "<EOF>");
    r.status = ob_proxy_proc_wait(&r.proc, 3000);
    IT_EQ(r.status, 0);
    IT_ASSERT(access(path, F_OK) != 0);     /* the socket file is removed */
out:
    qc_close(&c);
    it_stop(&r);
}

/* Several clients: events only to negotiated ones; half-close answers and
 * closes; a client vanishing does not disturb the others. */
static void test_clients(void)
{
    struct it_remote r;
    struct qc a = { .fd = -1 }, b = { .fd = -1 }, h = { .fd = -1 }, v = { .fd = -1 };
    char path[108], line[4096];

    sock_path(path, sizeof(path));
    IT_REQUIRE(spawn_qmp(&r, path) == 0);
    IT_REQUIRE(qc_ready(&a, path));
    IT_REQUIRE(qc_connect(&b, path) == 0);
    IT_REQUIRE(check_greeting(&b));
    /* a client that goes away in the middle of a request */
    IT_REQUIRE(qc_ready(&v, path));
    qc_send(&v, "{\"execute\":\"query-st");
    qc_close(&v);
    qc_send(&a, "{\"execute\":\"stop\"}");
    QC_EVENT(&a, "STOP", "}\r\n");
    QC_EXPECT(&a, rsp_empty);
    /* b has not negotiated: no event for it */
    qc_send(&b, "{\"execute\":\"qmp_capabilities\"}");
    QC_EXPECT(&b, rsp_empty);
    /* half-close: the request is answered, then the server closes */
    IT_REQUIRE(qc_ready(&h, path));
    qc_send(&h, "{\"execute\":\"cont\"}\n");
    shutdown(h.fd, SHUT_WR);
    QC_EVENT(&h, "RESUME", "}\r\n");
    QC_EXPECT(&h, rsp_empty);
    QC_EXPECT(&h, "<EOF>");
    QC_EVENT(&a, "RESUME", "}\r\n");
    QC_EVENT(&b, "RESUME", "}\r\n");
    /* nothing else is pending for a */
    qc_line(&a, line, sizeof(line), 100);
    IT_ASSERT(line[0] == '\0');
    qc_send(&b, "{\"execute\":\"query-status\",\"id\":\"s1\"}");
    QC_EXPECT(&b, rsp_running_s1);
    /* the proxy closing ends the process: SHUTDOWN to every client */
    ob_proxy_close(&r.px[0]);
    QC_EVENT(&a, "SHUTDOWN", ", \"data\": {\"guest\": true, \"reason\": "
             "\"guest-shutdown\"}}\r\n");
    QC_EXPECT(&a, "<EOF>");
    r.status = ob_proxy_proc_wait(&r.proc, 3000);
    IT_EQ(r.status, 0);
out:
    qc_close(&a);
    qc_close(&b);
    qc_close(&h);
    qc_close(&v);
    it_stop(&r);
}

/* query-block, device_add and device_del of a scsi-hd on an LSI bus;
 * blockdev-add and blockdev-del. */
static void test_scsi_hotplug(void)
{
    char path[108], img[64], drive[128], spec[160];
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote",
        "-device", "lsi53c895a,id=lsi0", "-drive", drive, "-qmp", spec, NULL,
    };
    struct it_remote r;
    struct qc c = { .fd = -1 };
    int fd;

    sock_path(path, sizeof(path));
    unlink(path);
    snprintf(img, sizeof(img), "/tmp/ob-it-qmp-%d.img", (int)getpid());
    fd = open(img, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    IT_REQUIRE(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
    close(fd);
    snprintf(drive, sizeof(drive), "id=d0,file=%s,format=raw,if=none", img);
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    IT_REQUIRE(it_spawn(&r, argv, 0) == 0);
    IT_REQUIRE(qc_ready(&c, path));
    qc_send(&c, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"scsi-hd\","
            "\"bus\":\"lsi0.0\",\"drive\":\"d0\",\"id\":\"hd0\"}}");
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"nosuchdev\"}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"'nosuchdev' is "
              "not a valid device model name\"}}\r\n");
    qc_send(&c, "{\"execute\":\"query-block\"}");
    {
        char want[1536];

        snprintf(want, sizeof(want), "{\"return\": [{\"io-status\": \"ok\", \"device\": "
                 "\"d0\", \"locked\": false, \"removable\": false, \"inserted\": "
                 "{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": "
                 "{\"virtual-size\": 1048576, \"filename\": \"%s\", \"format\": "
                 "\"raw\", \"actual-size\": 0, \"dirty-flag\": false}, \"iops_wr\": 0, "
                 "\"ro\": false, \"node-name\": \"#block157\", \"backing_file_depth\": 0, "
                 "\"drv\": \"raw\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, "
                 "\"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": "
                 "{\"no-flush\": false, \"direct\": false, \"writeback\": true}, "
                 "\"file\": \"%s\"}, \"qdev\": \"hd0\", \"type\": \"unknown\"}]}\r\n",
                 img, img);
        QC_EXPECT(&c, want);
    }
    /* the unplug completes after the return */
    qc_send(&c, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hd0\"}}");
    QC_EXPECT(&c, rsp_empty);
    QC_EVENT(&c, "DEVICE_DELETED", ", \"data\": {\"device\": \"hd0\", \"path\": "
             "\"/machine/peripheral/hd0\"}}\r\n");
    qc_send(&c, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hd0\"}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'hd0' "
              "not found\"}}\r\n");
    /* a node made by blockdev-add, used, then released */
    {
        char add[256];

        snprintf(add, sizeof(add), "{\"execute\":\"blockdev-add\",\"arguments\":"
                 "{\"driver\":\"raw\",\"node-name\":\"disk1\",\"file\":"
                 "{\"driver\":\"file\",\"filename\":\"%s\"}}}", img);
        qc_send(&c, add);
        QC_EXPECT(&c, rsp_empty);
    }
    qc_send(&c, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"scsi-hd\","
            "\"bus\":\"lsi0.0\",\"drive\":\"disk1\",\"id\":\"hd1\",\"scsi-id\":1}}");
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"disk1\"}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Node disk1 is "
              "in use\"}}\r\n");
    qc_send(&c, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hd1\"}}");
    QC_EXPECT(&c, rsp_empty);
    QC_EVENT(&c, "DEVICE_DELETED", ", \"data\": {\"device\": \"hd1\", \"path\": "
             "\"/machine/peripheral/hd1\"}}\r\n");
    qc_send(&c, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"disk1\"}}");
    QC_EXPECT(&c, rsp_empty);
    qc_send(&c, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"disk1\"}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Failed to find "
              "node with node-name='disk1'\"}}\r\n");
    qc_send(&c, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"d0\"}}");
    QC_EXPECT(&c, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Node d0 is not "
              "owned by the monitor\"}}\r\n");
    qc_send(&c, "{\"execute\":\"quit\"}");
    QC_EVENT(&c, "SHUTDOWN", ", \"data\": {\"guest\": false, \"reason\": "
             "\"host-qmp-quit\"}}\r\n");
    QC_EXPECT(&c, rsp_empty);
    r.status = ob_proxy_proc_wait(&r.proc, 3000);
    IT_EQ(r.status, 0);
out:
    qc_close(&c);
    it_stop(&r);
    unlink(img);
}

/* A listening socket for the remote to inherit (-1 on failure). */
static int listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* Every endpoint kind at once: -qmp unix, -chardev path + -mon, -chardev
 * fd=N (an inherited listening socket) + -mon; one event reaches all. */
static void test_endpoints(void)
{
    char p0[80], p1[108], p2[108], q0[160], c1[160], c2[96];
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote", "-device", "edu,id=edu0",
        "-qmp", q0,
        "-chardev", c1, "-mon", "chardev=m1,mode=control",
        "-chardev", c2, "-mon", "chardev=m2,mode=control", NULL,
    };
    struct ob_proxy_spawn_opts o = { -1, -1, NULL, 0, 0 };
    struct qc a = { .fd = -1 }, b = { .fd = -1 }, c = { .fd = -1 };
    struct it_remote r;
    char err[OB_PROXY_ERRLEN];
    int lfd;
    unsigned i;

    memset(&r, 0, sizeof(r));
    r.status = -1;
    r.errfd = -1;
    r.proc.pid = -1;
    for (i = 0; i < IT_MAX_CHANS; i++) {
        ob_proxy_init(&r.px[i]);
    }
    sock_path(p0, sizeof(p0));
    snprintf(p1, sizeof(p1), "%s.1", p0);
    snprintf(p2, sizeof(p2), "%s.2", p0);
    unlink(p0);
    unlink(p1);
    lfd = listen_unix(p2);
    IT_REQUIRE(lfd >= 0);
    snprintf(q0, sizeof(q0), "unix:%s,server,nowait", p0);     /* legacy spelling */
    snprintf(c1, sizeof(c1), "socket,id=m1,path=%s,server=on,wait=off", p1);
    snprintf(c2, sizeof(c2), "socket,id=m2,fd=%d", lfd);
    o.keep_fds = &lfd;
    o.nkeep = 1;
    o.stderr_fd = r.errfd = memfd_create("it-stderr", MFD_CLOEXEC);
    IT_REQUIRE(r.errfd >= 0);
    IT_REQUIRE(ob_proxy_spawn(&r.proc, argv, r.px, 0, &o, err, sizeof(err)) == 0);
    close(lfd);
    lfd = -1;
    IT_REQUIRE(qc_ready(&a, p0));
    IT_REQUIRE(qc_ready(&b, p1));
    IT_REQUIRE(qc_ready(&c, p2));
    qc_send(&c, "{\"execute\":\"stop\"}");
    QC_EVENT(&c, "STOP", "}\r\n");
    QC_EXPECT(&c, rsp_empty);
    QC_EVENT(&a, "STOP", "}\r\n");
    QC_EVENT(&b, "STOP", "}\r\n");
    qc_send(&b, "{\"execute\":\"quit\"}");
    QC_EVENT(&b, "SHUTDOWN", ", \"data\": {\"guest\": false, \"reason\": "
             "\"host-qmp-quit\"}}\r\n");
    QC_EXPECT(&b, rsp_empty);
    QC_EVENT(&a, "SHUTDOWN", ", \"data\": {\"guest\": false, \"reason\": "
             "\"host-qmp-quit\"}}\r\n");
    QC_EXPECT(&a, "<EOF>");
    r.status = ob_proxy_proc_wait(&r.proc, 3000);
    IT_EQ(r.status, 0);
out:
    if (lfd >= 0) {
        close(lfd);
    }
    qc_close(&a);
    qc_close(&b);
    qc_close(&c);
    it_stop(&r);
    unlink(p2);
}

static void test_bind_error(void)
{
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote", "-device", "edu,id=edu0",
        "-qmp", "unix:/nonexistent-dir/q.sock,server=on,wait=off", NULL,
    };
    static const char want[] = "outboard: -qmp unix:/nonexistent-dir/q.sock,server=on,"
                               "wait=off: Failed to bind socket to /nonexistent-dir/"
                               "q.sock: No such file or directory\n";
    struct it_remote r;
    char out[4096];

    IT_REQUIRE(it_spawn(&r, argv, 0) == 0);
    r.status = ob_proxy_proc_wait(&r.proc, 3000);
    IT_EQ(r.status, 1);
    it_stderr(&r, out, sizeof(out));
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "\n  got: %s  want: %s", out, want);
        CU_FAIL("wrong error message");
    }
out:
    it_stop(&r);
}

/* A client flooding the monitor: every request is answered, in order,
 * at no more than the request budget (OB_QMP_RATE after a burst), while
 * the proxy's config reads keep being answered. */
static void test_flood_is_rate_limited(void)
{
    enum { N = 400 };
    struct it_remote r;
    struct qc c = { .fd = -1 };
    char path[108], line[256], req[64];
    uint64_t t0, t1, id;
    unsigned i;

    sock_path(path, sizeof(path));
    IT_REQUIRE(spawn_qmp(&r, path) == 0);
    IT_REQUIRE(qc_ready(&c, path));
    t0 = ob_proxy_now_ns();
    for (i = 0; i < N; i++) {
        snprintf(req, sizeof(req), "{\"execute\":\"query-name\",\"id\":%u}", i);
        IT_REQUIRE(qc_send(&c, req));
    }
    /* the proxy is served meanwhile */
    IT_EQ(it_cfg_rd(&r.px[0], 0, 2), 0x1234);
    for (i = 0; i < N; i++) {
        const char *p;

        qc_line(&c, line, sizeof(line), 3000);
        p = strstr(line, "\"id\": ");
        IT_REQUIRE(p != NULL);
        id = strtoull(p + 6, NULL, 10);
        IT_EQ(id, i);
    }
    t1 = ob_proxy_now_ns();
    /* N - OB_QMP_BURST requests wait for the budget: >= 67 ms at 5000/s */
    IT_ASSERT(t1 - t0 >= (uint64_t)((N - OB_QMP_BURST) / OB_QMP_RATE * 1e9 * 0.9));
out:
    qc_close(&c);
    it_stop(&r);
}

static const struct it_test tests[] = {
    IT_TEST(test_flood_is_rate_limited),
    IT_TEST(test_session),
    IT_TEST(test_clients),
    IT_TEST(test_scsi_hotplug),
    IT_TEST(test_endpoints),
    IT_TEST(test_bind_error),
    IT_END,
};

int it_qmp_register(void)
{
    return it_add_suite("qmp", tests);
}
