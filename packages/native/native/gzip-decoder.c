/*
 * gzip for the decoders (decoders.c, decoder-thread.c): zlib's inflate, as
 * exported by the Node binary itself (or a system libz.so.1 when it does not
 * export it), found with dlsym. Members follow one another (pigz, cat a.gz
 * b.gz); zero bytes after a member are padding, as Node's gunzip and
 * gzip -d treat them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "decoders-internal.h"

#if __has_include(<zlib.h>)
#include <zlib.h>

static struct {
  int tried, ok;
  int (*init2)(z_stream *, int, const char *, int);
  int (*inflate)(z_stream *, int);
  int (*reset)(z_stream *);
  int (*end)(z_stream *);
} z;

static int load_zlib(void) {
  if (z.tried) return z.ok;
  z.tried = 1;
  void *lib = RTLD_DEFAULT;
  for (int attempt = 0; attempt < 2; attempt++) {
    z.init2 = (int (*)(z_stream *, int, const char *, int))dlsym(lib, "inflateInit2_");
    z.inflate = (int (*)(z_stream *, int))dlsym(lib, "inflate");
    z.reset = (int (*)(z_stream *))dlsym(lib, "inflateReset");
    z.end = (int (*)(z_stream *))dlsym(lib, "inflateEnd");
    z.ok = z.init2 && z.inflate && z.reset && z.end;
    if (z.ok || (lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL)) == NULL) break;
  }
  return z.ok;
}

int gzip_open(decoder *d) {
  if (!load_zlib()) return -1;
  z_stream *s = calloc(1, sizeof *s);
  if (s == NULL) return -2;
  if (z.init2(s, 15 + 16, ZLIB_VERSION, (int)sizeof *s) != Z_OK) { /* 15 + 16: a gzip wrapper, the largest window */
    free(s);
    return -2;
  }
  d->gz = s;
  d->gz_ended = 0;
  return 0;
}

void gzip_close(decoder *d) {
  if (d->gz == NULL) return;
  z.end(d->gz);
  free(d->gz);
  d->gz = NULL;
}

int gzip_step(batch *b, int *end) {
  decoder *d = b->d;
  z_stream *s = d->gz;
  if (d->gz_ended) {
    /* After a member: zero padding is skipped; anything else starts the next member. */
    size_t p = b->in_pos;
    while (p < b->in_len && b->in[p] == 0) p++;
    *end = 1;
    b->in_pos = p;
    if (p == b->in_len) return 0;
    z.reset(s);
    d->gz_ended = 0;
  }
  s->next_in = b->in + b->in_pos;
  s->avail_in = (uInt)(b->in_len - b->in_pos);
  s->next_out = b->out + b->out_pos;
  s->avail_out = (uInt)(b->out_len - b->out_pos);
  int r = z.inflate(s, Z_NO_FLUSH);
  b->in_pos = b->in_len - s->avail_in;
  b->out_pos = b->out_len - s->avail_out;
  *end = 0;
  switch (r) {
    case Z_OK:
    case Z_BUF_ERROR: return 0; /* no progress possible without more input: the caller decides */
    case Z_STREAM_END: d->gz_ended = 1; *end = 1; return 0;
    case Z_MEM_ERROR: b->error_code = "ENOMEM"; b->error = "zlib ran out of memory"; return -1;
    default: b->error_code = "EDATA"; b->error = s->msg != NULL ? s->msg : "corrupt gzip data"; return -1;
  }
}
#else
int gzip_open(decoder *d) { (void)d; return -1; }
void gzip_close(decoder *d) { (void)d; }
int gzip_step(batch *b, int *end) { (void)b; *end = 0; return -1; }
#endif
