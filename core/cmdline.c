/*
 * cmdline.c - the x-remote argument vector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/cmdline.h"

enum opt_kind {
    OPT_MACHINE,
    OPT_DEVICE,
    OPT_DRIVE,
    OPT_OBJECT,
    OPT_QMP,
    OPT_CHARDEV,
    OPT_MON,
    OPT_NAME,
    OPT_LOGFILE,
    OPT_LOGSPEC,
    OPT_IGNORED_ARG,   /* display and monitor options: accepted, not needed */
    OPT_IGNORED,
    OPT_HELP,
    OPT_VERSION,
};

static const struct {
    const char *name;
    enum opt_kind kind;
    bool has_arg;
} opt_table[] = {
    { "machine",        OPT_MACHINE,     true },
    { "M",              OPT_MACHINE,     true },
    { "device",         OPT_DEVICE,      true },
    { "drive",          OPT_DRIVE,       true },
    { "object",         OPT_OBJECT,      true },
    { "qmp",            OPT_QMP,         true },
    { "qmp-pretty",     OPT_QMP,         true },
    { "chardev",        OPT_CHARDEV,     true },
    { "mon",            OPT_MON,         true },
    { "name",           OPT_NAME,        true },
    { "D",              OPT_LOGFILE,     true },
    { "d",              OPT_LOGSPEC,     true },
    { "display",        OPT_IGNORED_ARG, true },
    { "monitor",        OPT_IGNORED_ARG, true },
    { "serial",         OPT_IGNORED_ARG, true },
    { "parallel",       OPT_IGNORED_ARG, true },
    { "vga",            OPT_IGNORED_ARG, true },
    { "nographic",      OPT_IGNORED,     false },
    { "nodefaults",     OPT_IGNORED,     false },
    { "no-user-config", OPT_IGNORED,     false },
    { "h",              OPT_HELP,        false },
    { "help",           OPT_HELP,        false },
    { "version",        OPT_VERSION,     false },
};

static int push_opts(struct ob_opts **arr, size_t *n, const char *opt_name,
                     const char *arg, const char *implied, char *err, size_t errlen)
{
    struct ob_opts *v = realloc(*arr, (*n + 1) * sizeof(**arr));
    char why[200];

    if (!v) {
        snprintf(err, errlen, "%s: out of memory", opt_name);
        return -1;
    }
    *arr = v;
    if (ob_opts_parse(&v[*n], opt_name, arg, implied, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s %s: %s", opt_name, arg, why);
        return -1;
    }
    (*n)++;
    return 0;
}

int ob_cmdline_parse(struct ob_cmdline *cl, int argc, char **argv,
                     char *err, size_t errlen)
{
    int i;

    memset(cl, 0, sizeof(*cl));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name;
        const char *arg = NULL;
        size_t k;
        char why[200];

        if (a[0] != '-' || a[1] == '\0') {
            snprintf(err, errlen, "%s: unexpected argument (options start with '-')", a);
            goto fail;
        }
        name = a + 1;
        if (name[0] == '-') {
            name++;                 /* QEMU accepts --option too */
        }
        for (k = 0; k < sizeof(opt_table) / sizeof(opt_table[0]); k++) {
            if (strcmp(opt_table[k].name, name) == 0) {
                break;
            }
        }
        if (k == sizeof(opt_table) / sizeof(opt_table[0])) {
            snprintf(err, errlen, "%s: invalid option", a);
            goto fail;
        }
        if (opt_table[k].has_arg) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s: requires an argument", a);
                goto fail;
            }
            arg = argv[++i];
        }
        switch (opt_table[k].kind) {
        case OPT_MACHINE:
            if (cl->have_machine) {
                ob_opts_free(&cl->machine);   /* the last -machine wins */
            }
            if (ob_opts_parse(&cl->machine, "-machine", arg, "type", why, sizeof(why)) < 0) {
                snprintf(err, errlen, "-machine %s: %s", arg, why);
                cl->have_machine = false;
                goto fail;
            }
            cl->have_machine = true;
            break;
        case OPT_DEVICE:
            if (push_opts(&cl->devices, &cl->ndevices, "-device", arg, "driver",
                          err, errlen) < 0) {
                goto fail;
            }
            break;
        case OPT_DRIVE:
            if (push_opts(&cl->drives, &cl->ndrives, "-drive", arg, NULL,
                          err, errlen) < 0) {
                goto fail;
            }
            break;
        case OPT_OBJECT:
            if (push_opts(&cl->objects, &cl->nobjects, "-object", arg, "qom-type",
                          err, errlen) < 0) {
                goto fail;
            }
            break;
        case OPT_QMP: {
            const char **v = realloc(cl->qmp, (cl->nqmp + 1) * sizeof(*v));

            if (!v) {
                snprintf(err, errlen, "%s: out of memory", a);
                goto fail;
            }
            v[cl->nqmp++] = arg;
            cl->qmp = v;
            break;
        }
        case OPT_CHARDEV:
            if (push_opts(&cl->chardevs, &cl->nchardevs, "-chardev", arg, "backend",
                          err, errlen) < 0) {
                goto fail;
            }
            break;
        case OPT_MON:
            if (push_opts(&cl->mons, &cl->nmons, "-mon", arg, "chardev",
                          err, errlen) < 0) {
                goto fail;
            }
            break;
        case OPT_NAME:
            cl->name = arg;
            break;
        case OPT_LOGFILE:
            cl->log_file = arg;
            break;
        case OPT_LOGSPEC:
            cl->log_spec = arg;
            break;
        case OPT_IGNORED_ARG:
        case OPT_IGNORED:
            break;
        case OPT_HELP:
            cl->help = true;
            break;
        case OPT_VERSION:
            cl->version = true;
            break;
        }
    }
    return 0;

fail:
    ob_cmdline_free(cl);
    return -1;
}

static void free_list(struct ob_opts *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        ob_opts_free(&v[i]);
    }
    free(v);
}

void ob_cmdline_free(struct ob_cmdline *cl)
{
    if (cl->have_machine) {
        ob_opts_free(&cl->machine);
    }
    free_list(cl->devices, cl->ndevices);
    free_list(cl->drives, cl->ndrives);
    free_list(cl->objects, cl->nobjects);
    free_list(cl->chardevs, cl->nchardevs);
    free_list(cl->mons, cl->nmons);
    free(cl->qmp);
    memset(cl, 0, sizeof(*cl));
}

void ob_cmdline_usage(FILE *fp)
{
    fputs(
"usage: outboard -machine x-remote [options]\n"
"\n"
"A PCI device process for QEMU's multi-process mode: serves the devices given\n"
"with -device to QEMU's -device x-pci-proxy-dev over the sockets given with\n"
"-object x-remote-object. The argument vector is that of\n"
"`qemu-system-x86_64 -machine x-remote`.\n"
"\n"
"  -machine x-remote[,auto-shutdown=on|off]\n"
"                     the remote machine (required)\n"
"  -device TYPE[,id=ID][,PROP=VALUE...]\n"
"                     add a device; `-device help` lists the types,\n"
"                     `-device TYPE,help` their properties\n"
"  -drive id=ID,file=PATH,format=raw,if=none[,readonly=on][,cache=...]\n"
"                     a disk image for a storage device\n"
"  -object x-remote-object,id=ID,devid=DEVID,fd=N\n"
"                     serve device DEVID to the proxy on inherited socket fd N;\n"
"                     optional poll-us=N busy-polls the socket N microseconds\n"
"                     after each message (lower latency, more CPU)\n"
"  -qmp unix:PATH,server=on,wait=off | tcp:HOST:PORT,server=on,wait=off\n"
"                     a QMP monitor (several may be given; each socket\n"
"                     serves several clients at once)\n"
"  -chardev socket,id=ID,path=PATH,server=on,wait=off | ...,fd=N\n"
"  -mon chardev=ID,mode=control\n"
"                     a QMP monitor on a socket character device (fd=N: an\n"
"                     inherited listening or connected socket)\n"
"  -name NAME         the name query-name reports\n"
"  -D FILE            write the log to FILE instead of stderr\n"
"  -d ITEM[,ITEM...]  enable log items (`-d help` lists them)\n"
"  -nographic, -display ..., -monitor ..., -serial ..., -nodefaults,\n"
"  -no-user-config\n"
"                     accepted for compatibility; no effect\n"
"  -h, --help         this text\n"
"  --version          print the version\n", fp);
}
