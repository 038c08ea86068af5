/*
 * qmp_cmds.h - the QMP command table, request validation and dispatch
 * (qmp/dispatch.c), and the commands (qmp/cmd_*.c, qmp/hmp.c).
 *
 * ob_qmp_dispatch() does what QEMU's qmp_dispatch() and the QAPI input
 * visitor do, in the same order and with the same texts: the request must
 * be an object; its members ("execute", "arguments", "id", and "exec-oob"
 * once the client enabled the "oob" capability) are checked in QEMU's
 * member order; the command must exist (in negotiation mode only
 * qmp_capabilities does, and CommandNotFound says "Expecting capabilities
 * negotiation with 'qmp_capabilities'"); arguments are checked against the
 * command's schema before the command runs, so a rejected request has no
 * effect. The response echoes "id" whenever the request was an object
 * holding one. outboard offers the "oob" capability, as QEMU 7.2 does, but
 * no command of its table runs out of band: "exec-oob" of any command is
 * refused with QEMU's "The command X does not support OOB".
 *
 * Commands outboard adds are named with the downstream prefix
 * OB_QMP_PREFIX ("__com.outboard_"), as the QMP spec asks.
 */
#ifndef OUTBOARD_QMP_CMDS_H
#define OUTBOARD_QMP_CMDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "outboard/qmp_json.h"

struct ob_qmp;
struct ob_qmp_client;
struct ob_event;

#define OB_QMP_PREFIX "__com.outboard_"

/* QEMU's error classes (qapi/error.json). */
#define OB_QMP_GENERIC_ERROR     "GenericError"
#define OB_QMP_COMMAND_NOT_FOUND "CommandNotFound"
#define OB_QMP_DEVICE_NOT_FOUND  "DeviceNotFound"
#define OB_QMP_DEVICE_NOT_ACTIVE "DeviceNotActive"

/* One request being run. */
struct ob_qmp_req {
    struct ob_qmp *qmp;
    struct ob_qmp_client *client;   /* NULL when run without a connection */
    bool negotiating;               /* in: the client has not negotiated yet */
    bool oob;                       /* in: the client enabled "oob" */
    /* out */
    bool negotiated;                /* qmp_capabilities succeeded */
    bool oob_enabled;               /* ... with "oob" in its "enable" list */
    bool quit;                      /* quit: close the connection after the reply */
    bool events_after_reply;        /* events of this command follow its reply */
    const char *err_class;          /* NULL: success */
    char *err_desc;
};

enum ob_qmp_type {
    OB_QMP_T_STR,
    OB_QMP_T_INT,
    OB_QMP_T_BOOL,
    OB_QMP_T_NUMBER,
    OB_QMP_T_OBJECT,
    OB_QMP_T_ARRAY,
    OB_QMP_T_ANY,
};

/* One member of an argument schema; tables end with OB_QMP_ARGS_END. */
struct ob_qmp_arg {
    const char *name;
    enum ob_qmp_type type;
    bool optional;
    const char *const *values;      /* enum: allowed strings (NULL-terminated) */
};
#define OB_QMP_ARGS_END { NULL, 0, false, NULL }

/* Returns the command's return value (NULL: `{}`), or NULL with an error
 * set through ob_qmp_error(). */
typedef json_t *ob_qmp_cmd_fn(struct ob_qmp_req *r, json_t *args);

struct ob_qmp_cmd {
    const char *name;
    const struct ob_qmp_arg *args;  /* NULL: free-form, the handler checks */
    ob_qmp_cmd_fn *fn;
};

/* The commands of a negotiated client, in query-commands order. */
const struct ob_qmp_cmd *ob_qmp_cmd_table(size_t *n);
const struct ob_qmp_cmd *ob_qmp_cmd_find(const char *name);

/*
 * Runs one request: REQ (borrowed), or PARSE_ERR when the input did not
 * parse. Returns the response object (a new reference), or NULL when out
 * of memory. R->err_* are reset first.
 */
json_t *ob_qmp_dispatch(struct ob_qmp_req *r, json_t *req, const char *parse_err);

/* Sets R's error (the first one wins) and returns NULL. */
json_t *ob_qmp_error(struct ob_qmp_req *r, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ob_qmp_req_clear(struct ob_qmp_req *r);

/*
 * Checks ARGS (an object) against SPEC as QEMU's input visitor does:
 * members in schema order ("Parameter 'x' is missing", "Invalid parameter
 * type for 'x', expected: string", "Parameter 'x' does not accept value
 * 'v'"), then members the schema does not know ("Parameter 'x' is
 * unexpected"). PREFIX names a nested object ("file." -> 'file.filename').
 * Returns 0, or -1 with R's error set.
 */
int ob_qmp_check_args(struct ob_qmp_req *r, json_t *args, const struct ob_qmp_arg *spec,
                      const char *prefix);

/* The QMP text of an event (a new reference). */
json_t *ob_qmp_event_json(const struct ob_event *ev);
/* The greeting and query-version's value. */
json_t *ob_qmp_version_json(void);

/* HMP (human-monitor-command): runs LINE, returns its output (malloc'd;
 * errors are output too, as in QEMU). */
char *ob_qmp_hmp(struct ob_qmp_req *r, const char *line);

/* ---- commands (qmp/cmd_*.c) ------------------------------------------ */

json_t *ob_qmp_cmd_qmp_capabilities(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_query_version(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_query_commands(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_query_status(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_stop(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_cont(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_system_reset(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_quit(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_query_name(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_getfd(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_closefd(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_human_monitor_command(struct ob_qmp_req *r, json_t *args);

json_t *ob_qmp_cmd_query_pci(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_device_add(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_device_del(struct ob_qmp_req *r, json_t *args);

json_t *ob_qmp_cmd_query_block(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_blockdev_add(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_blockdev_del(struct ob_qmp_req *r, json_t *args);

json_t *ob_qmp_cmd_query_channels(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_dump_device(struct ob_qmp_req *r, json_t *args);
json_t *ob_qmp_cmd_query_memory(struct ob_qmp_req *r, json_t *args);

/* HMP texts shared with their QMP counterparts. */
void ob_qmp_hmp_info_pci(struct ob_qmp_req *r, struct ob_qmp_buf *out);
void ob_qmp_hmp_info_qtree(struct ob_qmp_req *r, struct ob_qmp_buf *out);
void ob_qmp_hmp_info_block(struct ob_qmp_req *r, struct ob_qmp_buf *out);

#endif
