/* samples: measurements and their quantiles (samples.h). */
#include "samples.h"

#include <math.h>
#include <stdlib.h>

void samples_add(samples_t *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        float *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (float)x;
}

void samples_merge(samples_t *into, const samples_t *from)
{
    for (size_t i = 0; i < from->n; i++)
        samples_add(into, from->v[i]);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void samples_sort(samples_t *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_float);
}

double samples_quantile(const samples_t *s, double q)
{
    if (!s->n)
        return NAN;
    double pos = (double)(s->n - 1) * q;
    size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
    return s->v[lo] + (s->v[hi] - s->v[lo]) * (pos - (double)lo);
}

void samples_clear(samples_t *s)
{
    free(s->v);
    *s = (samples_t){0};
}
