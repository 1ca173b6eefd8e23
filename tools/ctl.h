/*
 * Subcommands of ecifctl. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 failure of the work, 2 a usage error.
 */
#ifndef ECIF_TOOLS_CTL_H
#define ECIF_TOOLS_CTL_H

/* import: reads CSV or JSONL files and writes a snapshot. */
int ctl_import_main(int argc, char **argv);

/* train: estimates the matching model from a snapshot's records. */
int ctl_train_main(int argc, char **argv);

/* resolve, customer, exposure, health: query a running ecifd over gRPC. */
int ctl_resolve_main(int argc, char **argv);
int ctl_customer_main(int argc, char **argv);
int ctl_exposure_main(int argc, char **argv);
int ctl_health_main(int argc, char **argv);

/* explain: why two records or customers match or do not. */
int ctl_explain_main(int argc, char **argv);

/* merge, split, not-same: a data steward's corrections to a running
 * ecifd. */
int ctl_merge_main(int argc, char **argv);
int ctl_split_main(int argc, char **argv);
int ctl_not_same_main(int argc, char **argv);

/* add: adds a new record, with its accounts, to a running ecifd. */
int ctl_add_main(int argc, char **argv);

/* history: the audit history of a customer. */
int ctl_history_main(int argc, char **argv);

/* token: a new bearer token and its access-file line (rpc/ACCESS.md). */
int ctl_token_main(int argc, char **argv);

#endif
