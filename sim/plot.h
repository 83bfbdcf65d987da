/*
 * plot.h - charts drawn by gnuplot (DESIGN.md §7). A Plot is built in memory (series of points,
 * or bars), then written as a data file (.dat) and a gnuplot script (.gp) that reads it and
 * draws the same chart as PNG and SVG; plot_render writes all four files side by side, so a
 * user can restyle a chart with gnuplot alone. plot.c is the only file that opens pipes: it
 * runs gnuplot through popen and checks its exit status.
 *
 * gnuplot is found on PATH (or $LTSIM_GNUPLOT); when it is missing, rendering fails with
 * SIM_EPLOT and a line naming the Debian package to install. Nothing else needs it.
 */
#ifndef LTSIM_PLOT_H
#define LTSIM_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

#define PLOT_PACKAGE "gnuplot-nox" /* the Debian package that provides gnuplot */

typedef enum {
    PLOT_XY = 0,  /* series of (x, y) points, lines, error bars, bands and labels */
    PLOT_STACKED, /* one stacked bar per category, one stack element per column */
    PLOT_BARS     /* one bar per category, coloured by group, with a text label on top */
} PlotType;

/* How an XY series is drawn. Every series row is (x, y, e, label): e is the error of y for
 * PLOT_ERRORBARS, the upper edge of the band for PLOT_BAND (y is the lower edge), else 0. */
typedef enum {
    PLOT_POINTS = 0,    /* filled markers */
    PLOT_HOLLOW,        /* open markers (unconfirmed values) */
    PLOT_LINES,         /* a solid line */
    PLOT_DASHED,        /* a dashed line (fits) */
    PLOT_LINESPOINTS,   /* a solid line with filled markers */
    PLOT_DASHEDPOINTS,  /* a dashed line with open markers */
    PLOT_ERRORBARS,     /* open markers with vertical error bars y +- e */
    PLOT_BAND,          /* a translucent band from y to e */
    PLOT_LABELS,        /* the label text at (x, y) */
    PLOT_STYLE_COUNT
} PlotStyle;

typedef struct Plot Plot;

/* A new, empty chart called name (the file stem: [a-z0-9._-]+, e.g. "accuracy-wmt-en-fr").
 * NULL with err set: SIM_EINVAL for a bad name, SIM_ENOMEM. Free with plot_free. */
Plot *plot_new(PlotType type, const char *name, SimError *err);
void plot_free(Plot *p);

/* Texts are copied. Titles and labels are drawn verbatim (no enhanced-text markup). */
void plot_set_title(Plot *p, const char *title);
void plot_set_axes(Plot *p, const char *xlabel, const char *ylabel, int logx, int logy);

/* Where the key goes (default PLOT_KEY_RIGHT: outside, right of the graph). */
typedef enum {
    PLOT_KEY_RIGHT = 0,
    PLOT_KEY_BELOW,
    PLOT_KEY_TOP_LEFT,
    PLOT_KEY_TOP_RIGHT,
    PLOT_KEY_BOTTOM_RIGHT
} PlotKey;
void plot_set_key(Plot *p, PlotKey key);

/* Image size in pixels (default 1000 x 620). */
void plot_set_size(Plot *p, int width, int height);

/* A line of provenance written at the top of the data file and the script (one line, no
 * newline; the first 16 are kept). */
void plot_note(Plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* XY charts: adds a series and returns its index (-1 when out of memory). color is 0xRRGGBB;
 * marker a gnuplot point type (0: the style's default: 7 filled circle, 6 open circle, 12 open
 * diamond). The title goes into the key ("" or NULL: no key entry). */
int plot_series(Plot *p, const char *title, PlotStyle style, unsigned color, int marker);

/* Adds a point to series s. Points with a non-finite x or y (or, on a log axis, a value <= 0)
 * are dropped: they cannot be drawn. label may be NULL. */
void plot_point(Plot *p, int s, double x, double y, double e, const char *label);

/* Bar charts: the stack elements of a PLOT_STACKED chart (n <= 8), or the colour groups of a
 * PLOT_BARS chart, with their colours (0xRRGGBB) and key titles. Call once, before plot_bar. */
void plot_columns(Plot *p, const char *const *names, const unsigned *colors, int n);

/* Adds a category (a bar): PLOT_STACKED takes ncolumns values; PLOT_BARS takes one value
 * (values[0]), drawn in the colour of group, with label above it. */
void plot_bar(Plot *p, const char *category, const double *values, int group, const char *label);

const char *plot_name(const Plot *p);
size_t plot_npoints(const Plot *p); /* points drawn: XY points plus bars */

/* Writes the data file: a header of comments, then one block per non-empty series (blocks
 * separated by two blank lines, gnuplot's `index`), columns x, y, e, "label"; bar charts one
 * row per category. SIM_ENOMEM when building the chart ran out of memory, SIM_EIO. */
SimStatus plot_write_data(const Plot *p, FILE *f, SimError *err);

/* Writes the gnuplot script that reads <name>.dat (from the current directory) and writes
 * <name>.png (pngcairo when gnuplot has it, else png) and <name>.svg. SIM_EINVAL when the
 * chart has no point to draw. */
SimStatus plot_write_script(const Plot *p, FILE *f, SimError *err);

/* The gnuplot program: $LTSIM_GNUPLOT (a path or a name) or "gnuplot", searched on PATH.
 * Writes its path into path (n bytes). SIM_EPLOT when it is not there, with the hint to
 * install PLOT_PACKAGE. */
SimStatus plot_gnuplot_find(char *path, size_t n, SimError *err);

/* Writes dir/<name>.dat and dir/<name>.gp, then runs gnuplot on the script (through popen,
 * in dir) and checks that it exited with status 0 and wrote both images. dir must exist.
 * SIM_EINVAL (no data), SIM_EIO (a file cannot be written), SIM_EPLOT (gnuplot missing,
 * failed, or wrote no image: the message quotes its first error line). */
SimStatus plot_render(const Plot *p, const char *dir, SimError *err);

/* Writes dir/<name>.dat and dir/<name>.gp only (no gnuplot needed). SIM_EINVAL (no data),
 * SIM_EIO. */
SimStatus plot_write_files(const Plot *p, const char *dir, SimError *err);

/* Creates directory path and its parents as needed (mode 0755). SIM_EIO naming the path. */
SimStatus plot_mkdirs(const char *path, SimError *err);

#endif
