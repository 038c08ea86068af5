/*
 * proxy.h - the proxy driver: plays QEMU's side of the mpqemu protocol
 * (x-pci-proxy-dev) without QEMU, for tests, tools and benchmarks.
 *
 * A `struct ob_proxy` is one connection to a remote (one emulated PCI
 * function): the socket, the guest RAM it shares (memfds), the INTx eventfd
 * pair, and what the realize-time probe learnt about the BARs. A `struct
 * ob_proxy_proc` is a spawned remote process, which may serve several
 * connections (one socketpair each).
 *
 * Every wait has a timeout (ob_proxy.timeout_ms); nothing here hangs on a
 * dead or silent remote. Functions return 0 (or a count) on success and -1
 * on failure with a one-line reason in ob_proxy.err (or in ERR).
 *
 * The driver makes every descriptor it creates close-on-exec, and sets its
 * end of the socket to blocking mode with SO_RCVTIMEO/SO_SNDTIMEO.
 */
#ifndef OUTBOARD_PROXY_H
#define OUTBOARD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outboard/mpqemu.h"

#define OB_PROXY_NUM_BARS      7u    /* the proxy probes dwords 0x10 .. 0x28 */
#define OB_PROXY_MAX_REGIONS   OB_MPQ_MAX_FDS
#define OB_PROXY_MAX_CHANS     8u
#define OB_PROXY_TIMEOUT_MS    5000
#define OB_PROXY_ERRLEN        256u
/* Placeholders substituted in the remote's argv by ob_proxy_spawn(). */
#define OB_PROXY_FD_PLACEHOLDER "{fd}"     /* = {fd0} */

/* ------------------------------------------------------------------ */
/* guest RAM                                                           */

/* A memfd, sealed against shrinking and growing (as QEMU's
 * memory-backend-memfd), mapped shared in this process. */
struct ob_proxy_ram {
    int fd;
    uint8_t *host;
    uint64_t size;
};

/* One SYNC_SYSMEM region: guest-physical [gpa, gpa+size) is RAM's
 * [offset, offset+size). */
struct ob_proxy_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t offset;
    struct ob_proxy_ram *ram;
};

int ob_proxy_ram_create(struct ob_proxy_ram *ram, uint64_t size, char *err,
                        size_t errlen);
void ob_proxy_ram_free(struct ob_proxy_ram *ram);

/* ------------------------------------------------------------------ */
/* the connection                                                      */

/* What the probe found for one BAR dword (0x10 + 4*i). */
struct ob_proxy_bar {
    uint32_t orig;       /* value before sizing */
    uint32_t readback;   /* value read after writing 0xFFFFFFFF */
    uint32_t size;       /* QEMU's formula; 0 = no BAR */
    bool io;
    uint32_t base;       /* programmed address (0 = not programmed) */
};

struct ob_proxy_info {
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t class_id;   /* config 0x0A/2: base class << 8 | subclass */
    uint16_t subsystem_id;
    struct ob_proxy_bar bar[OB_PROXY_NUM_BARS];
    bool probed;
};

struct ob_proxy {
    int fd;                    /* our end of the socket; -1 when closed */
    pid_t pid;                 /* remote process (informative), or -1 */
    int timeout_ms;            /* for every reply / interrupt wait */
    /* reply bytes read ahead of the current message */
    uint8_t in[OB_MPQ_MAX_MSG];
    size_t in_len;
    /* guest RAM: the default RAM, and the table last sent */
    struct ob_proxy_ram ram;
    struct ob_proxy_region map[OB_PROXY_MAX_REGIONS];
    unsigned nmap;
    /* INTx */
    int irqfd;
    int resamplefd;
    struct ob_proxy_info info;
    uint64_t requests;         /* synchronous requests completed */
    char err[OB_PROXY_ERRLEN];
};

/* A zeroed proxy with no socket, no RAM, no eventfds. */
void ob_proxy_init(struct ob_proxy *px);
/* Uses FD (a connected stream socket, ownership taken). */
int ob_proxy_attach(struct ob_proxy *px, int fd);
/* Closes the socket (the remote sees EOF), unmaps RAM, closes eventfds. */
void ob_proxy_fini(struct ob_proxy *px);
/* Changes the reply timeout (also of an attached socket). */
int ob_proxy_set_timeout(struct ob_proxy *px, int timeout_ms);
/* Closes only the socket. */
void ob_proxy_close(struct ob_proxy *px);

/* ------------------------------------------------------------------ */
/* spawning a remote                                                   */

struct ob_proxy_proc {
    pid_t pid;          /* -1: none */
    bool reaped;
    bool killed;        /* we had to SIGKILL it */
    int wstatus;        /* waitpid() status once reaped */
};

struct ob_proxy_spawn_opts {
    int stdout_fd;          /* -1: inherit */
    int stderr_fd;          /* -1: inherit */
    const int *keep_fds;    /* passed to the child under the same number */
    unsigned nkeep;
    unsigned long cpu_mask; /* CPUs the child may run on; 0 = unchanged */
};

/*
 * Starts ARGV[0] (searched in PATH) with stdin on /dev/null and one
 * socketpair per connection in PXS[0..NCHANS-1] (each initialised with
 * ob_proxy_init()). In ARGV, "{fd}" / "{fd0}", "{fd1}", ... anywhere inside
 * an argument become the child's descriptor numbers of connections 0, 1, ...
 * OPTS may be NULL. Returns 0, or -1 with ERR set.
 */
int ob_proxy_spawn(struct ob_proxy_proc *proc, char *const argv[],
                   struct ob_proxy *pxs, unsigned nchans,
                   const struct ob_proxy_spawn_opts *opts, char *err, size_t errlen);
/*
 * Waits up to TIMEOUT_MS for the child to exit; after that it is killed
 * (SIGKILL) and reaped. Returns its exit status (0..255), 128 + signal
 * number if a signal ended it, or -1 if there is no child.
 */
int ob_proxy_proc_wait(struct ob_proxy_proc *proc, int timeout_ms);
/* True while the child has not exited (reaps it if it has). */
bool ob_proxy_proc_alive(struct ob_proxy_proc *proc);
/* The outboard binary: $OUTBOARD_BIN, else "outboard" beside or one folder
 * above this program, else "outboard" (PATH). */
const char *ob_proxy_default_remote(char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* the protocol                                                        */

/*
 * Sends LEN raw bytes with NFDS descriptors (SCM_RIGHTS, one sendmsg) and
 * does not wait. For malformed-message tests.
 */
int ob_proxy_send_raw(struct ob_proxy *px, const void *buf, size_t len,
                      const int *fds, unsigned nfds);
/*
 * Receives exactly LEN bytes (or fewer at EOF) within the timeout. Returns
 * the count (0 = EOF), or -1 on timeout or error.
 */
ssize_t ob_proxy_recv_raw(struct ob_proxy *px, void *buf, size_t len);
/* Waits for the remote to close its end: 0 on EOF, -1 if data arrived or the
 * timeout passed. */
int ob_proxy_wait_eof(struct ob_proxy *px, int timeout_ms);
/* Reads one RET (cmd 1, payload 0 or 8 bytes). */
int ob_proxy_recv_ret(struct ob_proxy *px, uint64_t *val, bool *has_val);
/* Sends the LEN-byte request BUF and waits for its RET. */
int ob_proxy_request(struct ob_proxy *px, const uint8_t *buf, size_t len,
                     uint64_t *val, bool *has_val);

/* Config space; LEN is sent as given (the RET value is returned whole). */
int ob_proxy_cfg_read(struct ob_proxy *px, uint32_t addr, int32_t len, uint64_t *val);
int ob_proxy_cfg_write(struct ob_proxy *px, uint32_t addr, uint32_t val, int32_t len,
                       uint64_t *ret);
/* BAR access by absolute bus address. RET is optional. */
int ob_proxy_bar_read(struct ob_proxy *px, uint64_t addr, uint32_t size, bool memory,
                      uint64_t *val);
int ob_proxy_bar_write(struct ob_proxy *px, uint64_t addr, uint64_t val, uint32_t size,
                       bool memory, uint64_t *ret);
/* BAR access relative to a BAR programmed by ob_proxy_program_bars(). */
int ob_proxy_barn_read(struct ob_proxy *px, unsigned bar, uint64_t off, uint32_t size,
                       uint64_t *val);
int ob_proxy_barn_write(struct ob_proxy *px, unsigned bar, uint64_t off, uint64_t val,
                        uint32_t size);
/* DEVICE_RESET; HAS_VAL (optional) tells whether the RET had a payload. */
int ob_proxy_reset(struct ob_proxy *px, bool *has_val);

/* ------------------------------------------------------------------ */
/* guest memory                                                        */

/* Creates px->ram (SIZE bytes) without sending anything. */
int ob_proxy_ram_setup(struct ob_proxy *px, uint64_t size);
/* Sends SYNC_SYSMEM for R[0..N-1] (1..8 regions) and records the table. */
int ob_proxy_sync_sysmem(struct ob_proxy *px, const struct ob_proxy_region *r,
                         unsigned n);
/* Sends QEMU's pc layout over px->ram: [0, 0xC0000) and [0x100000, size)
 * (one region if the RAM is 1 MiB or smaller). */
int ob_proxy_sync_default(struct ob_proxy *px);
/* Host pointer for guest-physical [gpa, gpa+len) in the last table, or NULL. */
void *ob_proxy_gpa(struct ob_proxy *px, uint64_t gpa, size_t len);
int ob_proxy_ram_read(struct ob_proxy *px, uint64_t gpa, void *buf, size_t len);
int ob_proxy_ram_write(struct ob_proxy *px, uint64_t gpa, const void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* interrupts                                                          */

/* Creates the irqfd + resamplefd pair and sends SET_IRQFD. */
int ob_proxy_irq_setup(struct ob_proxy *px);
/* Waits up to TIMEOUT_MS for the irqfd: 1 with the count read (clearing
 * it), 0 on timeout, -1 on error. */
int ob_proxy_irq_wait(struct ob_proxy *px, int timeout_ms, uint64_t *count);
/* The guest's EOI: writes 1 to the resamplefd. */
int ob_proxy_irq_eoi(struct ob_proxy *px);

/* ------------------------------------------------------------------ */
/* realize and firmware                                                */

/* QEMU's realize-time probe: IDs, then size every dword 0x10..0x28. */
int ob_proxy_probe(struct ob_proxy *px);
/*
 * Assigns naturally aligned addresses to the probed BARs (memory from
 * MEM_BASE, I/O from IO_BASE; 0 = defaults 0xfe000000 / 0xc000), writes
 * them, then writes COMMAND (e.g. OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER).
 */
int ob_proxy_program_bars(struct ob_proxy *px, uint32_t mem_base, uint32_t io_base,
                          uint16_t command);
/* SYNC_SYSMEM (default layout, RAM_SIZE bytes; 0 = none), SET_IRQFD,
 * probe, program BARs, COMMAND: what QEMU and the firmware do. */
int ob_proxy_bringup(struct ob_proxy *px, uint64_t ram_size, uint16_t command);

/*
 * QEMU's x-remote serves the socket before its initial machine reset, which
 * then clears COMMAND, the BARs and the interrupt line of the function: BARs
 * programmed too early vanish and QEMU's remote exits at the next BAR access.
 * This writes a marker into the interrupt line and waits (up to TIMEOUT_MS)
 * until the remote's reset has cleared it. Returns 1 when the reset was
 * seen, 0 on timeout (e.g. outboard, which has no such reset), -1 on error.
 */
int ob_proxy_wait_remote_reset(struct ob_proxy *px, int timeout_ms);

#define OB_PROXY_CMD_IO      0x0001u
#define OB_PROXY_CMD_MEM     0x0002u
#define OB_PROXY_CMD_MASTER  0x0004u
#define OB_PROXY_CMD_INTX_DISABLE 0x0400u

/* ------------------------------------------------------------------ */
/* measurement                                                         */

uint64_t ob_proxy_now_ns(void);
/* VmRSS of PID in KiB, or -1. */
long ob_proxy_rss_kib(pid_t pid);
/* CPU time of PID (all its threads) in ns, or -1: the sum of
 * /proc/PID/task/TID/schedstat, else utime + stime of /proc/PID/stat
 * (clock-tick resolution). Children are not included. */
long long ob_proxy_cpu_ns(pid_t pid);
/* Number of open descriptors of PID, or -1. */
int ob_proxy_fd_count(pid_t pid);
/* Restricts the calling process to CPU (-1: leave as is). 0 or -1. */
int ob_proxy_pin_self(int cpu);

/* Latency summary of N samples in ns (SAMPLES is sorted in place). */
struct ob_proxy_lat {
    size_t n;
    double mean_ns;
    uint64_t min_ns;
    uint64_t p50_ns;
    uint64_t p99_ns;
    uint64_t max_ns;
};

void ob_proxy_lat_summarize(uint64_t *samples, size_t n, struct ob_proxy_lat *out);

#endif
