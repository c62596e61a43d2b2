/* commands.h — the subcommands of the `seqk` tool (`seqk tune` is the
 * tuner library's: seqk_tune_command in seqk_tune.h).  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit code: 0 success, 1 failure, 2 usage error. */
#ifndef SEQK_TOOLS_COMMANDS_H
#define SEQK_TOOLS_COMMANDS_H

int seqk_cmd_info(int argc, char **argv);
int seqk_cmd_run(int argc, char **argv);
int seqk_cmd_bench(int argc, char **argv);
/* cmd_model.c: `seqk run/info model.onnx` (argv[1] ends in .onnx) */
int seqk_is_model_path(const char *arg);
int seqk_cmd_model_run(int argc, char **argv);
int seqk_cmd_model_info(int argc, char **argv);

#endif
