/*
 * fmt.h - numbers as the text outputs print them: counts with their digits grouped in
 * threes.
 */
#ifndef LTSIM_FMT_H
#define LTSIM_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "1,234,567" into buf (cut short to n - 1 characters); returns buf. */
const char *fmt_grouped(uint64_t v, char *buf, size_t n);

/* v rounded to a whole number and grouped ("-1,234,568"); "-" when v is not finite. */
void fmt_count(double v, char *buf, size_t n);

#endif
