/*
 * plot.c - charts as gnuplot data files and scripts, rendered by gnuplot through popen (the
 * only pipe ltsim opens). See plot.h.
 *
 * Every chart is written as <name>.dat and <name>.gp; the script selects pngcairo when
 * gnuplot has it (else png), writes <name>.png, then switches to svg and replots into
 * <name>.svg. ltsim pipes the same script into gnuplot after a `cd` into the output
 * directory, so running `gnuplot <name>.gp` there redraws exactly what ltsim drew.
 */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PLOT_MAX_NOTES 16
#define PLOT_MAX_COLUMNS 8

typedef struct {
    double x, y, e;
    char *label; /* NULL: none */
} PlotPoint;

typedef struct {
    char *title;
    PlotStyle style;
    unsigned color;
    int marker;
    PlotPoint *pts;
    size_t n, cap;
} PlotSeries;

typedef struct {
    char *category;
    double v[PLOT_MAX_COLUMNS];
    int group;
    char *label;
} PlotBar;

struct Plot {
    PlotType type;
    char name[96];
    char *title, *xlabel, *ylabel;
    int logx, logy;
    int width, height;
    PlotKey key;
    char *notes[PLOT_MAX_NOTES];
    int nnotes;
    PlotSeries *series;
    int nseries, cap_series;
    char *colnames[PLOT_MAX_COLUMNS];
    unsigned colcolors[PLOT_MAX_COLUMNS];
    int ncols;
    PlotBar *bars;
    size_t nbars, cap_bars;
    int oom; /* an allocation failed while building: writing reports SIM_ENOMEM */
};

/* ---- building ---- */

static char *dup_or_null(Plot *p, const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d == NULL) {
        p->oom = 1;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static void set_text(Plot *p, char **dst, const char *s) {
    free(*dst);
    *dst = dup_or_null(p, s);
}

Plot *plot_new(PlotType type, const char *name, SimError *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof ((Plot *)0)->name) {
        sim_errorf(err, SIM_EINVAL, "chart name '%s': expected 1 to 95 characters",
                   name ? name : "");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            sim_errorf(err, SIM_EINVAL, "chart name '%s': only a-z, 0-9, '-', '_' and '.'",
                       name);
            return NULL;
        }
    }
    Plot *p = calloc(1, sizeof *p);
    if (p == NULL) {
        sim_errorf(err, SIM_ENOMEM, "out of memory creating chart %s", name);
        return NULL;
    }
    p->type = type;
    memcpy(p->name, name, n + 1);
    p->width = 1000;
    p->height = 620;
    return p;
}

void plot_free(Plot *p) {
    if (p == NULL) return;
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    for (int i = 0; i < p->nnotes; i++) free(p->notes[i]);
    for (int s = 0; s < p->nseries; s++) {
        for (size_t i = 0; i < p->series[s].n; i++) free(p->series[s].pts[i].label);
        free(p->series[s].pts);
        free(p->series[s].title);
    }
    free(p->series);
    for (int c = 0; c < p->ncols; c++) free(p->colnames[c]);
    for (size_t i = 0; i < p->nbars; i++) {
        free(p->bars[i].category);
        free(p->bars[i].label);
    }
    free(p->bars);
    free(p);
}

void plot_set_title(Plot *p, const char *title) { set_text(p, &p->title, title); }

void plot_set_axes(Plot *p, const char *xlabel, const char *ylabel, int logx, int logy) {
    set_text(p, &p->xlabel, xlabel);
    set_text(p, &p->ylabel, ylabel);
    p->logx = logx != 0;
    p->logy = logy != 0;
}

void plot_set_key(Plot *p, PlotKey key) { p->key = key; }

void plot_set_size(Plot *p, int width, int height) {
    if (width >= 200 && width <= 8000) p->width = width;
    if (height >= 150 && height <= 8000) p->height = height;
}

void plot_note(Plot *p, const char *fmt, ...) {
    if (p->nnotes == PLOT_MAX_NOTES) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    char *d = dup_or_null(p, buf);
    if (d) p->notes[p->nnotes++] = d;
}

int plot_series(Plot *p, const char *title, PlotStyle style, unsigned color, int marker) {
    if (p->type != PLOT_XY || style < 0 || style >= PLOT_STYLE_COUNT) return -1;
    if (p->nseries == p->cap_series) {
        int nc = p->cap_series ? p->cap_series * 2 : 8;
        PlotSeries *ns = realloc(p->series, (size_t)nc * sizeof *ns);
        if (ns == NULL) {
            p->oom = 1;
            return -1;
        }
        p->series = ns;
        p->cap_series = nc;
    }
    PlotSeries *s = &p->series[p->nseries];
    memset(s, 0, sizeof *s);
    s->title = dup_or_null(p, title ? title : "");
    s->style = style;
    s->color = color & 0xffffffu;
    s->marker = marker;
    return p->nseries++;
}

void plot_point(Plot *p, int si, double x, double y, double e, const char *label) {
    if (si < 0 || si >= p->nseries) return;
    if (!isfinite(x) || !isfinite(y)) return;
    if ((p->logx && x <= 0) || (p->logy && y <= 0)) return;
    PlotSeries *s = &p->series[si];
    if (s->style == PLOT_BAND && (!isfinite(e) || (p->logy && e <= 0))) return;
    if (!isfinite(e)) e = 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        PlotPoint *np = realloc(s->pts, nc * sizeof *np);
        if (np == NULL) {
            p->oom = 1;
            return;
        }
        s->pts = np;
        s->cap = nc;
    }
    s->pts[s->n].x = x;
    s->pts[s->n].y = y;
    s->pts[s->n].e = e;
    s->pts[s->n].label = label && *label ? dup_or_null(p, label) : NULL;
    s->n++;
}

void plot_columns(Plot *p, const char *const *names, const unsigned *colors, int n) {
    if (n > PLOT_MAX_COLUMNS) n = PLOT_MAX_COLUMNS;
    for (int c = 0; c < p->ncols; c++) free(p->colnames[c]);
    p->ncols = 0;
    for (int c = 0; c < n; c++) {
        p->colnames[c] = dup_or_null(p, names[c] ? names[c] : "");
        p->colcolors[c] = colors ? colors[c] & 0xffffffu : 0x808080u;
        p->ncols = c + 1;
    }
}

void plot_bar(Plot *p, const char *category, const double *values, int group,
              const char *label) {
    if (p->type == PLOT_XY) return;
    if (p->nbars == p->cap_bars) {
        size_t nc = p->cap_bars ? p->cap_bars * 2 : 16;
        PlotBar *nb = realloc(p->bars, nc * sizeof *nb);
        if (nb == NULL) {
            p->oom = 1;
            return;
        }
        p->bars = nb;
        p->cap_bars = nc;
    }
    PlotBar *b = &p->bars[p->nbars];
    memset(b, 0, sizeof *b);
    int nv = p->type == PLOT_STACKED ? p->ncols : 1;
    for (int i = 0; i < nv; i++) b->v[i] = values && isfinite(values[i]) ? values[i] : 0;
    if (p->type == PLOT_BARS && p->logy && !(b->v[0] > 0)) return; /* not drawable */
    b->category = dup_or_null(p, category ? category : "");
    b->label = dup_or_null(p, label ? label : "");
    b->group = group >= 0 && group < PLOT_MAX_COLUMNS ? group : 0;
    p->nbars++;
}

const char *plot_name(const Plot *p) { return p->name; }

size_t plot_npoints(const Plot *p) {
    size_t n = p->nbars;
    for (int s = 0; s < p->nseries; s++) n += p->series[s].n;
    return n;
}

/* ---- writing ---- */

/* A gnuplot single-quoted string: no escapes inside, '' stands for a quote; newlines become
 * spaces (a script line must stay one line). */
static void gp_str(FILE *f, const char *s) {
    fputc('\'', f);
    for (const char *c = s ? s : ""; *c; c++) {
        if (*c == '\'') fputs("''", f);
        else if (*c == '\n' || *c == '\r') fputc(' ', f);
        else fputc(*c, f);
    }
    fputc('\'', f);
}

/* A quoted column of a data file: double quotes, none inside. */
static void dat_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const char *c = s ? s : ""; *c; c++) {
        if (*c == '"') fputc('\'', f);
        else if (*c == '\n' || *c == '\r' || *c == '\t') fputc(' ', f);
        else fputc(*c, f);
    }
    fputc('"', f);
}

static void header(const Plot *p, FILE *f, const char *what) {
    char date[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "# %s.%s - %s, written by ltsim on %s\n", p->name, what,
            strcmp(what, "dat") == 0 ? "the data of the chart" : "the gnuplot script of the chart",
            date);
    for (int i = 0; i < p->nnotes; i++) fprintf(f, "# %s\n", p->notes[i]);
}

static SimStatus check_writable(const Plot *p, SimError *err) {
    if (p->oom) return sim_errorf(err, SIM_ENOMEM, "out of memory building chart %s", p->name);
    return SIM_OK;
}

static SimStatus stream_status(FILE *f, const char *what, const Plot *p, SimError *err) {
    if (fflush(f) != 0 || ferror(f))
        return sim_errorf(err, SIM_EIO, "writing the %s of chart %s failed: %s", what, p->name,
                          strerror(errno ? errno : EIO));
    return SIM_OK;
}

SimStatus plot_write_data(const Plot *p, FILE *f, SimError *err) {
    if (check_writable(p, err) != SIM_OK) return err->code;
    header(p, f, "dat");
    if (p->type == PLOT_XY) {
        fprintf(f, "# one block per series (gnuplot index 0, 1, ...); columns: x, y, e, label\n"
                   "# (e: the error of y for error bars, the upper edge of a band, else 0)\n");
        if (p->xlabel) fprintf(f, "# x: %s\n", p->xlabel);
        if (p->ylabel) fprintf(f, "# y: %s\n", p->ylabel);
        int index = 0;
        for (int s = 0; s < p->nseries; s++) {
            const PlotSeries *ps = &p->series[s];
            if (ps->n == 0) continue;
            fprintf(f, "%s# index %d: %s\n", index ? "\n\n" : "\n", index,
                    ps->title && *ps->title ? ps->title : "(no title)");
            for (size_t i = 0; i < ps->n; i++) {
                const PlotPoint *pt = &ps->pts[i];
                fprintf(f, "%.10g\t%.10g\t%.10g\t", pt->x, pt->y, pt->e);
                dat_str(f, pt->label ? pt->label : "");
                fputc('\n', f);
            }
            index++;
        }
    } else if (p->type == PLOT_STACKED) {
        fprintf(f, "# one row per bar; columns: category");
        for (int c = 0; c < p->ncols; c++) fprintf(f, ", %s", p->colnames[c]);
        fprintf(f, "\n");
        if (p->ylabel) fprintf(f, "# values: %s\n", p->ylabel);
        for (size_t i = 0; i < p->nbars; i++) {
            dat_str(f, p->bars[i].category);
            for (int c = 0; c < p->ncols; c++) fprintf(f, "\t%.10g", p->bars[i].v[c]);
            fputc('\n', f);
        }
    } else {
        fprintf(f, "# one row per bar; columns: position, value, colour (0xRRGGBB as a number), "
                   "category, label, group\n");
        if (p->ylabel) fprintf(f, "# value: %s\n", p->ylabel);
        for (size_t i = 0; i < p->nbars; i++) {
            const PlotBar *b = &p->bars[i];
            unsigned col = b->group < p->ncols ? p->colcolors[b->group] : 0x808080u;
            fprintf(f, "%zu\t%.10g\t%u\t", i, b->v[0], col);
            dat_str(f, b->category);
            fputc('\t', f);
            dat_str(f, b->label);
            fputc('\t', f);
            dat_str(f, b->group < p->ncols ? p->colnames[b->group] : "");
            fputc('\n', f);
        }
    }
    return stream_status(f, "data", p, err);
}

static const char *style_with(PlotStyle s) {
    switch (s) {
    case PLOT_POINTS:
    case PLOT_HOLLOW: return "points";
    case PLOT_LINES:
    case PLOT_DASHED: return "lines";
    case PLOT_LINESPOINTS:
    case PLOT_DASHEDPOINTS: return "linespoints";
    case PLOT_ERRORBARS: return "yerrorbars";
    case PLOT_BAND: return "filledcurves";
    case PLOT_LABELS: return "labels";
    default: return "points";
    }
}

static void plot_xy(const Plot *p, FILE *f) {
    int index = 0, first = 1;
    fputs("plot ", f);
    for (int s = 0; s < p->nseries; s++) {
        const PlotSeries *ps = &p->series[s];
        if (ps->n == 0) continue;
        if (!first) fputs(", \\\n     ", f);
        first = 0;
        const char *cols = "1:2";
        if (ps->style == PLOT_ERRORBARS || ps->style == PLOT_BAND) cols = "1:2:3";
        else if (ps->style == PLOT_LABELS) cols = "1:2:4";
        fprintf(f, "dat index %d using %s with %s", index, cols, style_with(ps->style));
        int marker = ps->marker;
        switch (ps->style) {
        case PLOT_POINTS: fprintf(f, " pt %d ps 1.3", marker ? marker : 7); break;
        case PLOT_HOLLOW: fprintf(f, " pt %d ps 1.3 lw 1.5", marker ? marker : 6); break;
        case PLOT_LINES: fputs(" lw 2", f); break;
        case PLOT_DASHED: fputs(" lw 1.5 dt 2", f); break;
        case PLOT_LINESPOINTS: fprintf(f, " pt %d ps 1.1 lw 1.5", marker ? marker : 7); break;
        case PLOT_DASHEDPOINTS:
            fprintf(f, " pt %d ps 1.1 lw 1.5 dt 2", marker ? marker : 6);
            break;
        case PLOT_ERRORBARS: fprintf(f, " pt %d ps 1.5 lw 1.2", marker ? marker : 12); break;
        case PLOT_BAND: fputs(" fs transparent solid 0.18 noborder", f); break;
        case PLOT_LABELS: fputs(" offset 0,0.9 font ',9'", f); break;
        default: break;
        }
        fprintf(f, " %s rgb '#%06x'", ps->style == PLOT_LABELS ? "tc" : "lc", ps->color);
        if (ps->title && *ps->title && ps->style != PLOT_LABELS) {
            fputs(" title ", f);
            gp_str(f, ps->title);
        } else {
            fputs(" notitle", f);
        }
        index++;
    }
    fputc('\n', f);
}

static void plot_stacked(const Plot *p, FILE *f) {
    fputs("set style data histograms\n"
          "set style histogram rowstacked\n"
          "set style fill solid 0.85 border rgb '#404040'\n"
          "set boxwidth 0.75 relative\n"
          "set xtics rotate by 30 right nomirror\n"
          "set yrange [0:*]\n",
          f);
    fputs("plot ", f);
    for (int c = 0; c < p->ncols; c++) {
        if (c) fputs(", \\\n     ", f);
        fprintf(f, "dat index 0 using %d%s lc rgb '#%06x' title ", c + 2, c == 0 ? ":xtic(1)" : "",
                p->colcolors[c]);
        gp_str(f, p->colnames[c]);
    }
    fputc('\n', f);
}

static void plot_bars(const Plot *p, FILE *f) {
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < p->nbars; i++) {
        if (p->bars[i].v[0] > 0 && p->bars[i].v[0] < lo) lo = p->bars[i].v[0];
        if (p->bars[i].v[0] > hi) hi = p->bars[i].v[0];
    }
    fputs("set style fill solid 0.85 border rgb '#404040'\n"
          "set boxwidth 0.7\n"
          "set xtics rotate by 30 right nomirror\n",
          f);
    fprintf(f, "set xrange [-0.9:%.1f]\n", (double)p->nbars - 0.1);
    if (p->logy && hi > 0)
        fprintf(f, "set yrange [%.6g:%.6g]\n", pow(10.0, floor(log10(lo)) - 0.3),
                pow(10.0, ceil(log10(hi)) + 0.5));
    else fputs("set yrange [0:*]\n", f);
    fputs("plot dat index 0 using 1:2:3:xtic(4) with boxes lc rgb variable notitle, \\\n"
          "     dat index 0 using 1:2:5 with labels offset 0,0.8 font ',9' notitle",
          f);
    for (int g = 0; g < p->ncols; g++) {
        fprintf(f, ", \\\n     keyentry with boxes lc rgb '#%06x' title ", p->colcolors[g]);
        gp_str(f, p->colnames[g]);
    }
    fputc('\n', f);
}

/* A log axis spanning less than three decades gets tics at 1, 2 and 5 times each power of
 * ten (gnuplot's default would label a single decade mark, or none). */
static void log_tics(FILE *f, char axis, double lo, double hi) {
    if (!(lo > 0) || hi / lo >= 1000) return;
    char list[512] = "";
    int n = 0;
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++)
        for (int m = 0; m < 3; m++) {
            double v = (m == 0 ? 1 : m == 1 ? 2 : 5) * pow(10.0, e);
            size_t k = strlen(list);
            if (v >= lo && v <= hi && k + 32 < sizeof list)
                snprintf(list + k, sizeof list - k, "%s%.6g", n++ ? ", " : "", v);
        }
    if (n > 0) fprintf(f, "set %ctics (%s)\n", axis, list);
}

SimStatus plot_write_script(const Plot *p, FILE *f, SimError *err) {
    if (check_writable(p, err) != SIM_OK) return err->code;
    if (plot_npoints(p) == 0)
        return sim_errorf(err, SIM_EINVAL, "chart %s has no data to draw", p->name);
    header(p, f, "gp");
    fprintf(f, "# Run it in this directory: gnuplot %s.gp  (reads %s.dat, writes %s.png and "
               "%s.svg)\n\n",
            p->name, p->name, p->name, p->name);
    fprintf(f, "dat = '%s.dat'\n", p->name);
    fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "    set terminal pngcairo size %d,%d noenhanced font 'Sans,10' background rgb "
               "'white'\n"
               "} else {\n"
               "    set terminal png size %d,%d noenhanced background rgb 'white'\n"
               "}\n",
            p->width, p->height, p->width, p->height);
    fprintf(f, "set output '%s.png'\n", p->name);
    if (p->title) {
        fputs("set title ", f);
        gp_str(f, p->title);
        fputc('\n', f);
    }
    if (p->xlabel) {
        fputs("set xlabel ", f);
        gp_str(f, p->xlabel);
        fputc('\n', f);
    }
    if (p->ylabel) {
        fputs("set ylabel ", f);
        gp_str(f, p->ylabel);
        fputc('\n', f);
    }
    if (p->logx && p->type == PLOT_XY) fputs("set logscale x\n", f);
    if (p->logy) fputs("set logscale y\n", f);
    fputs("set grid lc rgb '#d0d0d0'\n", f);
    switch (p->key) {
    case PLOT_KEY_BELOW:
        fputs("set key outside below left Left reverse horizontal maxcols 3 samplen 2 "
              "spacing 1.1 font ',9'\n",
              f);
        break;
    case PLOT_KEY_TOP_LEFT:
        fputs("set key inside left top Left reverse samplen 2 spacing 1.1 font ',9' box "
              "lc rgb '#cccccc' opaque\n",
              f);
        break;
    case PLOT_KEY_TOP_RIGHT:
        fputs("set key inside right top Left reverse samplen 2 spacing 1.1 font ',9' box "
              "lc rgb '#cccccc' opaque\n",
              f);
        break;
    case PLOT_KEY_BOTTOM_RIGHT:
        fputs("set key inside right bottom Left reverse samplen 2 spacing 1.1 font ',9' box "
              "lc rgb '#cccccc' opaque\n",
              f);
        break;
    default:
        fputs("set key outside right top vertical Left reverse samplen 2 spacing 1.15 "
              "font ',9'\n",
              f);
    }
    fputs("set border 3\n"
          "set tics nomirror\n",
          f);
    if (p->type == PLOT_XY) {
        /* log axes: the data's range with a margin, not whole decades */
        double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0};
        for (int s = 0; s < p->nseries; s++)
            for (size_t i = 0; i < p->series[s].n; i++) {
                const PlotPoint *pt = &p->series[s].pts[i];
                double ys[2] = {pt->y, pt->y};
                if (p->series[s].style == PLOT_ERRORBARS) {
                    ys[0] = pt->y - pt->e;
                    ys[1] = pt->y + pt->e;
                } else if (p->series[s].style == PLOT_BAND) {
                    ys[1] = pt->e;
                }
                if (pt->x < lo[0]) lo[0] = pt->x;
                if (pt->x > hi[0]) hi[0] = pt->x;
                for (int k = 0; k < 2; k++) {
                    if (ys[k] > 0 && ys[k] < lo[1]) lo[1] = ys[k];
                    if (ys[k] > hi[1]) hi[1] = ys[k];
                }
            }
        if (p->logx && hi[0] > 0) {
            fprintf(f, "set xrange [%.6g:%.6g]\n", lo[0] / 1.25, hi[0] * 1.25);
            fputs("set format x '%g'\n", f);
            log_tics(f, 'x', lo[0] / 1.25, hi[0] * 1.25);
        }
        if (p->logy && hi[1] > 0) {
            fprintf(f, "set yrange [%.6g:%.6g]\n", lo[1] / 1.25, hi[1] * 1.25);
            fputs("set format y '%g'\n", f);
            log_tics(f, 'y', lo[1] / 1.25, hi[1] * 1.25);
        }
        plot_xy(p, f);
    } else if (p->type == PLOT_STACKED) {
        plot_stacked(p, f);
    } else {
        if (p->logy) fputs("set format y '%.0f'\n", f);
        plot_bars(p, f);
    }
    fprintf(f, "set terminal svg size %d,%d noenhanced font 'Sans,10' background rgb 'white'\n"
               "set output '%s.svg'\n"
               "replot\n"
               "set output\n",
            p->width, p->height, p->name);
    return stream_status(f, "script", p, err);
}

/* ---- running gnuplot ---- */

SimStatus plot_gnuplot_find(char *path, size_t n, SimError *err) {
    const char *name = getenv("LTSIM_GNUPLOT");
    if (name == NULL || *name == '\0') name = "gnuplot";
    if (strchr(name, '/') != NULL) {
        if (access(name, X_OK) == 0) {
            snprintf(path, n, "%s", name);
            return SIM_OK;
        }
    } else {
        const char *env = getenv("PATH");
        const char *dirs = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
        for (const char *d = dirs; *d;) {
            const char *e = strchr(d, ':');
            size_t len = e ? (size_t)(e - d) : strlen(d);
            char cand[1024];
            int k = snprintf(cand, sizeof cand, "%.*s/%s", (int)(len ? len : 1),
                             len ? d : ".", name);
            struct stat sb;
            if (k > 0 && (size_t)k < sizeof cand && stat(cand, &sb) == 0 &&
                S_ISREG(sb.st_mode) && access(cand, X_OK) == 0) {
                snprintf(path, n, "%s", cand);
                return SIM_OK;
            }
            if (e == NULL) break;
            d = e + 1;
        }
    }
    return sim_errorf(err, SIM_EPLOT,
                      "gnuplot not found ('%s' is not an executable on PATH): install Debian's "
                      "%s package (sudo apt-get install %s); every other ltsim command works "
                      "without it",
                      name, PLOT_PACKAGE, PLOT_PACKAGE);
}

SimStatus plot_mkdirs(const char *path, SimError *err) {
    char buf[1024];
    int k = snprintf(buf, sizeof buf, "%s", path);
    if (k <= 0 || (size_t)k >= sizeof buf)
        return sim_errorf(err, SIM_EIO, "%s: path too long", path);
    for (char *c = buf + 1; *c; c++) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return sim_errorf(err, SIM_EIO, "%s: cannot create directory: %s", buf,
                              strerror(errno));
        *c = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return sim_errorf(err, SIM_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sim_errorf(err, SIM_EIO, "%s: not a directory", buf);
    return SIM_OK;
}

/* 'text' for sh, with each ' written as '\'' */
static int sh_quote(char *out, size_t n, const char *s) {
    size_t k = 0;
    if (k + 1 >= n) return -1;
    out[k++] = '\'';
    for (const char *c = s; *c; c++) {
        if (*c == '\'') {
            if (k + 4 >= n) return -1;
            memcpy(out + k, "'\\''", 4);
            k += 4;
        } else {
            if (k + 1 >= n) return -1;
            out[k++] = *c;
        }
    }
    if (k + 2 > n) return -1;
    out[k++] = '\'';
    out[k] = '\0';
    return 0;
}

/* Writes dir/<name>.<ext> with fn; SIM_EIO naming the file. */
static SimStatus write_file(const Plot *p, const char *dir, const char *ext,
                            SimStatus (*fn)(const Plot *, FILE *, SimError *), SimError *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.%s", dir, p->name, ext);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return sim_errorf(err, SIM_EIO, "%s: cannot write: %s", path, strerror(errno));
    SimStatus rc = fn(p, f, err);
    if (fclose(f) != 0 && rc == SIM_OK)
        rc = sim_errorf(err, SIM_EIO, "%s: writing failed: %s", path, strerror(errno));
    if (rc != SIM_OK) unlink(path);
    return rc;
}

/* The most telling line of gnuplot's error output: the first containing "error", else the
 * last non-empty one. */
static void log_line(const char *path, char *out, size_t n) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (l == 0 || strspn(line, " ^") == l) continue;
        snprintf(out, n, "%s", line + strspn(line, " \t"));
        if (strstr(line, "rror") != NULL) break;
    }
    fclose(f);
}

static long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

SimStatus plot_write_files(const Plot *p, const char *dir, SimError *err) {
    if (check_writable(p, err) != SIM_OK) return err->code;
    if (plot_npoints(p) == 0)
        return sim_errorf(err, SIM_EINVAL, "chart %s has no data to draw", p->name);
    if (write_file(p, dir, "dat", plot_write_data, err) != SIM_OK ||
        write_file(p, dir, "gp", plot_write_script, err) != SIM_OK)
        return err->code;
    return SIM_OK;
}

SimStatus plot_render(const Plot *p, const char *dir, SimError *err) {
    if (plot_write_files(p, dir, err) != SIM_OK) return err->code;
    char gp[1024] = "";
    if (plot_gnuplot_find(gp, sizeof gp, err) != SIM_OK) return err->code;
    char png[1200], svg[1200], logf[1200];
    snprintf(png, sizeof png, "%s/%s.png", dir, p->name);
    snprintf(svg, sizeof svg, "%s/%s.svg", dir, p->name);
    snprintf(logf, sizeof logf, "%s/.%s.gnuplot.log", dir, p->name);
    unlink(png); /* so that a stale image is never taken for a new one */
    unlink(svg);
    char qdir[2400], qgp[2100], qlog[2400], cmd[8000], logname[300];
    /* the shell runs in dir: the log is named relative to it */
    snprintf(logname, sizeof logname, ".%s.gnuplot.log", p->name);
    if (sh_quote(qdir, sizeof qdir, dir) != 0 || sh_quote(qgp, sizeof qgp, gp) != 0 ||
        sh_quote(qlog, sizeof qlog, logname) != 0)
        return sim_errorf(err, SIM_EIO, "%s: path too long", dir);
    snprintf(cmd, sizeof cmd, "cd %s && exec %s 2>%s", qdir, qgp, qlog);
    /* gnuplot may exit early (an error): a write to the closed pipe must fail, not kill us */
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    fflush(NULL);
    FILE *pipe = popen(cmd, "w");
    if (pipe == NULL) {
        sigaction(SIGPIPE, &old, NULL);
        return sim_errorf(err, SIM_EPLOT, "cannot start %s: %s", gp, strerror(errno));
    }
    SimError werr;
    sim_error_init(&werr);
    plot_write_script(p, pipe, &werr); /* a broken pipe shows in the exit status below */
    int st = pclose(pipe);
    sigaction(SIGPIPE, &old, NULL);
    char why[400];
    if (st == -1)
        return sim_errorf(err, SIM_EPLOT, "running %s for chart %s failed: %s", gp, p->name,
                          strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        log_line(logf, why, sizeof why);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            return sim_errorf(err, SIM_EPLOT,
                              "%s could not be run (exit 127): install Debian's %s package", gp,
                              PLOT_PACKAGE);
        if (WIFEXITED(st))
            return sim_errorf(err, SIM_EPLOT, "gnuplot failed on chart %s (exit %d)%s%s; see %s",
                              p->name, WEXITSTATUS(st), why[0] ? ": " : "", why, logf);
        return sim_errorf(err, SIM_EPLOT, "gnuplot was killed by signal %d drawing chart %s",
                          WTERMSIG(st), p->name);
    }
    if (file_size(png) <= 0 || file_size(svg) <= 0) {
        log_line(logf, why, sizeof why);
        return sim_errorf(err, SIM_EPLOT, "gnuplot exited 0 but did not write %s%s%s",
                          file_size(png) <= 0 ? png : svg, why[0] ? ": " : "", why);
    }
    unlink(logf);
    return SIM_OK;
}
