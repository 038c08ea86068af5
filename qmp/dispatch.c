/*
 * dispatch.c - the command table, request and argument validation, and
 * the response, as QEMU's qmp_dispatch() and QAPI input visitor build them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/qmp_cmds.h"
#include "outboard/qmp_json.h"

static const struct ob_qmp_arg no_args[] = { OB_QMP_ARGS_END };

static const struct ob_qmp_arg id_arg[] = {
    { "id", OB_QMP_T_STR, false, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg fdname_arg[] = {
    { "fdname", OB_QMP_T_STR, false, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg node_name_arg[] = {
    { "node-name", OB_QMP_T_STR, false, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg hmp_args[] = {
    { "command-line", OB_QMP_T_STR, false, NULL },
    { "cpu-index", OB_QMP_T_INT, true, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg opt_id_arg[] = {
    { "id", OB_QMP_T_STR, true, NULL },
    OB_QMP_ARGS_END,
};

/* qmp_capabilities checks its list itself (element names, enum). */
static const struct ob_qmp_cmd capabilities_cmd = {
    "qmp_capabilities", NULL, ob_qmp_cmd_qmp_capabilities,
};

static const struct ob_qmp_cmd commands[] = {
    { "qmp_capabilities", NULL, ob_qmp_cmd_qmp_capabilities },
    { "query-version", no_args, ob_qmp_cmd_query_version },
    { "query-commands", no_args, ob_qmp_cmd_query_commands },
    { "query-status", no_args, ob_qmp_cmd_query_status },
    { "query-name", no_args, ob_qmp_cmd_query_name },
    { "stop", no_args, ob_qmp_cmd_stop },
    { "cont", no_args, ob_qmp_cmd_cont },
    { "system_reset", no_args, ob_qmp_cmd_system_reset },
    { "quit", no_args, ob_qmp_cmd_quit },
    { "query-pci", no_args, ob_qmp_cmd_query_pci },
    { "query-block", no_args, ob_qmp_cmd_query_block },
    { "human-monitor-command", hmp_args, ob_qmp_cmd_human_monitor_command },
    { "device_add", NULL, ob_qmp_cmd_device_add },
    { "device_del", id_arg, ob_qmp_cmd_device_del },
    { "blockdev-add", NULL, ob_qmp_cmd_blockdev_add },
    { "blockdev-del", node_name_arg, ob_qmp_cmd_blockdev_del },
    { "getfd", fdname_arg, ob_qmp_cmd_getfd },
    { "closefd", fdname_arg, ob_qmp_cmd_closefd },
    { OB_QMP_PREFIX "query-channels", no_args, ob_qmp_cmd_query_channels },
    { OB_QMP_PREFIX "dump-device", id_arg, ob_qmp_cmd_dump_device },
    { OB_QMP_PREFIX "query-memory", opt_id_arg, ob_qmp_cmd_query_memory },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct ob_qmp_cmd *ob_qmp_cmd_table(size_t *n)
{
    *n = N_COMMANDS;
    return commands;
}

const struct ob_qmp_cmd *ob_qmp_cmd_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

void ob_qmp_req_clear(struct ob_qmp_req *r)
{
    free(r->err_desc);
    r->err_desc = NULL;
    r->err_class = NULL;
}

json_t *ob_qmp_error(struct ob_qmp_req *r, const char *cls, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (r->err_class) {
        return NULL;
    }
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    r->err_class = cls;
    r->err_desc = s ? s : strdup("out of memory");
    return NULL;
}

/* ---- arguments ------------------------------------------------------ */

static const char *type_name(enum ob_qmp_type t)
{
    switch (t) {
    case OB_QMP_T_STR:    return "string";
    case OB_QMP_T_INT:    return "integer";
    case OB_QMP_T_BOOL:   return "boolean";
    case OB_QMP_T_NUMBER: return "number";
    case OB_QMP_T_OBJECT: return "object";
    case OB_QMP_T_ARRAY:  return "array";
    default:              return "any";
    }
}

static bool type_ok(enum ob_qmp_type t, const json_t *v)
{
    switch (t) {
    case OB_QMP_T_STR:    return json_is_string(v);
    case OB_QMP_T_INT:    return json_is_integer(v);
    case OB_QMP_T_BOOL:   return json_is_boolean(v);
    case OB_QMP_T_NUMBER: return json_is_number(v);
    case OB_QMP_T_OBJECT: return json_is_object(v);
    case OB_QMP_T_ARRAY:  return json_is_array(v);
    default:              return true;
    }
}

static bool in_values(const char *const *values, const char *s)
{
    for (; *values; values++) {
        if (strcmp(*values, s) == 0) {
            return true;
        }
    }
    return false;
}

static const struct ob_qmp_arg *spec_find(const struct ob_qmp_arg *spec, const char *name)
{
    for (; spec->name; spec++) {
        if (strcmp(spec->name, name) == 0) {
            return spec;
        }
    }
    return NULL;
}

int ob_qmp_check_args(struct ob_qmp_req *r, json_t *args, const struct ob_qmp_arg *spec,
                      const char *prefix)
{
    const struct ob_qmp_arg *a;
    size_t n = json_object_size(args), i;
    const char *stack[32], **keys = stack;
    int rc = -1;

    for (a = spec; a->name; a++) {
        json_t *v = json_object_get(args, a->name);

        if (!v) {
            if (!a->optional) {
                ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Parameter '%s%s' is missing",
                             prefix, a->name);
                return -1;
            }
            continue;
        }
        if (!type_ok(a->type, v)) {
            ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                         "Invalid parameter type for '%s%s', expected: %s", prefix,
                         a->name, type_name(a->type));
            return -1;
        }
        if (a->values && !in_values(a->values, json_string_value(v))) {
            ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                         "Parameter '%s%s' does not accept value '%s'", prefix, a->name,
                         json_string_value(v));
            return -1;
        }
    }
    if (n > 32 && !(keys = calloc(n, sizeof(*keys)))) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
        return -1;
    }
    ob_qmp_json_object_keys(args, keys, n);
    for (i = 0; i < n; i++) {
        if (!spec_find(spec, keys[i])) {
            ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Parameter '%s%s' is unexpected",
                         prefix, keys[i]);
            goto out;
        }
    }
    rc = 0;
out:
    if (keys != stack) {
        free(keys);
    }
    return rc;
}

/* ---- the request ---------------------------------------------------- */

/*
 * The request's members in QDict order, as QEMU checks them; "exec-oob" is
 * a member only when the client enabled oob. *EXEC gets the command and
 * *OOB whether it came as "exec-oob".
 */
static int check_request(struct ob_qmp_req *r, json_t *req, const char **exec, bool *oob)
{
    size_t n = json_object_size(req), i;
    const char *keys[8], **k = keys, *exec_key = NULL;
    int rc = -1;

    *exec = NULL;
    *oob = false;
    if (n > 8 && !(k = calloc(n, sizeof(*k)))) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
        return -1;
    }
    ob_qmp_json_object_keys(req, k, n);
    for (i = 0; i < n; i++) {
        json_t *v = json_object_get(req, k[i]);

        if (strcmp(k[i], "execute") == 0 || (r->oob && strcmp(k[i], "exec-oob") == 0)) {
            if (!json_is_string(v)) {
                ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                             "QMP input member '%s' must be a string", k[i]);
                goto out;
            }
            if (exec_key) {
                ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                             "QMP input member '%s' clashes with '%s'", k[i], exec_key);
                goto out;
            }
            exec_key = k[i];
            *exec = json_string_value(v);
            *oob = k[i][4] == '-';
        } else if (strcmp(k[i], "arguments") == 0) {
            if (!json_is_object(v)) {
                ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                             "QMP input member 'arguments' must be an object");
                goto out;
            }
        } else if (strcmp(k[i], "id") != 0) {
            ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "QMP input member '%s' is unexpected",
                         k[i]);
            goto out;
        }
    }
    if (!*exec) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "QMP input lacks member 'execute'");
        goto out;
    }
    rc = 0;
out:
    if (k != keys) {
        free(k);
    }
    return rc;
}

static json_t *run_command(struct ob_qmp_req *r, json_t *req)
{
    const struct ob_qmp_cmd *cmd;
    const char *name;
    json_t *args, *ret;
    bool oob;

    if (check_request(r, req, &name, &oob) < 0) {
        return NULL;
    }
    if (r->negotiating) {
        cmd = strcmp(name, "qmp_capabilities") == 0 ? &capabilities_cmd : NULL;
    } else {
        cmd = ob_qmp_cmd_find(name);
    }
    if (!cmd) {
        return ob_qmp_error(r, OB_QMP_COMMAND_NOT_FOUND,
                            "The command %s has not been found", name);
    }
    if (oob) {
        /* no command of outboard's runs out of band */
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "The command %s does not support OOB", name);
    }
    args = json_object_get(req, "arguments");
    args = args ? json_incref(args) : json_object();
    if (!args) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
    }
    ret = NULL;
    if (!cmd->args || ob_qmp_check_args(r, args, cmd->args, "") == 0) {
        ret = cmd->fn(r, args);
    }
    json_decref(args);
    if (r->err_class) {
        json_decref(ret);
        return NULL;
    }
    return ret ? ret : json_object();
}

static json_t *error_response(struct ob_qmp_req *r)
{
    json_t *err = json_object(), *rsp = json_object();

    if (!err || !rsp) {
        json_decref(err);
        json_decref(rsp);
        return NULL;
    }
    json_object_set_new(err, "class", ob_qmp_json_string(r->err_class));
    json_object_set_new(err, "desc", ob_qmp_json_string(r->err_desc ? r->err_desc : ""));
    json_object_set_new(rsp, "error", err);
    return rsp;
}

json_t *ob_qmp_dispatch(struct ob_qmp_req *r, json_t *req, const char *parse_err)
{
    json_t *id = NULL, *ret = NULL, *rsp;

    ob_qmp_req_clear(r);
    if (parse_err) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "%s", parse_err);
    } else if (!json_is_object(req)) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "QMP input must be a JSON object");
    } else {
        id = json_object_get(req, "id");
        ret = run_command(r, req);
        if (r->negotiating && r->err_class &&
            strcmp(r->err_class, OB_QMP_COMMAND_NOT_FOUND) == 0) {
            free(r->err_desc);
            r->err_desc = strdup("Expecting capabilities negotiation with "
                                 "'qmp_capabilities'");
        }
    }
    if (r->err_class) {
        rsp = error_response(r);
    } else {
        rsp = json_object();
        if (rsp) {
            json_object_set_new(rsp, "return", ret);
            ret = NULL;
        }
    }
    json_decref(ret);
    if (rsp && id) {
        json_object_set(rsp, "id", id);
    }
    return rsp;
}
