/*
 * forkfloor.c is the C fork/exec floor of the local benchmarks: it runs
 * PATH ARG (ARG = the job number, or -a's) N times, P at once, with
 * posix_spawn (vfork and exec on glibc) and waitpid, inheriting stdin,
 * stdout, stderr and the environment, in one thread: nothing a tool that
 * starts one process per job could leave out. benchrun compiles it with
 * the system's C compiler.
 *
 *   forkfloor -n 5000 -p 2 [-path /bin/true] [-arg ARG]
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static void usage(void) {
	fprintf(stderr, "usage: forkfloor -n JOBS -p PARALLEL [-path PROGRAM] [-arg ARG]\n");
	exit(2);
}

int main(int argc, char **argv) {
	long jobs = 1000, workers = 2;
	const char *path = "/bin/true", *arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "-n") == 0)
			jobs = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-p") == 0)
			workers = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-path") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "-arg") == 0)
			arg = argv[++i];
		else
			usage();
	}
	if (jobs < 0 || workers < 1)
		usage();
	long started = 0, running = 0, failed = 0;
	char num[32];
	while (started < jobs || running > 0) {
		while (started < jobs && running < workers) {
			snprintf(num, sizeof num, "%ld", started + 1);
			char *child[] = {(char *)path, (char *)(arg ? arg : num), NULL};
			pid_t pid;
			int err = posix_spawn(&pid, path, NULL, NULL, child, environ);
			if (err != 0) {
				fprintf(stderr, "forkfloor: error: spawn %s: %s\n", path, strerror(err));
				return 1;
			}
			started++;
			running++;
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("forkfloor: error: waitpid");
			return 1;
		}
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	if (failed > 0) {
		fprintf(stderr, "forkfloor: error: %ld of %ld runs of %s failed\n", failed, jobs, path);
		return 1;
	}
	return 0;
}
