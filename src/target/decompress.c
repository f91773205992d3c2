/* Streaming decompression of zstd, lz4 (frame format) and xz cores with
 * libzstd, liblz4 and liblzma into an unlinked temporary file. */
#include "target/decompress.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util/xalloc.h"

#define CHUNK (1u << 20)
/* Beyond this a "core" is a decompression bomb, not a process. */
#define MAX_OUTPUT (1ull << 40)

enum kind { PLAIN, ZSTD, LZ4, XZ };

struct stream {
	int in, out;
	const char *display;
	uint8_t *ibuf, *obuf;
	uint64_t written;
	struct err *e;
};

static enum kind sniff(int fd)
{
	uint8_t m[6] = { 0 };
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n >= 4 && !memcmp(m, "\x28\xb5\x2f\xfd", 4))
		return ZSTD;
	if (n >= 4 && !memcmp(m, "\x04\x22\x4d\x18", 4))
		return LZ4;
	if (n >= 6 && !memcmp(m, "\xfd" "7zXZ\0", 6))
		return XZ;
	return PLAIN;
}

static int tmpfile_fd(struct err *e)
{
	const char *dirs[3] = { getenv("TMPDIR"), "/var/tmp", "/tmp" };
	int fd = -1, saved = 0;

	for (int i = 0; i < 3 && fd < 0; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			saved = errno;
	}
	if (fd < 0)
		return err_set(e, SS_EIO, "cannot create a temporary file to "
			       "decompress into: %s", strerror(saved));
	return fd;
}

static ssize_t fill(struct stream *s)
{
	ssize_t r;

	do
		r = read(s->in, s->ibuf, CHUNK);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		err_set(s->e, SS_EIO, "cannot read '%s': %s", s->display,
			strerror(errno));
	return r;
}

static int flush(struct stream *s, size_t n)
{
	size_t done = 0;

	if (n > MAX_OUTPUT - s->written)
		return err_set(s->e, SS_ECORRUPT, "'%s' decompresses to more "
			       "than 1 TiB", s->display);
	while (done < n) {
		ssize_t w = write(s->out, s->obuf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set(s->e, SS_EIO, "cannot write the "
				       "decompressed core: %s",
				       strerror(errno));
		done += (size_t)w;
	}
	s->written += n;
	return 0;
}

static int bad(struct stream *s, const char *fmt, const char *why)
{
	return err_set(s->e, SS_ECORRUPT, "cannot decompress '%s' (%s): %s",
		       s->display, fmt, why);
}

static int run_zstd(struct stream *s)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	size_t ret = 1;
	ssize_t n;
	int rc = 0;

	if (!z)
		return err_set(s->e, SS_ENOMEM, "out of memory");
	ZSTD_initDStream(z);
	while (!rc && (n = fill(s)) > 0) {
		ZSTD_inBuffer in = { s->ibuf, (size_t)n, 0 };

		while (!rc && in.pos < in.size) {
			ZSTD_outBuffer out = { s->obuf, CHUNK, 0 };

			ret = ZSTD_decompressStream(z, &out, &in);
			if (ZSTD_isError(ret))
				rc = bad(s, "zstd", ZSTD_getErrorName(ret));
			else
				rc = flush(s, out.pos);
		}
	}
	if (!rc && n < 0)
		rc = s->e->code;
	/* Drain what the decoder still holds. */
	while (!rc && ret) {
		ZSTD_inBuffer in = { s->ibuf, 0, 0 };
		ZSTD_outBuffer out = { s->obuf, CHUNK, 0 };

		ret = ZSTD_decompressStream(z, &out, &in);
		if (ZSTD_isError(ret))
			rc = bad(s, "zstd", ZSTD_getErrorName(ret));
		else if (!out.pos && ret)
			rc = bad(s, "zstd", "the file ends in mid-frame");
		else
			rc = flush(s, out.pos);
	}
	ZSTD_freeDStream(z);
	return rc;
}

static int run_lz4(struct stream *s)
{
	LZ4F_dctx *z;
	size_t ret = 1;
	ssize_t n;
	int rc = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return err_set(s->e, SS_ENOMEM, "out of memory");
	while (!rc && (n = fill(s)) > 0) {
		size_t pos = 0;

		while (!rc && pos < (size_t)n) {
			size_t osz = CHUNK, isz = (size_t)n - pos;

			ret = LZ4F_decompress(z, s->obuf, &osz, s->ibuf + pos,
					      &isz, NULL);
			if (LZ4F_isError(ret)) {
				rc = bad(s, "lz4", LZ4F_getErrorName(ret));
				break;
			}
			pos += isz;
			rc = flush(s, osz);
			if (!isz && !osz)
				break;
		}
	}
	if (!rc && n < 0)
		rc = s->e->code;
	/* Flush buffered output; ret 0 means a frame ended cleanly. */
	for (int k = 0; !rc && ret && k < 1 << 20; k++) {
		size_t osz = CHUNK, isz = 0;

		ret = LZ4F_decompress(z, s->obuf, &osz, NULL, &isz, NULL);
		if (LZ4F_isError(ret))
			rc = bad(s, "lz4", LZ4F_getErrorName(ret));
		else if (!osz && ret)
			rc = bad(s, "lz4", "the file ends in mid-frame");
		else
			rc = flush(s, osz);
	}
	LZ4F_freeDecompressionContext(z);
	return rc;
}

static int run_xz(struct stream *s)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_action action = LZMA_RUN;
	lzma_ret ret;
	int rc = 0;

	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return err_set(s->e, SS_ENOMEM, "out of memory");
	z.next_out = s->obuf;
	z.avail_out = CHUNK;
	for (;;) {
		if (!z.avail_in && action == LZMA_RUN) {
			ssize_t n = fill(s);

			if (n < 0) {
				rc = s->e->code;
				break;
			}
			z.next_in = s->ibuf;
			z.avail_in = (size_t)n;
			if (!n)
				action = LZMA_FINISH;
		}
		ret = lzma_code(&z, action);
		if (!z.avail_out || ret == LZMA_STREAM_END) {
			rc = flush(s, CHUNK - z.avail_out);
			z.next_out = s->obuf;
			z.avail_out = CHUNK;
			if (rc)
				break;
		}
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK) {
			rc = bad(s, "xz", ret == LZMA_BUF_ERROR ?
				 "the file ends in mid-stream" :
				 ret == LZMA_MEM_ERROR ? "out of memory" :
				 "corrupt data");
			break;
		}
	}
	lzma_end(&z);
	return rc;
}

int decompress_fd(int fd, const char *display, struct err *e)
{
	struct stream s = { .in = fd, .display = display, .e = e };
	enum kind k = sniff(fd);
	int rc;

	if (k == PLAIN)
		return fd;
	s.out = tmpfile_fd(e);
	if (s.out < 0) {
		close(fd);
		return s.out;
	}
	s.ibuf = xmalloc(CHUNK);
	s.obuf = xmalloc(CHUNK);
	if (lseek(fd, 0, SEEK_SET) != 0)
		rc = err_set(e, SS_EIO, "cannot read '%s'", display);
	else
		rc = k == ZSTD ? run_zstd(&s) : k == LZ4 ? run_lz4(&s) :
		     run_xz(&s);
	if (!rc && !s.written)
		rc = bad(&s, k == ZSTD ? "zstd" : k == LZ4 ? "lz4" : "xz",
			 "it holds no data");
	free(s.ibuf);
	free(s.obuf);
	close(fd);
	if (rc) {
		close(s.out);
		return rc;
	}
	return s.out;
}

int decompress_open(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, errno == EACCES ? SS_EPERM : SS_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	return decompress_fd(fd, path, e);
}
