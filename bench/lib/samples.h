/* samples: a growable array of measurements (float, e.g. milliseconds) and its quantiles, for
 * the load generators' latency figures. One owner thread per samples_t; merge them at the end. */
#ifndef BENCH_SAMPLES_H
#define BENCH_SAMPLES_H

#include <stddef.h>

typedef struct {
    float *v;
    size_t n, cap;
} samples_t;

/* Appends x. When memory runs out the sample is dropped: a lost sample is better than a lost
 * run. */
void samples_add(samples_t *s, double x);
/* Appends every sample of `from` to `into`. */
void samples_merge(samples_t *into, const samples_t *from);
/* Sorts in place: samples_quantile and samples_max need it. */
void samples_sort(samples_t *s);
/* Linear interpolation between closest ranks of the sorted samples; NAN when there are none. */
double samples_quantile(const samples_t *s, double q);
/* Frees the array; the samples_t is empty again. */
void samples_clear(samples_t *s);

#endif
