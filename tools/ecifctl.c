/*
 * ecifctl: the command-line tool of the appliance. It imports source files
 * into a snapshot, trains the matching model and queries a running ecifd.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"import", ctl_import_main, "read CSV or JSONL files, write a snapshot"},
    {"train", ctl_train_main, "estimate the matching model from a snapshot"},
    {"resolve", ctl_resolve_main, "find the customers matching a record"},
    {"customer", ctl_customer_main, "show a customer and its records"},
    {"exposure", ctl_exposure_main, "show a customer's limits and balances"},
    {"explain", ctl_explain_main, "show why two records or customers match"},
    {"health", ctl_health_main, "check that ecifd is serving"},
    {"merge", ctl_merge_main, "join two customers (a correction)"},
    {"split", ctl_split_main, "move records into a new customer"},
    {"not-same", ctl_not_same_main, "mark two customers as never one"},
    {"add", ctl_add_main, "add a new record to a running ecifd"},
    {"history", ctl_history_main, "show what happened to a customer"},
    {"token", ctl_token_main, "make a caller's token and access line"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ecifctl COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'ecifctl COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    }
    fprintf(stderr, "ecifctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
