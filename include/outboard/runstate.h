/*
 * runstate.h - the run state of the remote (QEMU's RunState) and the events
 * the management interface reports.
 *
 * outboard starts "running", as QEMU's x-remote machine does (it has no -S).
 * ob_vm_stop() quiesces every device: it calls the optional `quiesce` op of
 * each device type (no DMA, no new I/O submitted, interrupts held;
 * in-flight I/O may complete), and ob_vm_start() calls `resume`. Devices
 * keep answering BAR and config accesses while paused: the proxy would
 * block otherwise. A device added while paused is quiesced at once.
 *
 * Events (STOP, RESUME, RESET, SHUTDOWN, DEVICE_DELETED, BLOCK_IO_ERROR) go
 * to one sink registered in the context (the QMP server), so core code does
 * not depend on QMP. They carry the wall-clock time of the transition.
 */
#ifndef OUTBOARD_RUNSTATE_H
#define OUTBOARD_RUNSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

struct ob_ctx;
struct ob_device;
struct ob_drive;

/* QEMU's RunState values (qapi/run-state.json); 0 is "running". */
enum ob_runstate {
    OB_RS_RUNNING = 0,
    OB_RS_PAUSED,
    OB_RS_SHUTDOWN,
    OB_RS_INMIGRATE,
    OB_RS_POSTMIGRATE,
    OB_RS_FINISH_MIGRATE,
    OB_RS_PRELAUNCH,
    OB_RS_INTERNAL_ERROR,
    OB_RS_IO_ERROR,
    OB_RS_DEBUG,
    OB_RS_RESTORE_VM,
    OB_RS_SAVE_VM,
    OB_RS_SUSPENDED,
    OB_RS_WATCHDOG,
    OB_RS_GUEST_PANICKED,
    OB_RS_COLO,
    OB_RS__MAX,
};

/* QEMU's ShutdownCause names used here. */
#define OB_CAUSE_HOST_QMP_QUIT      "host-qmp-quit"
#define OB_CAUSE_HOST_QMP_RESET     "host-qmp-system-reset"
#define OB_CAUSE_HOST_SIGNAL        "host-signal"
#define OB_CAUSE_GUEST_SHUTDOWN     "guest-shutdown"

enum ob_event_kind {
    OB_EV_STOP,
    OB_EV_RESUME,
    OB_EV_RESET,             /* u.cause */
    OB_EV_SHUTDOWN,          /* u.cause */
    OB_EV_DEVICE_DELETED,    /* u.dev */
    OB_EV_BLOCK_IO_ERROR,    /* u.io */
};

struct ob_event {
    enum ob_event_kind kind;
    struct timeval when;     /* wall clock, filled in by ob_event_emit() */
    union {
        struct {
            bool guest;
            const char *reason;          /* ShutdownCause */
        } cause;
        struct {
            const char *id;              /* NULL: the device had none */
            const char *path;            /* QOM-style path */
        } dev;
        struct {
            const char *device;          /* BlockBackend name ("" for -blockdev) */
            const char *node_name;       /* NULL: none */
            bool write;                  /* operation: write, else read */
            const char *action;          /* "report", "ignore" or "stop" */
            bool nospace;                /* the error was ENOSPC */
            const char *reason;          /* strerror() text */
        } io;
    } u;
};

typedef void ob_event_sink(void *opaque, const struct ob_event *ev);

const char *ob_runstate_name(enum ob_runstate s);
enum ob_runstate ob_runstate_get(const struct ob_ctx *ctx);
bool ob_runstate_is_running(const struct ob_ctx *ctx);

/*
 * running -> STATE (paused, ...): quiesces every device and emits STOP.
 * From a non-running state only the state name changes (no event), as in
 * QEMU. Returns true if the VM was running.
 */
bool ob_vm_stop(struct ob_ctx *ctx, enum ob_runstate state);
/* -> running: resumes every device and emits RESUME (nothing if running). */
void ob_vm_start(struct ob_ctx *ctx);
/* Resets every PCI device as DEVICE_RESET does (their models reset the
 * devices on their buses), then emits RESET {guest: false, reason}. */
void ob_vm_reset(struct ob_ctx *ctx, const char *reason);
/* Emits SHUTDOWN {guest, reason}, enters "shutdown" and ends the loop with
 * status 0 once the current callback returns. Quit, a signal and the last
 * proxy connection closing (guest-shutdown, as QEMU's remote) come here. */
void ob_vm_shutdown(struct ob_ctx *ctx, bool guest, const char *reason);
/* A device was created: quiesce it if the VM is not running. */
void ob_runstate_device_added(struct ob_ctx *ctx, struct ob_device *dev);

/* Registers the one event sink (NULL: events are dropped). */
void ob_event_set_sink(struct ob_ctx *ctx, ob_event_sink *sink, void *opaque);
/* Stamps EV with the current time and hands it to the sink. */
void ob_event_emit(struct ob_ctx *ctx, struct ob_event *ev);
/* BLOCK_IO_ERROR for drive D (for device models on an I/O error; RET is
 * the negative errno, ACTION the policy applied: "report" or "ignore"). */
void ob_event_block_io_error(struct ob_ctx *ctx, const struct ob_drive *d,
                             bool write, int ret, const char *action);

#endif
