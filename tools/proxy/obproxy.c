/*
 * obproxy - drive an mpqemu remote (outboard, or QEMU's x-remote) from the
 * command line, playing QEMU's x-pci-proxy-dev. See --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outboard/proxy.h"

#define MAX_WORDS 8
#define LINE_MAX_LEN 1024

struct obp {
    struct ob_proxy px;
    struct ob_proxy_proc proc;
    uint64_t ram_size;
    bool echo;             /* print each command before its result */
};

static void usage(FILE *fp)
{
    fprintf(fp,
"usage: obproxy [OPTIONS] [-c COMMAND]... [-- REMOTE [ARG]...]\n"
"\n"
"Plays QEMU's x-pci-proxy-dev against an mpqemu remote started with one end\n"
"of a socketpair: '{fd}' in the remote's arguments becomes its descriptor.\n"
"At start it sends what QEMU sends at realize: SYNC_SYSMEM (guest RAM in a\n"
"sealed memfd, regions [0, 0xC0000) and [0x100000, size)) and SET_IRQFD.\n"
"Default remote: the outboard binary ($OUTBOARD_BIN or next to obproxy) with\n"
"  -machine x-remote -device edu,id=dev0\n"
"  -object x-remote-object,id=robj0,devid=dev0,fd={fd}\n"
"\n"
"Options:\n"
"  --ram-mib N     guest RAM size (default 16; 0 = no RAM, no SYNC_SYSMEM)\n"
"  --timeout MS    reply timeout (default %d)\n"
"  -c COMMAND      run COMMAND (repeatable; ';' separates commands); without\n"
"                  -c, commands are read from standard input, one per line\n"
"  -v              echo each command before its result\n"
"  -h, --help      this text\n"
"\n"
"Commands (numbers: decimal or 0x hex; one result line each):\n"
"  probe                 QEMU's realize probe: IDs, then size dwords 0x10..0x28\n"
"  program [CMD]         place the probed BARs, write COMMAND (default 0x7)\n"
"  bringup [CMD]         probe + program\n"
"  cfgr ADDR LEN         config read            -> value\n"
"  cfgw ADDR VAL LEN     config write           -> RET value\n"
"  barr BAR OFF SIZE     read BAR n + OFF       -> value\n"
"  barw BAR OFF VAL SIZE write BAR n + OFF      -> ok\n"
"  memr ADDR SIZE | memw ADDR VAL SIZE   memory-space access by bus address\n"
"  ior ADDR SIZE  | iow ADDR VAL SIZE    I/O-space access by port\n"
"  reset                 DEVICE_RESET           -> ok (RET size 0|8)\n"
"  wait-reset MS         wait for QEMU's start-up reset of the function (run\n"
"                        it first against QEMU's x-remote) -> reset | timeout\n"
"  wait-irq MS           wait for the irqfd     -> irq COUNT | timeout\n"
"  eoi                   write the resample eventfd (the guest's EOI)\n"
"  ramw GPA HEX          write bytes into guest RAM\n"
"  ramr GPA LEN          read guest RAM         -> hex\n"
"  sleep MS\n"
"At the end the socket is closed and the remote's exit status is printed\n"
"('exit N'). obproxy exits 0 if every command succeeded, 1 otherwise, 2 on\n"
"usage errors.\n", OB_PROXY_TIMEOUT_MS);
}

static int parse_num(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s) {
        return -1;
    }
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno || *end ? -1 : 0;
}

/* Parses NWANT numbers from W[1..]; prints an error on failure. */
static int nums(char **w, int nw, int nwant, uint64_t *v)
{
    int i;

    if (nw - 1 != nwant) {
        printf("error: %s takes %d argument%s\n", w[0], nwant, nwant == 1 ? "" : "s");
        return -1;
    }
    for (i = 0; i < nwant; i++) {
        if (parse_num(w[i + 1], &v[i]) < 0) {
            printf("error: %s: '%s' is not a number\n", w[0], w[i + 1]);
            return -1;
        }
    }
    return 0;
}

static int report(struct obp *o, int rc)
{
    if (rc < 0) {
        printf("error: %s\n", o->px.err);
    }
    return rc;
}

static int cmd_probe(struct obp *o)
{
    const struct ob_proxy_info *in = &o->px.info;
    unsigned i;

    if (report(o, ob_proxy_probe(&o->px)) < 0) {
        return -1;
    }
    printf("id %04x:%04x class %04x subsystem %04x\n", in->vendor_id, in->device_id,
           in->class_id, in->subsystem_id);
    for (i = 0; i < OB_PROXY_NUM_BARS; i++) {
        const struct ob_proxy_bar *b = &in->bar[i];

        printf("bar%u 0x%02x readback 0x%08x size 0x%x %s\n", i, 0x10 + 4 * i,
               b->readback, b->size, b->size == 0 ? "none" : b->io ? "io" : "mem");
    }
    return 0;
}

static int cmd_program(struct obp *o, char **w, int nw)
{
    uint64_t cmd = OB_PROXY_CMD_IO | OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER;
    unsigned i;

    if (nw > 2 || (nw == 2 && parse_num(w[1], &cmd) < 0)) {
        printf("error: %s [COMMAND]\n", w[0]);
        return -1;
    }
    if (report(o, ob_proxy_program_bars(&o->px, 0, 0, (uint16_t)cmd)) < 0) {
        return -1;
    }
    for (i = 0; i < OB_PROXY_NUM_BARS; i++) {
        const struct ob_proxy_bar *b = &o->px.info.bar[i];

        if (b->base) {
            printf("bar%u %s 0x%x size 0x%x\n", i, b->io ? "io" : "mem", b->base, b->size);
        }
    }
    printf("command 0x%04x\n", (unsigned)cmd);
    return 0;
}

static int cmd_access(struct obp *o, char **w, int nw)
{
    const char *c = w[0];
    uint64_t v[4], r = 0;
    int rc;

    if (strcmp(c, "cfgr") == 0) {
        if (nums(w, nw, 2, v) < 0) {
            return -1;
        }
        rc = ob_proxy_cfg_read(&o->px, (uint32_t)v[0], (int32_t)v[1], &r);
    } else if (strcmp(c, "cfgw") == 0) {
        if (nums(w, nw, 3, v) < 0) {
            return -1;
        }
        rc = ob_proxy_cfg_write(&o->px, (uint32_t)v[0], (uint32_t)v[1], (int32_t)v[2], &r);
    } else if (strcmp(c, "barr") == 0) {
        if (nums(w, nw, 3, v) < 0) {
            return -1;
        }
        rc = ob_proxy_barn_read(&o->px, (unsigned)v[0], v[1], (uint32_t)v[2], &r);
    } else if (strcmp(c, "barw") == 0) {
        if (nums(w, nw, 4, v) < 0) {
            return -1;
        }
        rc = ob_proxy_barn_write(&o->px, (unsigned)v[0], v[1], v[2], (uint32_t)v[3]);
    } else if (strcmp(c, "memr") == 0 || strcmp(c, "ior") == 0) {
        if (nums(w, nw, 2, v) < 0) {
            return -1;
        }
        rc = ob_proxy_bar_read(&o->px, v[0], (uint32_t)v[1], c[0] == 'm', &r);
    } else {
        if (nums(w, nw, 3, v) < 0) {
            return -1;
        }
        rc = ob_proxy_bar_write(&o->px, v[0], v[1], (uint32_t)v[2], c[0] == 'm', &r);
    }
    if (report(o, rc) < 0) {
        return -1;
    }
    if (strcmp(c, "barw") == 0) {
        printf("ok\n");
    } else {
        printf("0x%llx\n", (unsigned long long)r);
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int cmd_ramw(struct obp *o, char **w, int nw)
{
    uint8_t buf[LINE_MAX_LEN / 2];
    uint64_t gpa;
    size_t len, i;

    if (nw != 3 || parse_num(w[1], &gpa) < 0 || strlen(w[2]) % 2 != 0 ||
        strlen(w[2]) / 2 > sizeof(buf)) {
        printf("error: ramw GPA HEXBYTES\n");
        return -1;
    }
    len = strlen(w[2]) / 2;
    for (i = 0; i < len; i++) {
        int hi = hexval(w[2][2 * i]), lo = hexval(w[2][2 * i + 1]);

        if (hi < 0 || lo < 0) {
            printf("error: ramw: bad hex '%s'\n", w[2]);
            return -1;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    if (report(o, ob_proxy_ram_write(&o->px, gpa, buf, len)) < 0) {
        return -1;
    }
    printf("ok\n");
    return 0;
}

static int cmd_ramr(struct obp *o, char **w, int nw)
{
    uint64_t v[2];
    const uint8_t *p;
    size_t i;

    if (nums(w, nw, 2, v) < 0) {
        return -1;
    }
    p = ob_proxy_gpa(&o->px, v[0], (size_t)v[1]);
    if (!p) {
        printf("error: guest address 0x%llx (+%llu) is not RAM\n",
               (unsigned long long)v[0], (unsigned long long)v[1]);
        return -1;
    }
    for (i = 0; i < v[1]; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
    return 0;
}

static int cmd_irq(struct obp *o, char **w, int nw)
{
    uint64_t ms, cnt = 0;
    int rc;

    if (strcmp(w[0], "eoi") == 0) {
        if (report(o, ob_proxy_irq_eoi(&o->px)) < 0) {
            return -1;
        }
        printf("ok\n");
        return 0;
    }
    if (nums(w, nw, 1, &ms) < 0) {
        return -1;
    }
    rc = report(o, ob_proxy_irq_wait(&o->px, (int)ms, &cnt));
    if (rc > 0) {
        printf("irq %llu\n", (unsigned long long)cnt);
    } else if (rc == 0) {
        printf("timeout\n");
    }
    return rc < 0 ? -1 : 0;
}

static int run_words(struct obp *o, char **w, int nw)
{
    static const char *const access_cmds[] = {
        "cfgr", "cfgw", "barr", "barw", "memr", "memw", "ior", "iow", NULL,
    };
    const char *c = w[0];
    unsigned i;
    bool has_val = false;
    uint64_t ms;

    if (strcmp(c, "probe") == 0) {
        return cmd_probe(o);
    }
    if (strcmp(c, "program") == 0) {
        return cmd_program(o, w, nw);
    }
    if (strcmp(c, "bringup") == 0) {
        return cmd_probe(o) < 0 ? -1 : cmd_program(o, w, nw);
    }
    if (strcmp(c, "reset") == 0) {
        if (report(o, ob_proxy_reset(&o->px, &has_val)) < 0) {
            return -1;
        }
        printf("ok (RET size %d)\n", has_val ? 8 : 0);
        return 0;
    }
    if (strcmp(c, "wait-reset") == 0) {
        int rc;

        if (nums(w, nw, 1, &ms) < 0 ||
            report(o, rc = ob_proxy_wait_remote_reset(&o->px, (int)ms)) < 0) {
            return -1;
        }
        printf("%s\n", rc ? "reset" : "timeout");
        return 0;
    }
    if (strcmp(c, "wait-irq") == 0 || strcmp(c, "eoi") == 0) {
        return cmd_irq(o, w, nw);
    }
    if (strcmp(c, "ramw") == 0) {
        return cmd_ramw(o, w, nw);
    }
    if (strcmp(c, "ramr") == 0) {
        return cmd_ramr(o, w, nw);
    }
    if (strcmp(c, "sleep") == 0) {
        struct timespec ts;

        if (nums(w, nw, 1, &ms) < 0) {
            return -1;
        }
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000;
        nanosleep(&ts, NULL);
        return 0;
    }
    for (i = 0; access_cmds[i]; i++) {
        if (strcmp(c, access_cmds[i]) == 0) {
            return cmd_access(o, w, nw);
        }
    }
    printf("error: unknown command '%s' (obproxy --help lists them)\n", c);
    return -1;
}

/* Runs every ';'-separated command of LINE. Returns the number that failed. */
static int run_line(struct obp *o, char *line)
{
    char *save = NULL, *cmd;
    int failed = 0;

    for (cmd = strtok_r(line, ";\n", &save); cmd; cmd = strtok_r(NULL, ";\n", &save)) {
        char *w[MAX_WORDS], *ws = NULL, *tok, shown[LINE_MAX_LEN];
        int nw = 0;

        cmd += strspn(cmd, " \t\r");
        snprintf(shown, sizeof(shown), "%s", cmd);

        for (tok = strtok_r(cmd, " \t\r", &ws); tok && nw < MAX_WORDS;
             tok = strtok_r(NULL, " \t\r", &ws)) {
            w[nw++] = tok;
        }
        if (nw == 0 || w[0][0] == '#') {
            continue;
        }
        if (o->echo) {
            printf("> %s\n", shown);
        }
        if (run_words(o, w, nw) < 0) {
            failed++;
        }
        fflush(stdout);
    }
    return failed;
}

static int start(struct obp *o, char **argv)
{
    char bin[1024], err[OB_PROXY_ERRLEN];
    char *defargv[] = {
        (char *)ob_proxy_default_remote(bin, sizeof(bin)), "-machine", "x-remote",
        "-device", "edu,id=dev0",
        "-object", "x-remote-object,id=robj0,devid=dev0,fd={fd}", NULL,
    };

    if (ob_proxy_spawn(&o->proc, argv[0] ? argv : defargv, &o->px, 1, NULL, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "obproxy: %s\n", err);
        return -1;
    }
    if (o->ram_size && (ob_proxy_ram_setup(&o->px, o->ram_size) < 0 ||
                        ob_proxy_sync_default(&o->px) < 0)) {
        fprintf(stderr, "obproxy: %s\n", o->px.err);
        return -1;
    }
    if (ob_proxy_irq_setup(&o->px) < 0) {
        fprintf(stderr, "obproxy: %s\n", o->px.err);
        return -1;
    }
    return 0;
}

static int parse_opts(struct obp *o, int argc, char **argv, char ***cmds, int *ncmds)
{
    static const struct option lopts[] = {
        { "ram-mib", required_argument, NULL, 'r' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "+c:vh", lopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (parse_num(optarg, &v) < 0 || v > 65536) {
                fprintf(stderr, "obproxy: --ram-mib expects 0..65536\n");
                return -1;
            }
            o->ram_size = v << 20;
            break;
        case 't':
            if (parse_num(optarg, &v) < 0 || v == 0 || v > 3600000) {
                fprintf(stderr, "obproxy: --timeout expects milliseconds\n");
                return -1;
            }
            o->px.timeout_ms = (int)v;
            break;
        case 'c':
            (*cmds)[(*ncmds)++] = optarg;
            break;
        case 'v':
            o->echo = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    struct obp o;
    char **cmds = calloc((size_t)argc + 1, sizeof(char *));
    char line[LINE_MAX_LEN];
    int ncmds = 0, failed = 0, first, i, status;

    memset(&o, 0, sizeof(o));
    o.ram_size = 16u << 20;
    ob_proxy_init(&o.px);
    if (!cmds || (first = parse_opts(&o, argc, argv, &cmds, &ncmds)) < 0) {
        free(cmds);
        return 2;
    }
    if (start(&o, argv + first) < 0) {
        ob_proxy_fini(&o.px);
        if (o.proc.pid > 0) {
            ob_proxy_proc_wait(&o.proc, 3000);
        }
        free(cmds);
        return 1;
    }
    for (i = 0; i < ncmds; i++) {
        failed += run_line(&o, cmds[i]);
    }
    if (ncmds == 0) {
        while (fgets(line, sizeof(line), stdin)) {
            failed += run_line(&o, line);
        }
    }
    ob_proxy_fini(&o.px);
    status = ob_proxy_proc_wait(&o.proc, 3000);
    printf("exit %d%s\n", status, o.proc.killed ? " (killed after 3 s)" : "");
    free(cmds);
    return failed ? 1 : 0;
}
