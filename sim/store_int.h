/*
 * store_int.h - private to the store module: the texts of db/schema.sql and db/published.csv
 * compiled into the binary (store_sql.c), one NUL-free line per string, NULL-terminated.
 */
#ifndef LTSIM_STORE_INT_H
#define LTSIM_STORE_INT_H

extern const char *const store_schema_lines[];
extern const char *const store_published_lines[];

#endif
