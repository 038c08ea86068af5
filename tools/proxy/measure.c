/*
 * measure.c - latency summaries and CPU placement for the benchmarks.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The sample below which a fraction Q of the sorted samples lie. */
static uint64_t quantile(const uint64_t *s, size_t n, double q)
{
    size_t i = (size_t)(q * (double)n);

    return s[i < n ? i : n - 1];
}

void ob_proxy_lat_summarize(uint64_t *samples, size_t n, struct ob_proxy_lat *out)
{
    long double sum = 0;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (n == 0) {
        return;
    }
    qsort(samples, n, sizeof(*samples), cmp_u64);
    for (i = 0; i < n; i++) {
        sum += samples[i];
    }
    out->n = n;
    out->mean_ns = (double)(sum / n);
    out->min_ns = samples[0];
    out->p50_ns = quantile(samples, n, 0.50);
    out->p99_ns = quantile(samples, n, 0.99);
    out->max_ns = samples[n - 1];
}

int ob_proxy_pin_self(int cpu)
{
    cpu_set_t set;

    if (cpu < 0) {
        return 0;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}
