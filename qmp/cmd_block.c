/*
 * cmd_block.c - query-block: the drives (-drive, blockdev-add) with the
 * device using each, in QEMU's BlockInfo shape; blockdev-add and
 * blockdev-del for raw images and block devices.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "outboard/block.h"
#include "outboard/opts.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"

/* ImageInfo, members in schema order. QEMU's raw driver over file-posix
 * (file or host_device) reports dirty-flag (always false) and actual-size
 * (the allocated bytes, st_blocks * 512: 0 for a block device). */
static json_t *image_info(const struct ob_drive *d)
{
    json_t *o = json_pack("{s:o,s:s,s:b}", "filename", ob_qmp_json_string(d->filename),
                          "format", "raw", "dirty-flag", 0);
    struct stat st;

    if (!o) {
        return NULL;
    }
    if (d->fd >= 0 && fstat(d->fd, &st) == 0) {
        json_object_set_new(o, "actual-size", json_integer((json_int_t)st.st_blocks * 512));
    }
    json_object_set_new(o, "virtual-size", json_integer((json_int_t)d->size));
    return o;
}

/* BlockDeviceInfo, members in schema order. */
static json_t *inserted_info(struct ob_qmp *q, const struct ob_drive *d)
{
    const struct ob_qmp_node *node = ob_qmp_node_find(q, d->id);
    const char *node_name = ob_qmp_drive_node_name(q, d->id);
    json_t *o = json_object();

    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "file", ob_qmp_json_string(d->filename));
    if (node_name) {
        json_object_set_new(o, "node-name", ob_qmp_json_string(node_name));
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

/* ---- blockdev-add / blockdev-del -------------------------------------- */

/* QEMU's BlockdevDriver values (7.2); only file, host_device and raw are
 * served. */
static const char *const block_drivers[] = {
    "blkdebug", "blklogwrites", "blkreplay", "blkverify", "bochs", "cloop",
    "compress", "copy-before-write", "copy-on-read", "dmg", "file", "ftp", "ftps",
    "gluster", "host_cdrom", "host_device", "http", "https", "io_uring", "iscsi",
    "luks", "nbd", "nfs", "null-aio", "null-co", "nvme", "nvme-io_uring",
    "parallels", "preallocate", "qcow", "qcow2", "qed", "quorum", "raw", "rbd",
    "replication", "snapshot-access", "ssh", "throttle", "vdi", "vhdx",
    "virtio-blk-vfio-pci", "virtio-blk-vhost-user", "virtio-blk-vhost-vdpa", "vmdk",
    "vpc", "vvfat", NULL,
};

static const char *const discard_values[] = { "ignore", "unmap", NULL };

/* Members every node accepts (BlockdevOptionsBase), then the protocol
 * node's own (BlockdevOptionsFile), in schema order. */
#define BASE_ARGS(drv_values)                                               \
    { "driver", OB_QMP_T_STR, false, (drv_values) },                        \
    { "node-name", OB_QMP_T_STR, true, NULL },                              \
    { "discard", OB_QMP_T_STR, true, discard_values },                      \
    { "cache", OB_QMP_T_OBJECT, true, NULL },                               \
    { "read-only", OB_QMP_T_BOOL, true, NULL },                             \
    { "auto-read-only", OB_QMP_T_BOOL, true, NULL },                        \
    { "force-share", OB_QMP_T_BOOL, true, NULL },                           \
    { "detect-zeroes", OB_QMP_T_STR, true, NULL }

static const struct ob_qmp_arg file_args[] = {
    BASE_ARGS(block_drivers),
    { "filename", OB_QMP_T_STR, false, NULL },
    { "aio", OB_QMP_T_STR, true, NULL },
    { "locking", OB_QMP_T_STR, true, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg raw_args[] = {
    BASE_ARGS(block_drivers),
    { "file", OB_QMP_T_OBJECT, false, NULL },
    { "offset", OB_QMP_T_INT, true, NULL },
    { "size", OB_QMP_T_INT, true, NULL },
    OB_QMP_ARGS_END,
};

static const struct ob_qmp_arg cache_args[] = {
    { "direct", OB_QMP_T_BOOL, true, NULL },
    { "no-flush", OB_QMP_T_BOOL, true, NULL },
    OB_QMP_ARGS_END,
};

static bool is_protocol(const char *drv)
{
    return strcmp(drv, "file") == 0 || strcmp(drv, "host_device") == 0;
}

/* Checks a file/host_device node (PREFIX "" or "file.") and its cache. */
static int check_protocol(struct ob_qmp_req *r, json_t *o, const char *prefix)
{
    char p2[32];

    if (ob_qmp_check_args(r, o, file_args, prefix) < 0) {
        return -1;
    }
    snprintf(p2, sizeof(p2), "%scache.", prefix);
    if (json_object_get(o, "cache") &&
        ob_qmp_check_args(r, json_object_get(o, "cache"), cache_args, p2) < 0) {
        return -1;
    }
    return 0;
}

static bool jtrue(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

json_t *ob_qmp_cmd_blockdev_add(struct ob_qmp_req *r, json_t *args)
{
    struct ob_qmp *q = r->qmp;
    const char *drv, *node;
    json_t *file = args, *cache;
    struct ob_qmp_buf spec;
    struct ob_opts o;
    char why[256];
    int rc;

    if (!json_object_get(args, "driver")) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Parameter 'driver' is missing");
    }
    drv = json_string_value(json_object_get(args, "driver"));
    if (drv && strcmp(drv, "raw") == 0) {
        if (ob_qmp_check_args(r, args, raw_args, "") < 0) {
            return NULL;
        }
        file = json_object_get(args, "file");
        if (!json_object_get(file, "driver")) {
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "Parameter 'file.driver' is missing");
        }
        if (check_protocol(r, file, "file.") < 0) {
            return NULL;
        }
        if (!is_protocol(json_string_value(json_object_get(file, "driver")))) {
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "outboard serves raw images on "
                                "'file' or 'host_device' nodes only");
        }
        if (json_object_get(args, "offset") || json_object_get(args, "size")) {
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "outboard does not support 'offset' or 'size' of raw");
        }
    } else if (drv && is_protocol(drv)) {
        if (check_protocol(r, args, "") < 0) {
            return NULL;
        }
    } else {
        /* the schema check names the argument first, as QEMU's visitor */
        static const struct ob_qmp_arg drv_only[] = {
            { "driver", OB_QMP_T_STR, false, block_drivers }, OB_QMP_ARGS_END,
        };
        json_t *d = json_pack("{s:O}", "driver", json_object_get(args, "driver"));

        rc = ob_qmp_check_args(r, d, drv_only, "");
        json_decref(d);
        if (rc < 0) {
            return NULL;
        }
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Driver '%s' is not supported by "
                            "outboard (raw images: 'raw', 'file', 'host_device')", drv);
    }
    node = json_string_value(json_object_get(args, "node-name"));
    if (!node) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "'node-name' must be specified for the root node");
    }
    if (ob_drive_find(q->ctx, node) || ob_device_find(q->ctx, node)) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Duplicate nodes with node-name='%s'", node);
    }
    /* the same drive -drive would make */
    cache = json_object_get(file, "cache");
    if (!cache) {
        cache = json_object_get(args, "cache");
    }
    ob_qmp_buf_init(&spec);
    ob_qmp_buf_addf(&spec, "if=none,format=raw,id=");
    for (const char *p = node; *p; p++) {
        ob_qmp_buf_add(&spec, p, 1);
        if (*p == ',') {
            ob_qmp_buf_add(&spec, ",", 1);
        }
    }
    ob_qmp_buf_addf(&spec, ",file=");
    for (const char *p = json_string_value(json_object_get(file, "filename")); *p; p++) {
        ob_qmp_buf_add(&spec, p, 1);
        if (*p == ',') {
            ob_qmp_buf_add(&spec, ",", 1);
        }
    }
    if (jtrue(args, "read-only") || jtrue(file, "read-only")) {
        ob_qmp_buf_addf(&spec, ",readonly=on");
    }
    if (jtrue(cache, "direct")) {
        ob_qmp_buf_addf(&spec, ",cache.direct=on");
    }
    if (jtrue(cache, "no-flush")) {
        ob_qmp_buf_addf(&spec, ",cache.no-flush=on");
    }
    if ((json_object_get(args, "discard") &&
         strcmp(json_string_value(json_object_get(args, "discard")), "unmap") == 0) ||
        (json_object_get(file, "discard") &&
         strcmp(json_string_value(json_object_get(file, "discard")), "unmap") == 0)) {
        ob_qmp_buf_addf(&spec, ",discard=unmap");
    }
    if (spec.oom) {
        ob_qmp_buf_fini(&spec);
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
    }
    rc = ob_opts_parse(&o, "blockdev-add", spec.data, NULL, why, sizeof(why));
    ob_qmp_buf_fini(&spec);
    if (rc < 0) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "%s", why);
    }
    rc = ob_drive_create(q->ctx, &o, why, sizeof(why));
    ob_opts_free(&o);
    if (rc < 0) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "%s", why);
    }
    if (ob_qmp_node_add(q, node, drv) < 0) {
        ob_drive_destroy(ob_drive_find(q->ctx, node));
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "out of memory");
    }
    return NULL;
}

json_t *ob_qmp_cmd_blockdev_del(struct ob_qmp_req *r, json_t *args)
{
    const char *node = json_string_value(json_object_get(args, "node-name"));
    struct ob_drive *d = ob_drive_find(r->qmp->ctx, node);

    if (!d) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Failed to find node with node-name='%s'", node);
    }
    if (!ob_qmp_node_find(r->qmp, node)) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Node %s is not owned by the monitor", node);
    }
    if (ob_drive_destroy(d) == -EBUSY) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Node %s is in use", node);
    }
    ob_qmp_node_del(r->qmp, node);
    return NULL;
}
