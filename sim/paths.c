/*
 * paths.c - the binary's directory and model names (see paths.h).
 */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void paths_exe_dir(char *buf, size_t n) {
    if (buf == NULL || n < 2) return;
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k <= 0 || (size_t)k >= n - 1) { /* unreadable, or cut short */
        snprintf(buf, n, ".");
        return;
    }
    buf[k] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == buf) slash[1] = '\0'; /* a binary in / */
    else if (slash) *slash = '\0';
}

/* A readable regular file; otherwise 0 with errno saying why. */
static int is_file(const char *p) {
    struct stat st;
    if (stat(p, &st) != 0) return 0;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return 0;
    }
    return access(p, R_OK) == 0;
}

int paths_model(const char *name, const char *base_dir, char *out, size_t n) {
    if (out == NULL || n == 0) return -1;
    out[0] = '\0';
    if (name == NULL || *name == '\0') return -1;
    if (base_dir && *base_dir && name[0] != '/') {
        snprintf(out, n, "%s/%s", base_dir, name);
        if (is_file(out)) return 0;
    }
    snprintf(out, n, "%s", name);
    if (is_file(out)) return 0;
    if (strchr(name, '/') != NULL) return -1;
    const char *ext = strstr(name, ".yml") ? "" : ".yml";
    const char *home = getenv("LTSIM_HOME");
    char dir[512];
    if (home && *home) {
        snprintf(out, n, "%s/models/%s%s", home, name, ext);
        if (is_file(out)) return 0;
    }
    paths_exe_dir(dir, sizeof dir);
    snprintf(out, n, "%s/models/%s%s", dir, name, ext);
    if (is_file(out)) return 0;
    snprintf(out, n, "models/%s%s", name, ext);
    if (is_file(out)) return 0;
    int e = errno;
    snprintf(out, n, "%s", name);
    errno = e;
    return -1;
}
