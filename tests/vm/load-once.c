// SPDX-License-Identifier: GPL-2.0
/*
 * load-once FILE [PARAMS]: one finit_module() of FILE, nothing more.
 *
 * busybox insmod retries a failed finit_module() with init_module(), so a
 * module whose init fails on purpose (lib/test_lockup.c returns -EAGAIN
 * once its lockup is over) runs its test twice.  The harness self-test
 * (tests/vm/selftest.sh, case lockup) loads test_lockup.ko with this
 * instead.  Prints what init returned; exits 0 when the module loaded,
 * 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *params = argc > 2 ? argv[2] : "";
	int fd, rc, err;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: load-once FILE [PARAMS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	rc = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	printf("load-once %s %s: %s\n", argv[1], params, rc ? strerror(err) : "loaded");
	return rc ? 1 : 0;
}
