/*
 * ob-rtt - round-trip latency of one side-effect-free register read through
 * the proxy driver, against any mpqemu remote (outboard by default, or
 * QEMU's x-remote), plus the remote's memory and CPU use. Prints one line
 * of key=value results.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/proxy.h"

struct rtt_opts {
    long iters;
    long warmup;
    unsigned bar;
    uint64_t off;
    unsigned size;
    uint64_t ram_mib;
    int cpu_self;
    int cpu_remote;
    int wait_reset_ms;
    char **argv;            /* remote; NULL = outboard with edu */
};

struct rtt_result {
    struct ob_proxy_lat lat;
    uint64_t value;
    uint64_t wall_ns;
    long long cpu_loop_ns;  /* remote CPU during the measured loop */
    long long cpu_total_ns; /* remote CPU since it started */
    long rss_kib;
};

static void usage(FILE *fp)
{
    fprintf(fp,
"usage: ob-rtt [OPTIONS] [-- REMOTE [ARG]...]\n"
"Starts REMOTE ('{fd}' = its end of the socketpair; default: outboard\n"
"serving edu), brings the function up as QEMU and the firmware would,\n"
"then times N BAR reads of BAR/OFF.\n"
"  --iters N         measured reads (default 20000)\n"
"  --warmup N        reads before measuring (default 2000)\n"
"  --bar N --off X --size S   what to read (default BAR0, 0x0, 4 bytes)\n"
"  --ram-mib N       guest RAM shared with SYNC_SYSMEM (default 16)\n"
"  --cpu-self C      pin this process to CPU C (-1: not pinned)\n"
"  --cpu-remote C    pin the remote to CPU C (-1: not pinned)\n"
"  --wait-reset MS   first wait for the remote's own start-up reset of the\n"
"                    function (needed for QEMU's x-remote)\n"
"Output: 'rtt key=value ...' (times in ns; remote_cpu_pct = remote CPU time\n"
"during the measured reads / their wall time).\n");
}

static int parse_opts(int argc, char **argv, struct rtt_opts *o)
{
    static const struct option lopts[] = {
        { "iters", required_argument, NULL, 'n' },
        { "warmup", required_argument, NULL, 'w' },
        { "bar", required_argument, NULL, 'b' },
        { "off", required_argument, NULL, 'o' },
        { "size", required_argument, NULL, 's' },
        { "ram-mib", required_argument, NULL, 'r' },
        { "cpu-self", required_argument, NULL, 'S' },
        { "cpu-remote", required_argument, NULL, 'R' },
        { "wait-reset", required_argument, NULL, 'W' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->iters = atol(optarg); break;
        case 'w': o->warmup = atol(optarg); break;
        case 'b': o->bar = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'o': o->off = strtoull(optarg, NULL, 0); break;
        case 's': o->size = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'r': o->ram_mib = strtoull(optarg, NULL, 0); break;
        case 'S': o->cpu_self = atoi(optarg); break;
        case 'R': o->cpu_remote = atoi(optarg); break;
        case 'W': o->wait_reset_ms = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (o->iters <= 0 || o->warmup < 0 || o->bar >= OB_PROXY_NUM_BARS) {
        usage(stderr);
        return -1;
    }
    o->argv = optind < argc ? argv + optind : NULL;
    return 0;
}

static int measure(struct ob_proxy *px, const struct rtt_opts *o, uint64_t *samples,
                   struct rtt_result *res)
{
    long long cpu0 = 0;
    uint64_t t0 = 0;
    long i;

    for (i = -o->warmup; i < o->iters; i++) {
        uint64_t t = ob_proxy_now_ns();

        if (i == 0) {
            cpu0 = ob_proxy_cpu_ns(px->pid);
            t0 = t;
        }
        if (ob_proxy_barn_read(px, o->bar, o->off, o->size, &res->value) < 0) {
            fprintf(stderr, "ob-rtt: read %ld: %s\n", i, px->err);
            return -1;
        }
        if (i >= 0) {
            samples[i] = ob_proxy_now_ns() - t;
        }
    }
    res->wall_ns = ob_proxy_now_ns() - t0;
    res->cpu_total_ns = ob_proxy_cpu_ns(px->pid);
    res->cpu_loop_ns = res->cpu_total_ns - cpu0;
    res->rss_kib = ob_proxy_rss_kib(px->pid);
    ob_proxy_lat_summarize(samples, (size_t)o->iters, &res->lat);
    return 0;
}

static void print_result(const struct rtt_opts *o, const struct rtt_result *r, int status)
{
    printf("rtt iters=%ld mean_ns=%.0f p50_ns=%llu p99_ns=%llu min_ns=%llu max_ns=%llu "
           "value=0x%llx rss_kib=%ld remote_cpu_ms=%.1f remote_cpu_total_ms=%.1f "
           "remote_cpu_pct=%.1f wall_ms=%.1f cpu_self=%d cpu_remote=%d exit=%d\n",
           o->iters, r->lat.mean_ns, (unsigned long long)r->lat.p50_ns,
           (unsigned long long)r->lat.p99_ns, (unsigned long long)r->lat.min_ns,
           (unsigned long long)r->lat.max_ns, (unsigned long long)r->value, r->rss_kib,
           (double)r->cpu_loop_ns / 1e6, (double)r->cpu_total_ns / 1e6,
           100.0 * (double)r->cpu_loop_ns / (double)r->wall_ns,
           (double)r->wall_ns / 1e6, o->cpu_self, o->cpu_remote, status);
}

static int setup(struct ob_proxy *px, const struct rtt_opts *o)
{
    if (o->wait_reset_ms > 0 && ob_proxy_wait_remote_reset(px, o->wait_reset_ms) < 0) {
        return -1;
    }
    return ob_proxy_bringup(px, o->ram_mib << 20, OB_PROXY_CMD_IO | OB_PROXY_CMD_MEM |
                                                  OB_PROXY_CMD_MASTER);
}

int main(int argc, char **argv)
{
    struct rtt_opts o = { 20000, 2000, 0, 0, 4, 16, -1, -1, 0, NULL };
    struct ob_proxy_spawn_opts so = { -1, -1, NULL, 0, 0 };
    struct rtt_result res;
    struct ob_proxy_proc proc;
    struct ob_proxy px;
    char bin[1024], err[OB_PROXY_ERRLEN];
    char *defargv[] = {
        (char *)ob_proxy_default_remote(bin, sizeof(bin)), "-machine", "x-remote",
        "-device", "edu,id=dev0",
        "-object", "x-remote-object,id=robj0,devid=dev0,fd={fd}", NULL,
    };
    uint64_t *samples;
    int rc = 1, status;

    memset(&res, 0, sizeof(res));
    if (parse_opts(argc, argv, &o) < 0) {
        return 2;
    }
    samples = calloc((size_t)o.iters, sizeof(*samples));
    if (!samples) {
        perror("ob-rtt");
        return 1;
    }
    if (o.cpu_remote >= 0) {
        so.cpu_mask = 1ul << o.cpu_remote;
    }
    ob_proxy_pin_self(o.cpu_self);
    ob_proxy_init(&px);
    if (ob_proxy_spawn(&proc, o.argv ? o.argv : defargv, &px, 1, &so, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "ob-rtt: %s\n", err);
        free(samples);
        return 1;
    }
    if (setup(&px, &o) < 0) {
        fprintf(stderr, "ob-rtt: setup: %s\n", px.err);
    } else if (measure(&px, &o, samples, &res) == 0) {
        rc = 0;
    }
    ob_proxy_fini(&px);
    status = ob_proxy_proc_wait(&proc, 3000);
    if (rc == 0) {
        print_result(&o, &res, status);
    }
    free(samples);
    return rc;
}
