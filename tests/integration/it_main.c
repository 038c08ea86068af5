/*
 * it_main.c - the integration-test program: every suite starts the real
 * outboard binary ($OUTBOARD_BIN, default build/outboard) over socketpairs
 * with the proxy driver and checks its behaviour on the wire.
 *
 *   integration-tests            run every suite
 *   integration-tests SUITE...   run only the named suites
 *   integration-tests -l         list the suites
 *
 * Exit status: 0 when every test passed, 1 when one failed, 2 on a usage
 * error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../common/cu_suites.h"
#include "it.h"

static int (*const registrations[])(void) = {
    it_config_register,
    it_edu_register,
    it_dma_register,
    it_irq_register,
    it_sysmem_register,
    it_wire_register,
    it_proc_register,
    it_qemu_register,
    it_qmp_register,
    it_lsi_register,
    it_lsi_qemu_register,
    it_multi_register,
};

#define N_SUITES (sizeof(registrations) / sizeof(registrations[0]))

int main(int argc, char **argv)
{
    unsigned failed;
    size_t i;

    /* A remote that dies must show up as EPIPE, not kill the tests. */
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "integration-tests: %s\n", CU_get_error_msg());
        return 1;
    }
    for (i = 0; i < N_SUITES; i++) {
        if (registrations[i]() != CUE_SUCCESS) {
            fprintf(stderr, "integration-tests: registering suite %zu: %s\n", i,
                    CU_get_error_msg());
            CU_cleanup_registry();
            return 1;
        }
    }
    if (argc == 2 && strcmp(argv[1], "-l") == 0) {
        cu_list_suites();
        CU_cleanup_registry();
        return 0;
    }
    if (argc > 1 && cu_select_suites("integration-tests", argc, argv) < 0) {
        CU_cleanup_registry();
        return 2;
    }
    printf("integration tests against %s\n", it_outboard());
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    failed += CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
