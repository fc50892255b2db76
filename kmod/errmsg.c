// SPDX-License-Identifier: GPL-2.0
/*
 * The one-sentence error messages of the commands that take err_uptr /
 * err_len (struct vsva_errmsg, include/vsva/kapi.h).  Every layer writes
 * them; this file depends on nothing else of the module, so no layer has to
 * call up into the front end to explain a failure.
 */
#include <linux/kernel.h>
#include <vsva/kapi.h>

void vsva_err(struct vsva_errmsg *err, const char *fmt, ...)
{
	va_list args;

	if (!err)
		return;
	va_start(args, fmt);
	vsnprintf(err->buf, sizeof(err->buf), fmt, args);
	va_end(args);
}
