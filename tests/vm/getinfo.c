// SPDX-License-Identifier: GPL-2.0
/*
 * vsva-getinfo: print VSVA_GET_INFO readably.  The VM harness runs it right
 * after loading the module; scripts/main.sh shows its output.  Plain C with
 * no dependencies so tests/vm/run can build it statically on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vsva.h>

static void bits(const char *name, unsigned long long v)
{
	int i, first = 1;

	printf("  %-22s 0x%llx", name, v);
	for (i = 0; i < 64; i++) {
		if (!(v & (1ULL << i)))
			continue;
		printf("%s%d", first ? " (bits " : ",", i);
		first = 0;
	}
	printf("%s\n", first ? "" : ")");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/vsva";
	struct vsva_info info;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vsva-getinfo: open %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	if (ioctl(fd, VSVA_GET_INFO, &info)) {
		fprintf(stderr, "vsva-getinfo: VSVA_GET_INFO: %s\n",
			strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("VSVA_GET_INFO on %s:\n", path);
	printf("  %-22s %u (this header: %u)\n", "uapi version",
	       info.out_uapi_version, VSVA_UAPI_VERSION);
	printf("  %-22s %u.%u.%u\n", "module version",
	       info.out_module_version >> 16,
	       (info.out_module_version >> 8) & 0xff,
	       info.out_module_version & 0xff);
	bits("bind versions", info.out_bind_versions);
	bits("invalidate versions", info.out_inv_versions);
	bits("page-resp versions", info.out_page_resp_versions);
	bits("PASID formats", info.out_formats);
	bits("invalidate matrix", info.out_inv_matrix);
	bits("stage-1 widths", info.out_addr_widths);
	printf("  %-22s %u\n", "PASID bits", info.out_pasid_bits);
	printf("  %-22s %u\n", "GPA bits", info.out_gpa_bits);
	printf("  %-22s %u\n", "PASID quota", info.out_pasid_quota);
	printf("  %-22s %u\n", "max batch", info.out_max_batch);
	bits("features", info.out_features);
	if (info.out_max_pinned == ~0ULL)
		printf("  %-22s unlimited\n", "max pinned");
	else
		printf("  %-22s %llu bytes\n", "max pinned",
		       (unsigned long long)info.out_max_pinned);
	return 0;
}
