/*
 * cmdline.h - the argument vector of `qemu-system-x86_64 -machine x-remote`,
 * as outboard accepts it.
 */
#ifndef OUTBOARD_CMDLINE_H
#define OUTBOARD_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "outboard/opts.h"

struct ob_cmdline {
    struct ob_opts machine;       /* -machine / -M (type in key "type") */
    bool have_machine;
    struct ob_opts *devices;      /* -device, in order (driver in "driver") */
    size_t ndevices;
    struct ob_opts *drives;       /* -drive */
    size_t ndrives;
    struct ob_opts *objects;      /* -object (type in "qom-type") */
    size_t nobjects;
    const char **qmp;             /* -qmp SPEC (and -qmp-pretty), in order */
    size_t nqmp;
    struct ob_opts *chardevs;     /* -chardev (backend in "backend") */
    size_t nchardevs;
    struct ob_opts *mons;         /* -mon (chardev in "chardev") */
    size_t nmons;
    const char *name;             /* -name */
    const char *log_file;         /* -D */
    const char *log_spec;         /* -d */
    bool help;                    /* -h / --help */
    bool version;                 /* --version */
};

/*
 * Parses ARGV[1..ARGC-1]. Returns 0, or -1 with one line in ERR naming the
 * offending option ("-foo: invalid option").
 */
int ob_cmdline_parse(struct ob_cmdline *cl, int argc, char **argv,
                     char *err, size_t errlen);
void ob_cmdline_free(struct ob_cmdline *cl);
void ob_cmdline_usage(FILE *fp);

#endif
