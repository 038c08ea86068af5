/*
 * cu_suites.c - command-line suite selection shared by the CUnit programs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "cu_suites.h"

void cu_list_suites(void)
{
    CU_pSuite s;

    for (s = CU_get_registry()->pSuite; s; s = s->pNext) {
        printf("%s (%u tests)\n", s->pName, s->uiNumberOfTests);
    }
}

int cu_select_suites(const char *prog, int argc, char **argv)
{
    CU_pSuite s;
    int i;

    for (i = 1; i < argc; i++) {
        if (!CU_get_suite(argv[i])) {
            fprintf(stderr, "%s: no suite '%s' (-l lists them)\n", prog, argv[i]);
            return -1;
        }
    }
    for (s = CU_get_registry()->pSuite; s; s = s->pNext) {
        bool wanted = false;

        for (i = 1; i < argc; i++) {
            wanted = wanted || strcmp(s->pName, argv[i]) == 0;
        }
        CU_set_suite_active(s, wanted ? CU_TRUE : CU_FALSE);
    }
    /* Suites left out on purpose are not failures. */
    CU_set_fail_on_inactive(CU_FALSE);
    return 0;
}
