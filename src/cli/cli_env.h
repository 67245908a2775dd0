/* cli_env.h — process-level settings a command needs before any library code runs. */
#ifndef OLMO_CLI_ENV_H
#define OLMO_CLI_ENV_H

/* Makes OpenMP threads sleep instead of spinning while they wait (OMP_WAIT_POLICY=passive), unless the user
 * chose a policy. GNU OpenMP reads the variable once, when the program is loaded, so the only way to change it
 * is to set it and re-execute the program: this function does that (it returns only if exec fails, or when
 * nothing needed changing). Why: on a shared machine a spinning thread burns the core that the thread it waits
 * for needs; measured here under load, 2 spinning threads trained a tiny model 40x slower than 1 thread, and
 * 2 sleeping threads were close to it. `cmd` and argv are the subcommand's (argv[0] = "train"). */
void cli_prefer_passive_threads(const char *cmd, int argc, char **argv);

#endif
