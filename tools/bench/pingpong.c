/*
 * ob-pingpong - the floor for a register round trip: two processes doing
 * blocking request/reply over a UNIX stream socketpair with the sizes of an
 * mpqemu BAR_READ (16 + 24 bytes) and its RET (16 + 8 bytes), no protocol
 * work at all. Prints one line of key=value results.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outboard/proxy.h"

#define REQ_LEN (OB_MPQ_HDR_LEN + OB_MPQ_BAR_LEN)
#define REP_LEN OB_MPQ_RET_LEN

struct pp_opts {
    long iters;
    long warmup;
    int cpu_self;
    int cpu_peer;
};

static void usage(FILE *fp)
{
    fprintf(fp,
"usage: ob-pingpong [--iters N] [--warmup N] [--cpu-self C] [--cpu-peer C]\n"
"Blocking request (%u bytes) / reply (%u bytes) between two processes over a\n"
"socketpair; --cpu-* pin the measuring process and its peer to one CPU each\n"
"(-1: not pinned). Output: one line 'pingpong key=value ...' (times in ns).\n",
            (unsigned)REQ_LEN, (unsigned)REP_LEN);
}

/* Reads exactly LEN bytes; 0 at EOF, -1 on error, else LEN. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static void peer_loop(int fd, int cpu)
{
    uint8_t req[REQ_LEN], rep[REP_LEN];

    ob_proxy_pin_self(cpu);
    ob_mpq_encode_ret(rep, 0x010000ed, true);
    while (read_full(fd, req, sizeof(req)) == (ssize_t)sizeof(req)) {
        if (write(fd, rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
            break;
        }
    }
    _exit(0);
}

static int parse_opts(int argc, char **argv, struct pp_opts *o)
{
    static const struct option lopts[] = {
        { "iters", required_argument, NULL, 'n' },
        { "warmup", required_argument, NULL, 'w' },
        { "cpu-self", required_argument, NULL, 's' },
        { "cpu-peer", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->iters = atol(optarg); break;
        case 'w': o->warmup = atol(optarg); break;
        case 's': o->cpu_self = atoi(optarg); break;
        case 'p': o->cpu_peer = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (o->iters <= 0 || o->warmup < 0 || optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct pp_opts o = { 20000, 2000, -1, -1 };
    uint8_t req[REQ_LEN], rep[REP_LEN];
    uint64_t *samples = NULL, t0 = 0, wall;
    struct ob_proxy_lat lat;
    long long cpu0 = -1, cpu1;
    int sv[2], rc = 1;
    pid_t pid;
    long i;

    if (parse_opts(argc, argv, &o) < 0) {
        return 2;
    }
    samples = calloc((size_t)o.iters, sizeof(*samples));
    if (!samples || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("ob-pingpong");
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    pid = fork();
    if (pid < 0) {
        perror("ob-pingpong: fork");
        goto out;
    }
    if (pid == 0) {
        close(sv[0]);
        peer_loop(sv[1], o.cpu_peer);
    }
    close(sv[1]);
    ob_proxy_pin_self(o.cpu_self);
    ob_mpq_encode_bar(req, OB_MPQ_BAR_READ, 0xfe000000u, 0, 4, true);
    for (i = -o.warmup; i < o.iters; i++) {
        uint64_t t = ob_proxy_now_ns();

        if (i == 0) {
            cpu0 = ob_proxy_cpu_ns(pid);
            t0 = t;
        }
        if (write(sv[0], req, sizeof(req)) != (ssize_t)sizeof(req) ||
            read_full(sv[0], rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
            perror("ob-pingpong: round trip");
            goto reap;
        }
        if (i >= 0) {
            samples[i] = ob_proxy_now_ns() - t;
        }
    }
    wall = ob_proxy_now_ns() - t0;
    cpu1 = ob_proxy_cpu_ns(pid);
    ob_proxy_lat_summarize(samples, (size_t)o.iters, &lat);
    printf("pingpong iters=%ld mean_ns=%.0f p50_ns=%llu p99_ns=%llu min_ns=%llu "
           "max_ns=%llu peer_cpu_pct=%.1f remote_cpu_ms=%.1f rss_kib=%ld cpu_self=%d "
           "cpu_peer=%d\n",
           o.iters, lat.mean_ns, (unsigned long long)lat.p50_ns,
           (unsigned long long)lat.p99_ns, (unsigned long long)lat.min_ns,
           (unsigned long long)lat.max_ns,
           cpu0 >= 0 && cpu1 >= 0 ? 100.0 * (double)(cpu1 - cpu0) / (double)wall : -1.0,
           cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / 1e6 : -1.0,
           ob_proxy_rss_kib(pid), o.cpu_self, o.cpu_peer);
    rc = 0;
reap:
    close(sv[0]);
    sv[0] = -1;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
out:
    free(samples);
    return rc;
}
