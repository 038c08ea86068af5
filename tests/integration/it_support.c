/*
 * it_support.c - spawning outboard for a test, and assertion helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "it.h"

#define EDU_STATUS_TIMEOUT_NS 2000000000ull

int it_add_suite(const char *name, const struct it_test *tests)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    size_t i;

    if (!s) {
        return CU_get_error();
    }
    for (i = 0; tests[i].name; i++) {
        if (!CU_add_test(s, tests[i].name, tests[i].fn)) {
            return CU_get_error();
        }
    }
    return CUE_SUCCESS;
}

const char *it_outboard(void)
{
    const char *b = getenv("OUTBOARD_BIN");

    return b && *b ? b : "build/outboard";
}

int it_spawn(struct it_remote *r, char *const argv[], unsigned nchans)
{
    struct ob_proxy_spawn_opts o = { .stdout_fd = -1, .stderr_fd = -1 };
    char err[OB_PROXY_ERRLEN];
    unsigned i;

    memset(r, 0, sizeof(*r));
    r->status = -1;
    r->proc.pid = -1;
    for (i = 0; i < IT_MAX_CHANS; i++) {
        ob_proxy_init(&r->px[i]);
    }
    r->errfd = memfd_create("it-stderr", MFD_CLOEXEC);
    if (r->errfd < 0 || nchans > IT_MAX_CHANS) {
        fprintf(stderr, "it_spawn: memfd_create: %s\n", strerror(errno));
        return -1;
    }
    o.stderr_fd = r->errfd;
    r->n = nchans;
    if (ob_proxy_spawn(&r->proc, argv, r->px, nchans, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "it_spawn: %s\n", err);
        return -1;
    }
    return 0;
}

int it_spawn_edu(struct it_remote *r)
{
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote", "-device", "edu,id=edu0",
        "-object", "x-remote-object,id=robj0,devid=edu0,fd={fd}", NULL,
    };

    return it_spawn(r, argv, 1);
}

int it_start_edu(struct it_remote *r, uint16_t command)
{
    if (it_spawn_edu(r) < 0) {
        return -1;
    }
    if (ob_proxy_bringup(&r->px[0], IT_RAM_SIZE, command) < 0) {
        fprintf(stderr, "it_start_edu: %s\n", r->px[0].err);
        return -1;
    }
    return 0;
}

const char *it_stderr(struct it_remote *r, char *buf, size_t len)
{
    ssize_t n = r->errfd >= 0 ? pread(r->errfd, buf, len - 1, 0) : -1;

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

int it_stop(struct it_remote *r)
{
    char buf[8192];
    unsigned i;

    for (i = 0; i < IT_MAX_CHANS; i++) {
        ob_proxy_fini(&r->px[i]);
    }
    if (r->status < 0 && r->proc.pid > 0) {
        r->status = ob_proxy_proc_wait(&r->proc, IT_STOP_MS);
        if (r->status != 0) {
            fprintf(stderr, "\n[remote pid %d exited with %d%s; its stderr:]\n%s\n",
                    (int)r->proc.pid, r->status, r->proc.killed ? " (killed)" : "",
                    it_stderr(r, buf, sizeof(buf)));
        }
    }
    if (r->errfd >= 0) {
        close(r->errfd);
        r->errfd = -1;
    }
    return r->status;
}

bool it_check_u64(uint64_t got, uint64_t want, const char *expr, unsigned line,
                  const char *file)
{
    char msg[256];
    bool ok = got == want;

    if (!ok) {
        snprintf(msg, sizeof(msg), "%s (got %#llx, want %#llx)", expr,
                 (unsigned long long)got, (unsigned long long)want);
    }
    CU_assertImplementation(ok, line, ok ? expr : msg, file, "", CU_FALSE);
    return ok;
}

bool it_check_ok(struct ob_proxy *px, int rc, const char *expr, unsigned line,
                 const char *file)
{
    char msg[OB_PROXY_ERRLEN + 128];
    bool ok = rc >= 0;

    if (!ok) {
        snprintf(msg, sizeof(msg), "%s failed: %s", expr, px->err);
    }
    CU_assertImplementation(ok, line, ok ? expr : msg, file, "", CU_FALSE);
    return ok;
}

uint64_t it_rd(struct ob_proxy *px, uint64_t off, unsigned size)
{
    uint64_t v = UINT64_MAX;

    if (!IT_OK(px, ob_proxy_barn_read(px, 0, off, size, &v))) {
        return UINT64_MAX;
    }
    return v;
}

void it_wr(struct ob_proxy *px, uint64_t off, uint64_t val, unsigned size)
{
    IT_OK(px, ob_proxy_barn_write(px, 0, off, val, size));
}

uint64_t it_cfg_rd(struct ob_proxy *px, uint32_t addr, int32_t len)
{
    uint64_t v = UINT64_MAX;

    if (!IT_OK(px, ob_proxy_cfg_read(px, addr, len, &v))) {
        return UINT64_MAX;
    }
    return v;
}

void it_cfg_wr(struct ob_proxy *px, uint32_t addr, uint32_t val, int32_t len)
{
    uint64_t ret = UINT64_MAX;

    if (IT_OK(px, ob_proxy_cfg_write(px, addr, val, len, &ret))) {
        IT_EQ(ret, 0);
    }
}

bool it_wait_clear(struct ob_proxy *px, uint64_t off, uint64_t mask)
{
    uint64_t deadline = ob_proxy_now_ns() + EDU_STATUS_TIMEOUT_NS;

    do {
        uint64_t v = UINT64_MAX;

        if (ob_proxy_barn_read(px, 0, off, 4, &v) < 0) {
            return false;
        }
        if ((v & mask) == 0) {
            return true;
        }
    } while (ob_proxy_now_ns() < deadline);
    return false;
}

void it_sync(struct ob_proxy *px)
{
    uint64_t v = 0;

    IT_OK(px, ob_proxy_cfg_read(px, 0, 2, &v));
}

bool it_in_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[4096], full[4200];

    while (path && *path) {
        size_t len = strcspn(path, ":");

        if (len < sizeof(dir)) {
            memcpy(dir, path, len);
            dir[len] = '\0';
            snprintf(full, sizeof(full), "%s/%s", len ? dir : ".", name);
            if (access(full, X_OK) == 0) {
                return true;
            }
        }
        path += len + (path[len] == ':');
    }
    return false;
}

void it_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void it_rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks)
{
    memset(cdb, 0, 10);
    cdb[0] = write ? 0x2a : 0x28;
    it_put_be32(cdb + 2, lba);
    cdb[7] = (uint8_t)(blocks >> 8);
    cdb[8] = (uint8_t)blocks;
}

bool it_edu_dma(struct ob_proxy *px, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
    it_wr(px, 0x80, src, 8);
    it_wr(px, 0x88, dst, 8);
    it_wr(px, 0x90, cnt, 8);
    it_wr(px, 0x98, cmd | IT_EDU_DMA_START, 8);
    return it_wait_clear(px, 0x98, IT_EDU_DMA_START);
}
