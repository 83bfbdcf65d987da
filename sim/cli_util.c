/*
 * cli_util.c - the subcommands' shared output conventions (DESIGN.md §4).
 */
#include "cli_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

static const char *prog = "ltsim";

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s: %s (see '%s %s --help')\n", prog, cmd, msg, prog, cmd);
    return 2;
}

int cli_fail_with(const char *cmd, const SimError *err) {
    fprintf(stderr, "%s %s: %s\n", prog, cmd, err->msg[0] ? err->msg : sim_status_str(err->code));
    return sim_exit_code(err->code);
}

int cli_flush_stdout(const char *cmd) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s %s: writing the output failed: %s\n", prog, cmd, strerror(errno));
        return 1;
    }
    return 0;
}

int cli_print_json(const char *cmd, cJSON *doc, int ok, int pretty) {
    char *text = doc && ok ? (pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc)) : NULL;
    cJSON_Delete(doc);
    if (text == NULL) {
        fprintf(stderr, "%s %s: out of memory building the JSON document\n", prog, cmd);
        return 1;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return cli_flush_stdout(cmd);
}
