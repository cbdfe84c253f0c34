/*
 * mailfmt.c - header fields, mboxrd and maildir (see mailfmt.h).
 *
 * mboxrd: every line that matches ">*From " gains one '>', so a reader
 * that removes one '>' from such lines gets the text back exactly; the
 * separator line is "From SENDER DATE" in asctime's layout (Qmail's
 * mbox(5), the mboxrd variant).  Maildir: Bernstein's maildir(5), a
 * file under tmp/ made durable, then linked into new/.
 */
#include "mailfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* line_end - the length of the line at p (up to and with its LF). */
static size_t line_end(const char *p, size_t left)
{
	const char *nl = memchr(p, '\n', left);

	return nl ? (size_t)(nl - p) + 1 : left;
}

void mailfmt_field(const char *text, size_t len, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), o = 0, pos = 0, n;
	bool in = false;

	out[0] = '\0';
	for (; pos < len; pos += n) {
		const char *l = text + pos;
		n = line_end(l, len - pos);
		if (l[0] == '\n' || (l[0] == '\r' && n > 1 && l[1] == '\n'))
			break; /* the empty line: end of the header */
		if (in && l[0] != ' ' && l[0] != '\t')
			break; /* the next field: the value is complete */
		if (!in) {
			if (n <= nlen || strncasecmp(l, name, nlen) != 0 || l[nlen] != ':')
				continue;
			in = true;
			l += nlen + 1;
			n -= nlen + 1;
			pos += nlen + 1;
		}
		/* Unfold: the line break goes, the leading white space stays. */
		for (size_t i = 0; i < n && o + 1 < cap; i++) {
			unsigned char c = (unsigned char)l[i];
			if (c == '\r' || c == '\n')
				continue;
			if (o == 0 && (c == ' ' || c == '\t'))
				continue;
			out[o++] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[o] = '\0';
}

time_t mailfmt_time(const char *iso)
{
	struct tm tm = {0};
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	return end && !*end ? timegm(&tm) : 0;
}

bool mailfmt_mbox(FILE *f, const char *sender, time_t when, const char *text, size_t len)
{
	char date[32];
	struct tm tm;
	size_t pos = 0, n;

	gmtime_r(&when, &tm);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
	fprintf(f, "From %s %s\n", *sender ? sender : "MAILER-DAEMON", date);
	for (; pos < len; pos += n) {
		const char *l = text + pos;
		size_t q = 0, body;
		n = line_end(l, len - pos);
		while (q < n && l[q] == '>')
			q++;
		if (n - q >= 5 && memcmp(l + q, "From ", 5) == 0)
			fputc('>', f);
		body = n;
		if (n >= 2 && l[n - 2] == '\r' && l[n - 1] == '\n')
			body = n - 2; /* CR LF becomes LF */
		else if (l[n - 1] == '\n')
			body = n - 1;
		fwrite(l, 1, body, f);
		fputc('\n', f);
	}
	fputc('\n', f);
	return !ferror(f);
}

bool mailfmt_maildir_init(const char *dir, char *err, size_t errlen)
{
	static const char *const sub[] = {"", "/tmp", "/new", "/cur"};
	char path[4096];

	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s%s", dir, sub[i]);
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return false;
		}
	}
	return true;
}

bool mailfmt_maildir(const char *dir, const char *host, time_t when, int64_t id, const char *text,
		     size_t len, char *err, size_t errlen)
{
	char tmp[4096], dst[4096];
	int fd;
	bool ok = false;

	snprintf(tmp, sizeof tmp, "%s/tmp/%lld.M%lldP%d.%s", dir, (long long)when, (long long)id,
		 (int)getpid(), host);
	snprintf(dst, sizeof dst, "%s/new/%lld.M%lld.%s", dir, (long long)when, (long long)id,
		 host);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return false;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || link(tmp, dst) != 0) {
		snprintf(err, errlen, "%s: %s", errno == EEXIST ? dst : tmp, strerror(errno));
		goto out;
	}
	ok = true;
out:
	close(fd);
	unlink(tmp);
	return ok;
}
