/*
 * ob-disk - disk benchmark through an LSI53C895A + scsi-hd remote, driven by
 * the proxy driver's SCSI initiator (proxy_lsi.h) with no QEMU in front:
 * random 4 KiB reads and writes at queue depth 1 (untagged) and N
 * (tagged), sequential 1 MiB reads and writes, each for a fixed time.
 * Prints one line of key=value results per job, including the remote's
 * CPU time per I/O (all its threads, /proc/PID/task/TID/schedstat).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/proxy_lsi.h"

#define BLOCK          512u
#define MAX_QD         OB_PROXY_LSI_SLOTS
#define BUF_GPA        0x200000u
#define WARMUP_NS      300000000ull

struct job {
    const char *name;
    bool write;
    bool seq;
    uint32_t bs;
    unsigned qd;            /* 0: the --qd value */
};

static const struct job all_jobs[] = {
    { "randread-4k-qd1", false, false, 4096, 1 },
    { "randwrite-4k-qd1", true, false, 4096, 1 },
    { "randread-4k-qdN", false, false, 4096, 0 },
    { "randwrite-4k-qdN", true, false, 4096, 0 },
    { "seqread-1m-qd1", false, true, 1u << 20, 1 },
    { "seqwrite-1m-qd1", true, true, 1u << 20, 1 },
};
#define N_JOBS (sizeof(all_jobs) / sizeof(all_jobs[0]))

struct opts {
    const char *image;
    const char *name;       /* remote label in the output */
    double seconds;
    unsigned qd;
    int wait_reset_ms;
    const char *only;       /* comma list of job names, NULL = all */
    bool classic;           /* the classic initiator instead of the queued one */
    char **argv;            /* remote */
};

struct result {
    uint64_t ios;
    uint64_t bytes;
    uint64_t wall_ns;
    long long cpu_ns;
    uint64_t irqs;
    uint64_t wait_ns, resel_ns, sigp, resel;
    uint64_t requests;          /* proxy round trips (register accesses) */
    struct ob_proxy_lat lat;
};

static void usage(FILE *fp)
{
    fprintf(fp,
"usage: ob-disk --image PATH [OPTIONS] -- REMOTE [ARG]...\n"
"REMOTE serves an lsi53c895a with a scsi-hd at target 0 on the raw image\n"
"PATH ('{fd}' = its end of the socketpair). Jobs: randread-4k-qd1,\n"
"randwrite-4k-qd1, randread-4k-qdN, randwrite-4k-qdN (tagged),\n"
"seqread-1m-qd1, seqwrite-1m-qd1.\n"
"  --name NAME       label of the remote in the output (default: remote)\n"
"  --seconds S       measured time per job (default 2; 0.3 s warm-up first)\n"
"  --qd N            queue depth of the qdN jobs (default 32, max %u)\n"
"  --only LIST       comma list of jobs to run\n"
"  --wait-reset MS   first wait for the remote's start-up reset (QEMU)\n"
"  --initiator MODE  queued (default: SCRIPTS run the queue, as Linux's\n"
"                    driver) or classic (the host handles every phase)\n"
"Output: 'disk key=value ...' per job; times in ns unless named _us.\n",
            MAX_QD);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        { "image", required_argument, NULL, 'i' },
        { "name", required_argument, NULL, 'N' },
        { "seconds", required_argument, NULL, 's' },
        { "qd", required_argument, NULL, 'q' },
        { "only", required_argument, NULL, 'o' },
        { "wait-reset", required_argument, NULL, 'W' },
        { "initiator", required_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
        switch (c) {
        case 'i': o->image = optarg; break;
        case 'N': o->name = optarg; break;
        case 's': o->seconds = atof(optarg); break;
        case 'q': o->qd = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'o': o->only = optarg; break;
        case 'W': o->wait_reset_ms = atoi(optarg); break;
        case 'I':
            if (strcmp(optarg, "classic") && strcmp(optarg, "queued")) {
                usage(stderr);
                return -1;
            }
            o->classic = strcmp(optarg, "classic") == 0;
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (!o->image || optind >= argc || o->seconds <= 0 || o->qd == 0 || o->qd > MAX_QD) {
        usage(stderr);
        return -1;
    }
    o->argv = argv + optind;
    return 0;
}

static bool wanted(const struct opts *o, const char *name)
{
    const char *p = o->only;
    size_t len = strlen(name);

    if (!p) {
        return true;
    }
    while (*p) {
        size_t n = strcspn(p, ",");

        if (n == len && strncmp(p, name, n) == 0) {
            return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void set_rw(struct ob_proxy_lsi_req *q, bool write, uint64_t lba, uint32_t blocks)
{
    q->cdb_len = 10;
    memset(q->cdb, 0, sizeof(q->cdb));
    q->cdb[0] = write ? 0x2a : 0x28;
    q->cdb[2] = (uint8_t)(lba >> 24);
    q->cdb[3] = (uint8_t)(lba >> 16);
    q->cdb[4] = (uint8_t)(lba >> 8);
    q->cdb[5] = (uint8_t)lba;
    q->cdb[7] = (uint8_t)(blocks >> 8);
    q->cdb[8] = (uint8_t)blocks;
}

/* READ CAPACITY(10), after TEST UNIT READY until the power-on unit
 * attention is gone. Returns the number of blocks, 0 on error. */
static uint64_t capacity(struct ob_proxy_lsi *lsi)
{
    static const uint8_t tur[6] = { 0 };
    static const uint8_t rc10[10] = { 0x25 };
    struct ob_proxy_lsi_result res;
    uint8_t buf[8];
    int i;

    for (i = 0; i < 3; i++) {
        if (ob_proxy_lsi_exec(lsi, 0, 0, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res) < 0) {
            return 0;
        }
        if (res.outcome == OB_PROXY_LSI_DONE && res.status == 0) {
            break;
        }
    }
    if (ob_proxy_lsi_exec(lsi, 0, 0, rc10, 10, OB_PROXY_LSI_IN, buf, 8, &res) < 0 ||
        res.outcome != OB_PROXY_LSI_DONE || res.status != 0) {
        return 0;
    }
    if (((uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7]) !=
        BLOCK) {
        return 0;
    }
    return ((uint64_t)buf[0] << 24 | (uint64_t)buf[1] << 16 | (uint64_t)buf[2] << 8 | buf[3]) + 1;
}

static int run_job(struct ob_proxy_lsi *lsi, const struct job *j, unsigned qd, uint64_t blocks,
                   double seconds, struct result *res)
{
    struct ob_proxy_lsi_req req[MAX_QD], *done[MAX_QD];
    uint64_t start_ns[MAX_QD];
    uint32_t nblk = j->bs / BLOCK;
    uint64_t span = blocks / nblk;      /* I/O-sized positions on the disk */
    uint64_t rng = 0x9e3779b97f4a7c15ull, seq = 0, cap;
    uint64_t *samples;
    uint64_t t_begin, t0 = 0, t_end, now;
    long long cpu0 = 0;
    uint64_t irq0 = 0;
    bool measuring = false, stopping = false;
    unsigned i, inflight = 0;
    pid_t pid = lsi->px->pid;

    cap = (uint64_t)(seconds * 2e6) + 1024;     /* >= 2 M IOPS worth */
    samples = calloc(cap, sizeof(*samples));
    if (!samples) {
        fprintf(stderr, "ob-disk: out of memory\n");
        return -1;
    }
    memset(res, 0, sizeof(*res));
    memset(req, 0, sizeof(req));
    t_begin = ob_proxy_now_ns();
    t_end = t_begin + WARMUP_NS + (uint64_t)(seconds * 1e9);
    for (i = 0; i < qd; i++) {
        req[i].slot = -1;
    }
    for (;;) {
        /* keep QD commands outstanding until the time is up */
        for (i = 0; i < qd && !stopping; i++) {
            struct ob_proxy_lsi_req *q = &req[i];
            uint64_t pos;

            if (q->slot >= 0) {
                continue;
            }
            pos = j->seq ? seq++ % span : rng_next(&rng) % span;
            q->target = 0;
            q->tagged = qd > 1;
            set_rw(q, j->write, pos * nblk, nblk);
            q->dir = j->write ? OB_PROXY_LSI_OUT : OB_PROXY_LSI_IN;
            q->data_gpa = BUF_GPA + (uint64_t)i * j->bs;
            q->data_len = j->bs;
            q->opaque = (void *)(uintptr_t)i;
            start_ns[i] = ob_proxy_now_ns();
            if (ob_proxy_lsi_submit(lsi, q) < 0) {
                fprintf(stderr, "ob-disk: %s: submit: %s\n", j->name, lsi->err);
                goto fail;
            }
            inflight++;
        }
        if (inflight == 0) {
            break;
        }
        {
            int n = ob_proxy_lsi_poll(lsi, 5000, done, MAX_QD), k;

            if (n <= 0) {
                fprintf(stderr, "ob-disk: %s: poll: %s\n", j->name,
                        n < 0 ? lsi->err : "no completion in 5 s");
                goto fail;
            }
            now = ob_proxy_now_ns();
            for (k = 0; k < n; k++) {
                struct ob_proxy_lsi_req *q = done[k];
                unsigned idx = (unsigned)(uintptr_t)q->opaque;

                if (q->outcome != OB_PROXY_LSI_DONE || q->status != 0 || q->residual) {
                    fprintf(stderr, "ob-disk: %s: command failed: outcome %d status %#x "
                            "residual %u (%s)\n", j->name, q->outcome, q->status,
                            q->residual, lsi->err);
                    goto fail;
                }
                q->slot = -1;
                inflight--;
                if (measuring && start_ns[idx] >= t0 && res->ios < cap) {
                    samples[res->ios++] = now - start_ns[idx];
                }
            }
        }
        if (!measuring && now >= t_begin + WARMUP_NS) {
            measuring = true;
            t0 = ob_proxy_now_ns();
            cpu0 = ob_proxy_cpu_ns(pid);
            irq0 = lsi->stats.interrupts;
            res->wait_ns = lsi->stats.irq_wait_ns;
            res->resel_ns = lsi->stats.wait_resel_ns;
            res->sigp = lsi->stats.sigp;
            res->resel = lsi->stats.reselections;
            res->requests = lsi->px->requests;
        }
        if (now >= t_end) {
            stopping = true;
        }
    }
    res->wall_ns = ob_proxy_now_ns() - t0;
    res->cpu_ns = ob_proxy_cpu_ns(pid) - cpu0;
    res->irqs = lsi->stats.interrupts - irq0;
    res->wait_ns = lsi->stats.irq_wait_ns - res->wait_ns;
    res->resel_ns = lsi->stats.wait_resel_ns - res->resel_ns;
    res->sigp = lsi->stats.sigp - res->sigp;
    res->resel = lsi->stats.reselections - res->resel;
    res->requests = lsi->px->requests - res->requests;
    res->bytes = res->ios * j->bs;
    ob_proxy_lat_summarize(samples, res->ios, &res->lat);
    free(samples);
    return res->ios ? 0 : -1;
fail:
    free(samples);
    return -1;
}

int main(int argc, char **argv)
{
    struct opts o = { NULL, "remote", 2.0, 32, 0, NULL, false, NULL };
    struct ob_proxy_proc proc;
    struct ob_proxy px;
    struct ob_proxy_lsi lsi;
    char err[OB_PROXY_ERRLEN];
    uint64_t blocks;
    size_t i;
    int rc = 1, status;

    if (parse_opts(argc, argv, &o) < 0) {
        return 2;
    }
    ob_proxy_init(&px);
    if (ob_proxy_spawn(&proc, o.argv, &px, 1, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "ob-disk: %s\n", err);
        return 1;
    }
    if (o.wait_reset_ms > 0 && ob_proxy_wait_remote_reset(&px, o.wait_reset_ms) < 0) {
        fprintf(stderr, "ob-disk: %s\n", px.err);
        goto out;
    }
    if (ob_proxy_bringup(&px, 64u << 20, OB_PROXY_CMD_IO | OB_PROXY_CMD_MEM |
                                         OB_PROXY_CMD_MASTER) < 0) {
        fprintf(stderr, "ob-disk: bring-up: %s\n", px.err);
        goto out;
    }
    if ((o.classic ? ob_proxy_lsi_init(&lsi, &px) : ob_proxy_lsi_init_queued(&lsi, &px)) < 0) {
        fprintf(stderr, "ob-disk: %s\n", lsi.err);
        goto out;
    }
    blocks = capacity(&lsi);
    if (blocks < 4096) {
        fprintf(stderr, "ob-disk: no usable disk at target 0 (%s)\n", lsi.err);
        goto out;
    }
    memset(ob_proxy_gpa(&px, BUF_GPA, MAX_QD * 4096u), 0xa5, MAX_QD * 4096u);
    rc = 0;
    for (i = 0; i < N_JOBS && rc == 0; i++) {
        const struct job *j = &all_jobs[i];
        unsigned qd = j->qd ? j->qd : o.qd;
        struct result r;
        char name[64];

        snprintf(name, sizeof(name), "%s", j->name);
        if (!j->qd) {
            snprintf(name + strlen(name) - 1, sizeof(name) - strlen(name) + 1, "%u", qd);
        }
        if (!wanted(&o, j->name) && !wanted(&o, name)) {
            continue;
        }
        if (run_job(&lsi, j, qd, blocks, o.seconds, &r) < 0) {
            rc = 1;
            break;
        }
        printf("disk remote=%s initiator=%s job=%s bs=%u qd=%u ios=%llu iops=%.0f mib_s=%.1f "
               "mean_us=%.1f p50_us=%.1f p99_us=%.1f cpu_us_per_io=%.2f cpu_pct=%.1f "
               "irqs_per_io=%.2f irq_wait_us_per_io=%.1f resel_wait_us_per_io=%.1f "
               "sigp_per_io=%.2f resel_per_io=%.2f rtt_per_io=%.2f rss_kib=%ld\n",
               o.name, o.classic ? "classic" : "queued", name, j->bs, qd, (unsigned long long)r.ios,
               (double)r.ios * 1e9 / (double)r.wall_ns,
               (double)r.bytes * 1e3 / (double)r.wall_ns / 1.048576,
               r.lat.mean_ns / 1e3, (double)r.lat.p50_ns / 1e3, (double)r.lat.p99_ns / 1e3,
               (double)r.cpu_ns / 1e3 / (double)r.ios,
               100.0 * (double)r.cpu_ns / (double)r.wall_ns,
               (double)r.irqs / (double)r.ios, (double)r.wait_ns / 1e3 / (double)r.ios,
               (double)r.resel_ns / 1e3 / (double)r.ios, (double)r.sigp / (double)r.ios,
               (double)r.resel / (double)r.ios, (double)r.requests / (double)r.ios,
               ob_proxy_rss_kib(px.pid));
        fflush(stdout);
    }
out:
    ob_proxy_fini(&px);
    status = ob_proxy_proc_wait(&proc, 5000);
    if (status != 0) {
        fprintf(stderr, "ob-disk: remote exited with %d\n", status);
    }
    return rc;
}
