/*
 * hmp.c - the human monitor commands reachable through
 * human-monitor-command (help, info status|pci|block|qtree|name|version,
 * stop, cont, system_reset, quit), with QEMU's line formats. Output lines
 * end in CR LF, as QEMU's monitor writes them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"
#include "outboard/runstate.h"
#include "outboard/scsi.h"

struct hmp_cmd {
    const char *name;           /* "a|b" aliases */
    const char *params;
    const char *help;
    void (*fn)(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out);
};

/* ---- info ----------------------------------------------------------- */

static void info_status(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    struct ob_ctx *ctx = r->qmp->ctx;
    enum ob_runstate s = ob_runstate_get(ctx);

    (void)arg;
    ob_qmp_buf_addf(out, "VM status: %s", s == OB_RS_RUNNING ? "running" : "paused");
    if (s != OB_RS_RUNNING && s != OB_RS_PAUSED) {
        ob_qmp_buf_addf(out, " (%s)", ob_runstate_name(s));
    }
    ob_qmp_buf_add(out, "\r\n", 2);
}

static void info_name(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    if (r->qmp->name) {
        ob_qmp_buf_addf(out, "%s\r\n", r->qmp->name);
    }
}

static void info_version(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    json_t *v = ob_qmp_version_json();
    json_t *q = json_object_get(v, "qemu");

    (void)r;
    (void)arg;
    ob_qmp_buf_addf(out, "%lld.%lld.%lld%s%s\r\n",
                    (long long)json_integer_value(json_object_get(q, "major")),
                    (long long)json_integer_value(json_object_get(q, "minor")),
                    (long long)json_integer_value(json_object_get(q, "micro")),
                    json_string_length(json_object_get(v, "package")) ? " " : "",
                    json_string_value(json_object_get(v, "package")));
    json_decref(v);
}

static long long jint(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

void ob_qmp_hmp_info_pci(struct ob_qmp_req *r, struct ob_qmp_buf *out)
{
    json_t *buses = ob_qmp_cmd_query_pci(r, NULL), *bus, *dev, *reg;
    size_t i, j, k;

    json_array_foreach(buses, i, bus) {
        json_array_foreach(json_object_get(bus, "devices"), j, dev) {
            json_t *ci = json_object_get(dev, "class_info");
            json_t *id = json_object_get(dev, "id");

            ob_qmp_buf_addf(out, "  Bus %2lld, device %3lld, function %lld:\r\n",
                            jint(dev, "bus"), jint(dev, "slot"), jint(dev, "function"));
            if (json_object_get(ci, "desc")) {
                ob_qmp_buf_addf(out, "    %s", json_string_value(json_object_get(ci, "desc")));
            } else {
                ob_qmp_buf_addf(out, "    Class %04lld", jint(ci, "class"));
            }
            ob_qmp_buf_addf(out, ": PCI device %04llx:%04llx\r\n", jint(id, "vendor"),
                            jint(id, "device"));
            ob_qmp_buf_addf(out, "      PCI subsystem %04llx:%04llx\r\n",
                            jint(id, "subsystem-vendor"), jint(id, "subsystem"));
            if (json_object_get(dev, "irq")) {
                ob_qmp_buf_addf(out, "      IRQ %lld, pin %c\r\n", jint(dev, "irq"),
                                (char)('A' + jint(dev, "irq_pin") - 1));
            }
            json_array_foreach(json_object_get(dev, "regions"), k, reg) {
                unsigned long long a = (unsigned long long)jint(reg, "address");
                unsigned long long end = a + (unsigned long long)jint(reg, "size") - 1;

                ob_qmp_buf_addf(out, "      BAR%lld: ", jint(reg, "bar"));
                if (strcmp(json_string_value(json_object_get(reg, "type")), "io") == 0) {
                    ob_qmp_buf_addf(out, "I/O at 0x%04llx [0x%04llx].\r\n", a, end);
                } else {
                    ob_qmp_buf_addf(out, "%d bit%s memory at 0x%08llx [0x%08llx].\r\n",
                                    json_is_true(json_object_get(reg, "mem_type_64")) ?
                                    64 : 32,
                                    json_is_true(json_object_get(reg, "prefetch")) ?
                                    " prefetchable" : "", a, end);
                }
            }
            ob_qmp_buf_addf(out, "      id \"%s\"\r\n",
                            json_string_value(json_object_get(dev, "qdev_id")));
        }
    }
    json_decref(buses);
}

static void info_pci(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    ob_qmp_hmp_info_pci(r, out);
}

void ob_qmp_hmp_info_block(struct ob_qmp_req *r, struct ob_qmp_buf *out)
{
    json_t *list = ob_qmp_cmd_query_block(r, NULL), *b;
    size_t i;

    json_array_foreach(list, i, b) {
        json_t *ins = json_object_get(b, "inserted");
        json_t *cache = json_object_get(ins, "cache");
        const char *dev = json_string_value(json_object_get(b, "device"));
        const char *node = json_string_value(json_object_get(ins, "node-name"));
        bool wb = json_is_true(json_object_get(cache, "writeback"));
        bool direct = json_is_true(json_object_get(cache, "direct"));
        bool noflush = json_is_true(json_object_get(cache, "no-flush"));

        if (i > 0) {
            ob_qmp_buf_add(out, "\r\n", 2);
        }
        ob_qmp_buf_addf(out, "%s", dev && *dev ? dev : node ? node : "");
        if (dev && *dev && node) {
            ob_qmp_buf_addf(out, " (%s)", node);
        }
        ob_qmp_buf_addf(out, ": %s (%s%s)\r\n",
                        json_string_value(json_object_get(ins, "file")),
                        json_string_value(json_object_get(ins, "drv")),
                        json_is_true(json_object_get(ins, "ro")) ? ", read-only" : "");
        if (json_object_get(b, "qdev")) {
            ob_qmp_buf_addf(out, "    Attached to:      %s\r\n",
                            json_string_value(json_object_get(b, "qdev")));
        }
        ob_qmp_buf_addf(out, "    Cache mode:       %s%s%s\r\n",
                        wb ? "writeback" : "writethrough", direct ? ", direct" : "",
                        noflush ? ", ignore flushes" : "");
    }
    json_decref(list);
}

static void info_block(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    ob_qmp_hmp_info_block(r, out);
}

/* One property as `info qtree` prints it. */
static void print_prop(struct ob_qmp_buf *out, const void *inst, const struct ob_prop *p,
                       int indent)
{
    const uint8_t *field = (const uint8_t *)inst + p->offset;
    uint64_t u = 0;

    ob_qmp_buf_addf(out, "%*s%s = ", indent, "", p->name);
    switch (p->kind) {
    case OB_PROP_STR: {
        const char *s = *(char *const *)(const void *)field;

        ob_qmp_buf_addf(out, "\"%s\"\r\n", s ? s : "");
        return;
    }
    case OB_PROP_BOOL:
        ob_qmp_buf_addf(out, "%s\r\n", *(const bool *)(const void *)field ? "true" : "false");
        return;
    case OB_PROP_PCI_DEVFN: {
        uint32_t devfn = *(const uint32_t *)(const void *)field;

        ob_qmp_buf_addf(out, "%02x.%x\r\n", devfn >> 3, devfn & 7);
        return;
    }
    case OB_PROP_U8:
        u = *field;
        break;
    case OB_PROP_U32:
        u = *(const uint32_t *)(const void *)field;
        break;
    case OB_PROP_U64:
        u = *(const uint64_t *)(const void *)field;
        break;
    case OB_PROP_U16:
        u = *(const uint16_t *)(const void *)field;
        break;
    case OB_PROP_SIZE32:
        u = *(const uint32_t *)(const void *)field;
        break;
    case OB_PROP_I32: {
        int32_t v = *(const int32_t *)(const void *)field;

        ob_qmp_buf_addf(out, "%" PRId32 " (0x%" PRIx32 ")\r\n", v, (uint32_t)v);
        return;
    }
    case OB_PROP_ON_OFF_AUTO: {
        enum ob_on_off_auto v = *(const enum ob_on_off_auto *)(const void *)field;

        ob_qmp_buf_addf(out, "\"%s\"\r\n", v == OB_ON ? "on" : v == OB_OFF ? "off" : "auto");
        return;
    }
    }
    ob_qmp_buf_addf(out, "%" PRIu64 " (0x%" PRIx64 ")\r\n", u, u);
}

static void print_props(struct ob_qmp_buf *out, const struct ob_device *d, int indent)
{
    const struct ob_prop *p;

    for (p = d->type->props; p && p->name; p++) {
        print_prop(out, d, p, indent);
    }
    for (p = d->type->bus_props; p && p->name; p++) {
        print_prop(out, d, p, indent);
    }
}

static void print_dev_head(struct ob_qmp_buf *out, const struct ob_device *d, int indent)
{
    ob_qmp_buf_addf(out, "%*sdev: %s, id \"%s\"\r\n", indent, "", d->type->name,
                    d->id ? d->id : "");
}

static void qtree_pci(struct ob_qmp_req *r, struct ob_qmp_buf *out, struct ob_device *d,
                      json_t *info)
{
    struct ob_ctx *ctx = r->qmp->ctx;
    json_t *id = json_object_get(info, "id"), *reg;
    struct ob_scsi_bus *bus;
    size_t k;

    print_dev_head(out, d, 2);
    print_props(out, d, 4);
    ob_qmp_buf_addf(out, "    class Class %04llx, addr %02llx:%02llx.%llx, pci id "
                    "%04llx:%04llx (sub %04llx:%04llx)\r\n",
                    jint(json_object_get(info, "class_info"), "class"), jint(info, "bus"),
                    jint(info, "slot"), jint(info, "function"), jint(id, "vendor"),
                    jint(id, "device"), jint(id, "subsystem-vendor"), jint(id, "subsystem"));
    json_array_foreach(json_object_get(info, "regions"), k, reg) {
        ob_qmp_buf_addf(out, "    bar %lld: %s at 0x%llx [0x%llx]\r\n", jint(reg, "bar"),
                        strcmp(json_string_value(json_object_get(reg, "type")), "io") ?
                        "mem" : "i/o", (unsigned long long)jint(reg, "address"),
                        (unsigned long long)(jint(reg, "address") + jint(reg, "size") - 1));
    }
    for (bus = ctx->scsi_buses; bus; bus = bus->next) {
        struct ob_scsi_dev *sd;

        if (bus->hba != d) {
            continue;
        }
        ob_qmp_buf_addf(out, "    bus: %s\r\n      type SCSI\r\n", bus->name);
        for (sd = bus->devs; sd; sd = sd->next_on_bus) {
            print_dev_head(out, &sd->dev, 6);
            print_props(out, &sd->dev, 8);
        }
    }
}

void ob_qmp_hmp_info_qtree(struct ob_qmp_req *r, struct ob_qmp_buf *out)
{
    json_t *buses = ob_qmp_cmd_query_pci(r, NULL);
    json_t *devs = json_object_get(json_array_get(buses, 0), "devices");
    struct ob_device *d;
    size_t i = 0;

    ob_qmp_buf_addf(out, "bus: main-system-bus\r\n  type System\r\n"
                    "  dev: remote-pcihost, id \"\"\r\n"
                    "    bus: remote-pci-bus\r\n      type PCI\r\n");
    for (d = r->qmp->ctx->devices; d; d = d->next) {
        struct ob_qmp_buf sub;
        char *line, *nl;

        if (d->type->bus != OB_BUS_PCI) {
            continue;
        }
        /* the device's lines, indented under the PCI bus */
        ob_qmp_buf_init(&sub);
        qtree_pci(r, &sub, d, json_array_get(devs, i++));
        for (line = sub.data; line && *line; line = nl) {
            nl = strstr(line, "\r\n");
            nl = nl ? nl + 2 : line + strlen(line);
            ob_qmp_buf_add(out, "      ", 6);
            ob_qmp_buf_add(out, line, (size_t)(nl - line));
        }
        ob_qmp_buf_fini(&sub);
    }
    json_decref(buses);
}

static void info_qtree(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    ob_qmp_hmp_info_qtree(r, out);
}

static const struct hmp_cmd info_cmds[] = {
    { "block", "[-n] [-v] [device]", "show info of one block device or all block "
      "devices (-n: show named nodes; -v: show details)", info_block },
    { "name", "", "show the current VM name", info_name },
    { "pci", "", "show PCI info", info_pci },
    { "qtree", "", "show device tree", info_qtree },
    { "status", "", "show the current VM status (running|paused)", info_status },
    { "version", "", "show the version of QEMU", info_version },
    { NULL, NULL, NULL, NULL },
};

/* ---- top level ------------------------------------------------------ */

static bool name_matches(const char *names, const char *word, size_t len)
{
    const char *p = names;

    while (*p) {
        size_t n = strcspn(p, "|");

        if (n == len && strncmp(p, word, len) == 0) {
            return true;
        }
        p += n;
        if (*p == '|') {
            p++;
        }
    }
    return false;
}

static void print_table(struct ob_qmp_buf *out, const char *prefix,
                        const struct hmp_cmd *t)
{
    for (; t->name; t++) {
        ob_qmp_buf_addf(out, "%s%s %s -- %s\r\n", prefix, t->name, t->params, t->help);
    }
}

static void do_info(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    const struct hmp_cmd *t;
    size_t len = strcspn(arg, " \t");

    if (len == 0) {
        print_table(out, "info ", info_cmds);
        return;
    }
    for (t = info_cmds; t->name; t++) {
        if (name_matches(t->name, arg, len)) {
            t->fn(r, arg + len + strspn(arg + len, " \t"), out);
            return;
        }
    }
    ob_qmp_buf_addf(out, "unknown command: 'info %.*s'\r\n", (int)len, arg);
}

static void do_help(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out);

static void do_stop(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    (void)out;
    ob_qmp_cmd_stop(r, NULL);
}

static void do_cont(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    ob_qmp_cmd_cont(r, NULL);
    if (r->err_class) {
        ob_qmp_buf_addf(out, "Error: %s\r\n", r->err_desc);
        ob_qmp_req_clear(r);
    }
}

static void do_system_reset(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    (void)out;
    ob_qmp_cmd_system_reset(r, NULL);
}

static void do_quit(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    (void)arg;
    (void)out;
    ob_qmp_cmd_quit(r, NULL);
}

static const struct hmp_cmd top_cmds[] = {
    { "cont|c", "", "resume emulation", do_cont },
    { "help|?", "[cmd]", "show the help", do_help },
    { "info", "[subcommand]", "show various information about the system state",
      do_info },
    { "quit|q", "", "quit the emulator", do_quit },
    { "stop|s", "", "stop emulation", do_stop },
    { "system_reset", "", "reset the system", do_system_reset },
    { NULL, NULL, NULL, NULL },
};

static void do_help(struct ob_qmp_req *r, const char *arg, struct ob_qmp_buf *out)
{
    const struct hmp_cmd *t;
    size_t len = strcspn(arg, " \t");

    (void)r;
    if (len == 0) {
        print_table(out, "", top_cmds);
        return;
    }
    if (len == 4 && strncmp(arg, "info", 4) == 0) {
        print_table(out, "info ", info_cmds);
        return;
    }
    for (t = top_cmds; t->name; t++) {
        if (name_matches(t->name, arg, len)) {
            ob_qmp_buf_addf(out, "%s %s -- %s\r\n", t->name, t->params, t->help);
            return;
        }
    }
    ob_qmp_buf_addf(out, "unknown command: '%.*s'\r\n", (int)len, arg);
}

char *ob_qmp_hmp(struct ob_qmp_req *r, const char *line)
{
    const struct hmp_cmd *t;
    struct ob_qmp_buf out;
    const char *p = line + strspn(line, " \t");
    size_t len = strcspn(p, " \t");

    ob_qmp_buf_init(&out);
    ob_qmp_buf_add(&out, "", 0);
    if (len > 0) {
        for (t = top_cmds; t->name; t++) {
            if (name_matches(t->name, p, len)) {
                t->fn(r, p + len + strspn(p + len, " \t"), &out);
                break;
            }
        }
        if (!t->name) {
            ob_qmp_buf_addf(&out, "unknown command: '%.*s'\r\n", (int)len, p);
        }
    }
    if (out.oom || !out.data) {
        ob_qmp_buf_fini(&out);
        return NULL;
    }
    return out.data;
}
