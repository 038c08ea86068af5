/*
 * cmd_block.c - query-block: the drives (-drive) with the device using
 * each, in QEMU's BlockInfo shape.
 */
#include <string.h>

#include "outboard/block.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"

static json_t *image_info(const struct ob_drive *d)
{
    return json_pack("{s:o,s:s,s:I}", "filename", ob_qmp_json_string(d->filename),
                     "format", "raw", "virtual-size", (json_int_t)d->size);
}

/* BlockDeviceInfo, members in schema order. */
static json_t *inserted_info(const struct ob_qmp *q, const struct ob_drive *d)
{
    const struct ob_qmp_node *node = ob_qmp_node_find(q, d->id);
    json_t *o = json_object();

    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "file", ob_qmp_json_string(d->filename));
    if (node) {
        json_object_set_new(o, "node-name", ob_qmp_json_string(node->name));
    }
    json_object_set_new(o, "ro", json_boolean(d->readonly));
    json_object_set_new(o, "drv", json_string(node ? node->drv : "raw"));
    json_object_set_new(o, "backing_file_depth", json_integer(0));
    json_object_set_new(o, "encrypted", json_false());
    json_object_set_new(o, "detect_zeroes", json_string("off"));
    json_object_set_new(o, "bps", json_integer(0));
    json_object_set_new(o, "bps_rd", json_integer(0));
    json_object_set_new(o, "bps_wr", json_integer(0));
    json_object_set_new(o, "iops", json_integer(0));
    json_object_set_new(o, "iops_rd", json_integer(0));
    json_object_set_new(o, "iops_wr", json_integer(0));
    json_object_set_new(o, "image", image_info(d));
    json_object_set_new(o, "cache", json_pack("{s:b,s:b,s:b}",
                                              "writeback", !d->dsync,
                                              "direct", d->direct,
                                              "no-flush", d->no_flush));
    json_object_set_new(o, "write_threshold", json_integer(0));
    return o;
}

json_t *ob_qmp_cmd_query_block(struct ob_qmp_req *r, json_t *args)
{
    struct ob_drive *d;
    json_t *list = json_array();

    (void)args;
    for (d = r->qmp->ctx->drives; list && d; d = d->next) {
        /* a drive created by blockdev-add has no legacy name */
        bool legacy = !ob_qmp_node_find(r->qmp, d->id);
        json_t *b = json_object();

        if (!b) {
            break;
        }
        json_object_set_new(b, "device", ob_qmp_json_string(legacy ? d->id : ""));
        if (d->attached) {
            char path[256];

            if (d->attached->id) {
                json_object_set_new(b, "qdev", ob_qmp_json_string(d->attached->id));
            } else {
                ob_device_path(d->attached, path, sizeof(path));
                json_object_set_new(b, "qdev", ob_qmp_json_string(path));
            }
        }
        json_object_set_new(b, "type", json_string("unknown"));
        json_object_set_new(b, "removable", json_false());
        json_object_set_new(b, "locked", json_false());
        json_object_set_new(b, "inserted", inserted_info(r->qmp, d));
        if (d->attached) {
            json_object_set_new(b, "io-status", json_string("ok"));
        }
        json_array_append_new(list, b);
    }
    return list;
}
