/*
 * spawn.c - starting a remote with inherited socketpair ends, waiting for
 * it (never forever), and reading its resource use from /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "priv.h"

#define ARG_MAX_LEN 4096

/* Moves FD to a number >= 3 (so it cannot collide with stdio in the child),
 * keeping close-on-exec. Returns the new fd or -1. */
static int above_stdio(int fd)
{
    int nfd;

    if (fd >= 3) {
        return fd;
    }
    nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return nfd;
}

/* Writes ARG into OUT with every {fd}/{fdN} replaced by CHILD_FDS[N]. */
static int substitute(const char *arg, const int *child_fds, unsigned n, char *out,
                      size_t outlen, char *err, size_t errlen)
{
    size_t o = 0;

    while (*arg) {
        unsigned idx = 0;
        size_t skip = 0;
        int w;

        if (strncmp(arg, "{fd}", 4) == 0) {
            skip = 4;
        } else if (strncmp(arg, "{fd", 3) == 0 && arg[3] >= '0' && arg[3] <= '9' &&
                   arg[4] == '}') {
            idx = (unsigned)(arg[3] - '0');
            skip = 5;
        }
        if (skip == 0) {
            if (o + 1 >= outlen) {
                goto too_long;
            }
            out[o++] = *arg++;
            continue;
        }
        if (idx >= n) {
            snprintf(err, errlen, "argument uses {fd%u} but there are %u connections",
                     idx, n);
            return -1;
        }
        w = snprintf(out + o, outlen - o, "%d", child_fds[idx]);
        if (w < 0 || (size_t)w >= outlen - o) {
            goto too_long;
        }
        o += (size_t)w;
        arg += skip;
    }
    out[o] = '\0';
    return 0;
too_long:
    snprintf(err, errlen, "argument too long");
    return -1;
}

/* In the child: stdio, inherited fds, CPU mask, exec. Never returns. */
static void child_exec(char **argv, const int *child_fds, unsigned n,
                       const struct ob_proxy_spawn_opts *o)
{
    unsigned i;
    int null = open("/dev/null", O_RDONLY);

    if (null < 0 || dup2(null, 0) < 0) {
        _exit(127);
    }
    if (null > 2) {
        close(null);
    }
    if ((o->stdout_fd >= 0 && dup2(o->stdout_fd, 1) < 0) ||
        (o->stderr_fd >= 0 && dup2(o->stderr_fd, 2) < 0)) {
        _exit(127);
    }
    for (i = 0; i < n; i++) {
        fcntl(child_fds[i], F_SETFD, 0);
    }
    for (i = 0; i < o->nkeep; i++) {
        fcntl(o->keep_fds[i], F_SETFD, 0);
    }
    if (o->cpu_mask) {
        cpu_set_t set;
        unsigned c;

        CPU_ZERO(&set);
        for (c = 0; c < sizeof(o->cpu_mask) * CHAR_BIT; c++) {
            if (o->cpu_mask & (1ul << c)) {
                CPU_SET(c, &set);
            }
        }
        sched_setaffinity(0, sizeof(set), &set);
    }
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    fprintf(stderr, "ob_proxy: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void free_args(char **args, size_t n)
{
    size_t i;

    if (!args) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(args[i]);
    }
    free(args);
}

/* Builds the child's argv with the placeholders substituted. */
static char **build_args(char *const argv[], const int *child_fds, unsigned n,
                         size_t *argc_out, char *err, size_t errlen)
{
    char buf[ARG_MAX_LEN];
    size_t argc = 0, i;
    char **args;

    while (argv[argc]) {
        argc++;
    }
    args = calloc(argc + 1, sizeof(*args));
    if (!args) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < argc; i++) {
        if (substitute(argv[i], child_fds, n, buf, sizeof(buf), err, errlen) < 0 ||
            !(args[i] = strdup(buf))) {
            if (!args[i] && errno == ENOMEM) {
                snprintf(err, errlen, "out of memory");
            }
            free_args(args, argc);
            return NULL;
        }
    }
    *argc_out = argc;
    return args;
}

static int make_pairs(struct ob_proxy *pxs, unsigned n, int *child_fds, char *err,
                      size_t errlen)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            snprintf(err, errlen, "socketpair: %s", strerror(errno));
            return -1;
        }
        sv[0] = above_stdio(sv[0]);
        sv[1] = above_stdio(sv[1]);
        child_fds[i] = sv[1];
        if (sv[0] < 0 || sv[1] < 0 || ob_proxy_attach(&pxs[i], sv[0]) < 0) {
            snprintf(err, errlen, "socket setup: %s",
                     sv[0] < 0 || sv[1] < 0 ? strerror(errno) : pxs[i].err);
            if (sv[0] >= 0 && pxs[i].fd < 0) {
                close(sv[0]);
            }
            return -1;
        }
    }
    return 0;
}

int ob_proxy_spawn(struct ob_proxy_proc *proc, char *const argv[],
                   struct ob_proxy *pxs, unsigned nchans,
                   const struct ob_proxy_spawn_opts *opts, char *err, size_t errlen)
{
    static const struct ob_proxy_spawn_opts defaults = { -1, -1, NULL, 0, 0 };
    int child_fds[OB_PROXY_MAX_CHANS];
    char **args = NULL;
    size_t argc = 0;
    unsigned i;
    pid_t pid;
    int rc = -1;

    memset(proc, 0, sizeof(*proc));
    proc->pid = -1;
    for (i = 0; i < OB_PROXY_MAX_CHANS; i++) {
        child_fds[i] = -1;
    }
    if (!argv || !argv[0] || nchans > OB_PROXY_MAX_CHANS) {
        snprintf(err, errlen, "spawn: no program, or more than %u connections",
                 OB_PROXY_MAX_CHANS);
        return -1;
    }
    if (!opts) {
        opts = &defaults;
    }
    if (make_pairs(pxs, nchans, child_fds, err, errlen) < 0) {
        goto out;
    }
    args = build_args(argv, child_fds, nchans, &argc, err, errlen);
    if (!args) {
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        child_exec(args, child_fds, nchans, opts);
    }
    proc->pid = pid;
    for (i = 0; i < nchans; i++) {
        pxs[i].pid = pid;
    }
    rc = 0;
out:
    for (i = 0; i < nchans; i++) {
        if (child_fds[i] >= 0) {
            close(child_fds[i]);
        }
        if (rc < 0) {
            ob_proxy_close(&pxs[i]);
        }
    }
    free_args(args, argc);
    return rc;
}

static int decode_status(int ws)
{
    if (WIFEXITED(ws)) {
        return WEXITSTATUS(ws);
    }
    if (WIFSIGNALED(ws)) {
        return 128 + WTERMSIG(ws);
    }
    return -1;
}

static bool try_reap(struct ob_proxy_proc *proc)
{
    pid_t r;

    if (proc->reaped) {
        return true;
    }
    do {
        r = waitpid(proc->pid, &proc->wstatus, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == proc->pid || (r < 0 && errno == ECHILD)) {
        proc->reaped = true;
    }
    return proc->reaped;
}

bool ob_proxy_proc_alive(struct ob_proxy_proc *proc)
{
    return proc->pid > 0 && !try_reap(proc);
}

int ob_proxy_proc_wait(struct ob_proxy_proc *proc, int timeout_ms)
{
    uint64_t deadline = ob_proxy_now_ns() + (uint64_t)timeout_ms * 1000000u;
    struct timespec nap = { 0, 200000 };   /* 0.2 ms, doubling to 10 ms */

    if (proc->pid <= 0) {
        return -1;
    }
    while (!try_reap(proc)) {
        if (ob_proxy_now_ns() >= deadline) {
            kill(proc->pid, SIGKILL);
            proc->killed = true;
            while (waitpid(proc->pid, &proc->wstatus, 0) < 0 && errno == EINTR) {
            }
            proc->reaped = true;
            break;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 10000000) {
            nap.tv_nsec *= 2;
        }
    }
    return decode_status(proc->wstatus);
}

/* DIR/NAME if it is executable. */
static bool try_path(char *buf, size_t len, const char *dir, const char *name)
{
    int w = snprintf(buf, len, "%s/%s", dir, name);

    return w > 0 && (size_t)w < len && access(buf, X_OK) == 0;
}

const char *ob_proxy_default_remote(char *buf, size_t len)
{
    const char *env = getenv("OUTBOARD_BIN");
    char self[PATH_MAX], *slash;
    ssize_t n;

    if (env && *env) {
        return env;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (try_path(buf, len, self, "outboard") ||
                try_path(buf, len, self, "../outboard") ||
                try_path(buf, len, self, "../../outboard")) {
                return buf;
            }
        }
    }
    return "outboard";
}

uint64_t ob_proxy_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long ob_proxy_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    fp = fopen(path, "r");
    if (!fp) {
        return -1;
    }
    while (fgets(line, sizeof(line), fp)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }
    fclose(fp);
    return kib;
}

/* utime + stime from /proc/PID/stat, in clock ticks converted to ns. */
static long long cpu_ns_from_stat(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    long hz = sysconf(_SC_CLK_TCK);
    size_t n;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (!fp) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last ')'. */
    p = strrchr(buf, ')');
    if (!p || hz <= 0 ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st) != 2) {
        return -1;
    }
    return (long long)((ut + st) * (1000000000ull / (unsigned long long)hz));
}

/* Sum of the first field (ns on CPU) of every /proc/PID/task/TID/schedstat. */
static long long cpu_ns_from_schedstat(pid_t pid)
{
    char path[128];
    unsigned long long ns, sum = 0;
    struct dirent *de;
    bool any = false;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (!d) {
        return -1;
    }
    while ((de = readdir(d))) {
        FILE *fp;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", (int)pid,
                 de->d_name);
        fp = fopen(path, "r");
        if (fp && fscanf(fp, "%llu", &ns) == 1) {
            sum += ns;
            any = true;
        }
        if (fp) {
            fclose(fp);
        }
    }
    closedir(d);
    return any ? (long long)sum : -1;
}

long long ob_proxy_cpu_ns(pid_t pid)
{
    long long ns = cpu_ns_from_schedstat(pid);

    return ns >= 0 ? ns : cpu_ns_from_stat(pid);
}

int ob_proxy_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *de;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d) {
        return -1;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}
