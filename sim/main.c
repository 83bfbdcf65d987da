/*
 * main.c - entry point of ./ltsim; everything happens in cli_main.
 */
#include <stdlib.h>

#include "cli.h"

int main(int argc, char **argv) {
    int rc = cli_main(argc, argv);
    exit(rc);
}
