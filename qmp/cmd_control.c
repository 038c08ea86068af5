/*
 * cmd_control.c - the monitor's own commands (negotiation, version,
 * command list, name, descriptors), the run state commands, HMP's entry
 * point, and the JSON of events.
 *
 * Objects are built in QAPI schema member order: the writer then prints
 * them in the order QEMU does (qmp_json.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/ctx.h"
#include "outboard/fdname.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"
#include "outboard/runstate.h"

#define OB_QMP_PACKAGE "outboard " OB_VERSION

json_t *ob_qmp_version_json(void)
{
    unsigned major = 0, minor = 0, micro = 0;

    if (sscanf(OB_VERSION, "%u.%u.%u", &major, &minor, &micro) < 1) {
        major = minor = micro = 0;
    }
    return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "major", (int)major,
                     "minor", (int)minor, "micro", (int)micro,
                     "package", OB_QMP_PACKAGE);
}

/* ---- negotiation ---------------------------------------------------- */

static const char *const qmp_capabilities_known[] = { "oob", NULL };

json_t *ob_qmp_cmd_qmp_capabilities(struct ob_qmp_req *r, json_t *args)
{
    static const struct ob_qmp_arg spec[] = {
        { "enable", OB_QMP_T_ARRAY, true, NULL },
        OB_QMP_ARGS_END,
    };
    json_t *enable, *v;
    size_t i;

    if (ob_qmp_check_args(r, args, spec, "") < 0) {
        return NULL;
    }
    enable = json_object_get(args, "enable");
    json_array_foreach(enable, i, v) {
        const char *const *k;

        if (!json_is_string(v)) {
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "Invalid parameter type for 'enable[%zu]', expected: "
                                "string", i);
        }
        for (k = qmp_capabilities_known; *k && strcmp(*k, json_string_value(v)); k++) {
        }
        if (!*k) {
            /* (sic) QEMU names list elements 'null' here */
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "Parameter 'null' does not accept value '%s'",
                                json_string_value(v));
        }
    }
    if (!r->negotiating) {
        return ob_qmp_error(r, OB_QMP_COMMAND_NOT_FOUND, "Capabilities negotiation "
                            "is already complete, command ignored");
    }
    /* every known capability is offered in the greeting */
    r->oob_enabled = json_array_size(enable) > 0;
    r->negotiated = true;
    return NULL;
}

json_t *ob_qmp_cmd_query_version(struct ob_qmp_req *r, json_t *args)
{
    (void)r;
    (void)args;
    return ob_qmp_version_json();
}

json_t *ob_qmp_cmd_query_commands(struct ob_qmp_req *r, json_t *args)
{
    const struct ob_qmp_cmd *t;
    json_t *list = json_array();
    size_t n, i;

    (void)r;
    (void)args;
    t = ob_qmp_cmd_table(&n);
    for (i = 0; list && i < n; i++) {
        json_array_append_new(list, json_pack("{s:s}", "name", t[i].name));
    }
    return list;
}

json_t *ob_qmp_cmd_query_name(struct ob_qmp_req *r, json_t *args)
{
    (void)args;
    if (r->qmp->name) {
        return json_pack("{s:o}", "name", ob_qmp_json_string(r->qmp->name));
    }
    return json_object();
}

/* ---- run state ------------------------------------------------------ */

json_t *ob_qmp_cmd_query_status(struct ob_qmp_req *r, json_t *args)
{
    struct ob_ctx *ctx = r->qmp->ctx;

    (void)args;
    return json_pack("{s:b,s:b,s:s}", "running", ob_runstate_is_running(ctx),
                     "singlestep", 0, "status", ob_runstate_name(ob_runstate_get(ctx)));
}

json_t *ob_qmp_cmd_stop(struct ob_qmp_req *r, json_t *args)
{
    (void)args;
    ob_vm_stop(r->qmp->ctx, OB_RS_PAUSED);
    return NULL;
}

json_t *ob_qmp_cmd_cont(struct ob_qmp_req *r, json_t *args)
{
    enum ob_runstate s = ob_runstate_get(r->qmp->ctx);

    (void)args;
    if (s == OB_RS_INTERNAL_ERROR || s == OB_RS_SHUTDOWN) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Resetting the Virtual Machine is required");
    }
    if (s == OB_RS_FINISH_MIGRATE) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Migration is not finalized yet");
    }
    ob_vm_start(r->qmp->ctx);
    return NULL;
}

json_t *ob_qmp_cmd_system_reset(struct ob_qmp_req *r, json_t *args)
{
    (void)args;
    ob_vm_reset(r->qmp->ctx, OB_CAUSE_HOST_QMP_RESET);
    return NULL;
}

json_t *ob_qmp_cmd_quit(struct ob_qmp_req *r, json_t *args)
{
    (void)args;
    ob_vm_shutdown(r->qmp->ctx, false, OB_CAUSE_HOST_QMP_QUIT);
    r->quit = true;
    return NULL;
}

/* ---- descriptors ---------------------------------------------------- */

json_t *ob_qmp_cmd_getfd(struct ob_qmp_req *r, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "fdname"));
    int fd = r->client ? ob_qmp_client_take_fd(r->client) : -1;

    if (fd < 0) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "No file descriptor supplied via SCM_RIGHTS");
    }
    if (name[0] >= '0' && name[0] <= '9') {
        close(fd);
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Parameter 'fdname' expects a name not starting with a digit");
    }
    if (ob_fdname_put(r->qmp->ctx, name, fd) < 0) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
    }
    return NULL;
}

json_t *ob_qmp_cmd_closefd(struct ob_qmp_req *r, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "fdname"));

    if (ob_fdname_close(r->qmp->ctx, name) < 0) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "File descriptor named '%s' not found", name);
    }
    return NULL;
}

/* ---- HMP ------------------------------------------------------------ */

json_t *ob_qmp_cmd_human_monitor_command(struct ob_qmp_req *r, json_t *args)
{
    const char *line = json_string_value(json_object_get(args, "command-line"));
    char *out = ob_qmp_hmp(r, line);
    json_t *v;

    if (!out) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
    }
    v = ob_qmp_json_string(out);
    free(out);
    return v;
}

/* ---- events --------------------------------------------------------- */

static const char *event_name(enum ob_event_kind k)
{
    switch (k) {
    case OB_EV_STOP:           return "STOP";
    case OB_EV_RESUME:         return "RESUME";
    case OB_EV_RESET:          return "RESET";
    case OB_EV_SHUTDOWN:       return "SHUTDOWN";
    case OB_EV_DEVICE_DELETED: return "DEVICE_DELETED";
    default:                   return "BLOCK_IO_ERROR";
    }
}

static json_t *event_data(const struct ob_event *ev)
{
    json_t *d;

    switch (ev->kind) {
    case OB_EV_RESET:
    case OB_EV_SHUTDOWN:
        return json_pack("{s:b,s:s}", "guest", ev->u.cause.guest,
                         "reason", ev->u.cause.reason);
    case OB_EV_DEVICE_DELETED:
        d = json_object();
        if (d && ev->u.dev.id) {
            json_object_set_new(d, "device", ob_qmp_json_string(ev->u.dev.id));
        }
        if (d) {
            json_object_set_new(d, "path", ob_qmp_json_string(ev->u.dev.path));
        }
        return d;
    case OB_EV_BLOCK_IO_ERROR:
        d = json_object();
        if (!d) {
            return NULL;
        }
        json_object_set_new(d, "device", ob_qmp_json_string(ev->u.io.device));
        if (ev->u.io.node_name) {
            json_object_set_new(d, "node-name", ob_qmp_json_string(ev->u.io.node_name));
        }
        json_object_set_new(d, "operation",
                            json_string(ev->u.io.write ? "write" : "read"));
        json_object_set_new(d, "action", json_string(ev->u.io.action));
        if (ev->u.io.nospace) {
            json_object_set_new(d, "nospace", json_true());
        }
        json_object_set_new(d, "reason", ob_qmp_json_string(ev->u.io.reason));
        return d;
    default:
        return NULL;    /* STOP, RESUME: no data */
    }
}

json_t *ob_qmp_event_json(const struct ob_event *ev)
{
    json_t *e = json_pack("{s:s,s:{s:I,s:I}}", "event", event_name(ev->kind),
                          "timestamp", "seconds", (json_int_t)ev->when.tv_sec,
                          "microseconds", (json_int_t)ev->when.tv_usec);
    json_t *d = event_data(ev);

    if (e && d) {
        json_object_set_new(e, "data", d);
    } else {
        json_decref(d);
    }
    return e;
}
