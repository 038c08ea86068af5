/*
 * main.c - the unit-test program: registers one CUnit suite per module and
 * runs them (or the one named on the command line) with the basic
 * interface in verbose mode.
 *
 *   unit-tests            run every suite
 *   unit-tests SUITE...   run only the named suites
 *   unit-tests -l         list the suites
 *
 * Exit status: 0 when every test passed, 1 when a test failed, a suite
 * could not be registered or set up, or the tests leaked file descriptors
 * (the modules own fds and must close them); 2 on a usage error.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../common/cu_suites.h"
#include "ut.h"

static int (*const suite_registrations[])(void) = {
    test_mpqemu_register,
    test_opts_register,
    test_cmdline_register,
    test_device_register,
    test_mem_register,
    test_irq_register,
    test_pci_register,
    test_edu_register,
    test_log_register,
    test_block_register,
    test_scsi_register,
    test_lsi_register,
    test_lsi_scripts_register,
    test_qmp_register,
};

#define N_SUITES (sizeof(suite_registrations) / sizeof(suite_registrations[0]))

static int register_all(void)
{
    size_t i;
    int failed = 0;

    for (i = 0; i < N_SUITES; i++) {
        if (suite_registrations[i]() != CUE_SUCCESS) {
            fprintf(stderr, "unit-tests: registering suite %zu failed: %s\n", i,
                    CU_get_error_msg());
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

/* Open file descriptors of this process (-1 if unknown). */
static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    int status = 0;
    int fds_before = count_open_fds(), fds_after;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "unit-tests: %s\n", CU_get_error_msg());
        return 1;
    }
    if (register_all() < 0) {
        status = 1;
    }
    if (argc == 2 && strcmp(argv[1], "-l") == 0) {
        cu_list_suites();
        CU_cleanup_registry();
        return status;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (argc > 1 && cu_select_suites("unit-tests", argc, argv) < 0) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_run_tests();
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
    if (CU_get_number_of_failure_records() > 0) {
        printf("\nFailures:\n");
        CU_basic_show_failures(CU_get_failure_list());
        printf("\n");
    }
    if (failed > 0 || CU_get_number_of_failures() > 0) {
        status = 1;
    }
    fds_after = count_open_fds();
    if (fds_before >= 0 && fds_after > fds_before) {
        printf("unit-tests: %d file descriptors leaked\n", fds_after - fds_before);
        status = 1;
    }
    printf("unit-tests: %u tests run, %u failed, %u suites failed to set up: %s\n",
           CU_get_number_of_tests_run(), CU_get_number_of_tests_failed(),
           CU_get_number_of_suites_failed(), status ? "FAIL" : "PASS");
    CU_cleanup_registry();
    return status;
}
