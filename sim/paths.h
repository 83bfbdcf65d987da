/*
 * paths.h - where ltsim finds the files it ships with: models/, hwprofiles/, db/ and reports/
 * beside the binary (or under $LTSIM_HOME), and a model named on the command line.
 */
#ifndef LTSIM_PATHS_H
#define LTSIM_PATHS_H

#include <stddef.h>

/* Directory of the running binary (the repository root for ./ltsim), or "." when
 * /proc/self/exe cannot be read or does not fit in n. */
void paths_exe_dir(char *buf, size_t n);

/* A model named NAME: base_dir/NAME (when base_dir is given and NAME is relative), else NAME,
 * when that is a readable regular file; otherwise, for a NAME without a '/', models/NAME
 * (".yml" added unless NAME has it) under $LTSIM_HOME, the binary's directory and the
 * current directory, the first that exists. Returns 0 with the path in out, or -1 with NAME
 * in out (for the message; errno says why the last candidate failed). */
int paths_model(const char *name, const char *base_dir, char *out, size_t n);

#endif
