/*
 * cu_suites.h - command-line suite selection shared by the CUnit programs
 * (unit-tests, integration-tests).
 */
#ifndef OUTBOARD_TESTS_CU_SUITES_H
#define OUTBOARD_TESTS_CU_SUITES_H

/* Prints every registered suite with its number of tests (for -l). */
void cu_list_suites(void);

/* Leaves only the suites named in ARGV[1..] active; -1 (with a message
 * naming PROG) if one does not exist. */
int cu_select_suites(const char *prog, int argc, char **argv);

#endif
