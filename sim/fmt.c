/*
 * fmt.c - grouped counts (see fmt.h).
 */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* digits (a run of decimal digits) with a ',' before every group of three from the right,
 * after an optional '-', into buf; nothing is written past n - 1 characters. */
static void group(const char *digits, int neg, char *buf, size_t n) {
    if (buf == NULL || n == 0) return;
    size_t len = strlen(digits), k = 0;
    if (neg && k + 1 < n) buf[k++] = '-';
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            if (k + 2 >= n) break; /* no room for the comma and a digit */
            buf[k++] = ',';
        }
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
}

const char *fmt_grouped(uint64_t v, char *buf, size_t n) {
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    group(digits, 0, buf, n);
    return buf;
}

void fmt_count(double v, char *buf, size_t n) {
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return;
    }
    char digits[400]; /* DBL_MAX has 309 digits */
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    group(digits, v < 0 && strcmp(digits, "0") != 0, buf, n);
}
