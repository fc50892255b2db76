// SPDX-License-Identifier: GPL-2.0
/*
 * open_as UID GID[,GID...] PATH [CMD ARGS...]: drop to UID with primary group
 * GID (and the supplementary groups that follow), open PATH read-write and
 * print "open ok" or "open errno=NAME".  Exit 0 when opened, 1 when refused;
 * with CMD, run it (as that user) once PATH opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	gid_t gids[16];
	int n = 0, fd;
	char *s, *tok;

	if (argc < 4)
		return 2;
	for (s = argv[2]; (tok = strsep(&s, ",")) && n < 16;)
		gids[n++] = (gid_t)strtoul(tok, NULL, 10);
	if (setgroups(n, gids) || setgid(gids[0]) || setuid((uid_t)strtoul(argv[1], NULL, 10))) {
		perror("drop privileges");
		return 2;
	}
	fd = open(argv[3], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("open ok\n");
	close(fd);
	if (argc > 4) {
		fflush(stdout);
		execv(argv[4], argv + 4);
		perror(argv[4]);
		return 2;
	}
	return 0;
}
