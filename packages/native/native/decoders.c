/*
 * In-process zstd, xz and gzip decoding: the system's libzstd.so.1 and
 * liblzma.so.5, opened with dlopen when first asked for, and zlib's inflate
 * (gzip-decoder.c). Nothing here is linked at build time, so the addon
 * builds and loads on a machine without these libraries (or their headers)
 * and decompress-stream then runs the external program instead.
 *
 * No N-API here (decoders-napi.c has decoderOpen and decoderClose), so that
 * the fuzzer (fuzz/decode-fuzz.c) links this file as it is.
 *
 * decode_batch() decodes from input into a batch of output a piece at a
 * time: until the output is full, the input is used up, or (finish: no more
 * input comes) the data ends; it marks each all-zero piece, and passes over
 * leading zero pieces up to skip_limit (counted in `skipped`). lastEnd (in
 * the decoder) = the last call that made progress ended a frame: 0 there at
 * the end of the input means it is cut off. Errors have code EDATA
 * (corrupt), ETRUNC (xz: cut off) or ENOMEM. decoder-thread.c runs it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decoders-internal.h"

/* The part of zstd's stable API used here (zstd.h need not be installed). */
typedef struct { const void *src; size_t size; size_t pos; } zstd_in;
typedef struct { void *dst; size_t size; size_t pos; } zstd_out;
static struct {
  int tried, ok;
  void *(*create)(void);
  size_t (*free)(void *);
  size_t (*decompress)(void *, zstd_out *, zstd_in *);
  unsigned (*is_error)(size_t);
  const char *(*error_name)(size_t);
  size_t (*set_parameter)(void *, int, int); /* ZSTD_DCtx_setParameter, 1.4+ */
} zstd;
/* ZSTD_d_windowLogMax: frames made with --long=31 need a window of up to 2 GiB. */
#define ZSTD_D_WINDOW_LOG_MAX 100

/* liblzma, opened at first use; its types are in lzma-api.h. */
static struct {
  int tried, ok;
  xz_ret (*decoder)(xz_stream *, uint64_t, uint32_t);
  xz_ret (*decoder_mt)(xz_stream *, const xz_mt *);
  xz_ret (*code)(xz_stream *, xz_action);
  void (*end)(xz_stream *);
} xz;

static int load_zstd(void) {
  if (zstd.tried) return zstd.ok;
  zstd.tried = 1;
  void *lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return 0;
  zstd.create = (void *(*)(void))dlsym(lib, "ZSTD_createDStream");
  zstd.free = (size_t(*)(void *))dlsym(lib, "ZSTD_freeDStream");
  zstd.decompress = (size_t(*)(void *, zstd_out *, zstd_in *))dlsym(lib, "ZSTD_decompressStream");
  zstd.is_error = (unsigned (*)(size_t))dlsym(lib, "ZSTD_isError");
  zstd.error_name = (const char *(*)(size_t))dlsym(lib, "ZSTD_getErrorName");
  zstd.set_parameter = (size_t(*)(void *, int, int))dlsym(lib, "ZSTD_DCtx_setParameter");
  zstd.ok = zstd.create && zstd.free && zstd.decompress && zstd.is_error && zstd.error_name;
  return zstd.ok;
}

static int load_xz(void) {
  if (xz.tried) return xz.ok;
  xz.tried = 1;
  void *lib = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return 0;
  xz.decoder = (xz_ret(*)(xz_stream *, uint64_t, uint32_t))dlsym(lib, "lzma_stream_decoder");
  xz.decoder_mt = (xz_ret(*)(xz_stream *, const xz_mt *))dlsym(lib, "lzma_stream_decoder_mt"); /* 5.4+ */
  xz.code = (xz_ret(*)(xz_stream *, xz_action))dlsym(lib, "lzma_code");
  xz.end = (void (*)(xz_stream *))dlsym(lib, "lzma_end");
  xz.ok = xz.decoder && xz.code && xz.end;
  return xz.ok;
}

/*
 * Sets up a decoder of `kind` ("zstd", "xz" or "gzip"; xz with up to
 * `threads` threads); 0, or -1 with *code and *msg saying why (ENOLIB: the
 * library cannot be loaded; ENOMEM).
 */
int decoder_init(decoder *d, const char *kind, unsigned threads, const char **code, const char **msg) {
  *code = "ENOLIB";
  if (strcmp(kind, "zstd") == 0) {
    if (!load_zstd()) return *msg = "libzstd.so.1 cannot be loaded", -1;
    d->kind = KIND_ZSTD;
    d->zds = zstd.create();
    if (d->zds == NULL) return *code = "ENOMEM", *msg = "ZSTD_createDStream failed", -1;
    /* Accept long-distance windows (zstd --long=31), as `zstd -d --long=31` would;
     * the memory is taken only by frames that ask for it. */
    if (zstd.set_parameter != NULL) zstd.set_parameter(d->zds, ZSTD_D_WINDOW_LOG_MAX, 31);
  } else if (strcmp(kind, "gzip") == 0) {
    d->kind = KIND_GZIP;
    int r = gzip_open(d);
    if (r == -1) return *msg = "zlib's inflate cannot be found", -1;
    if (r != 0) return *code = "ENOMEM", *msg = "cannot start the gzip decoder", -1;
  }
  else if (strcmp(kind, "xz") == 0) {
    if (!load_xz()) return *msg = "liblzma.so.5 cannot be loaded", -1;
    d->kind = KIND_XZ;
    memset(&d->strm, 0, sizeof d->strm); /* LZMA_STREAM_INIT */
    xz_ret r;
    if (xz.decoder_mt != NULL && threads > 1) {
      xz_mt mt;
      memset(&mt, 0, sizeof mt);
      mt.flags = XZ_CONCATENATED;
      mt.threads = threads;
      /* Above this the decoder runs single-threaded rather than using more memory. */
      mt.memlimit_threading = 48u << 20;
      mt.memlimit_stop = UINT64_MAX;
      r = xz.decoder_mt(&d->strm, &mt);
    } else {
      r = xz.decoder(&d->strm, UINT64_MAX, XZ_CONCATENATED);
    }
    if (r != XZ_OK) return *code = "ENOMEM", *msg = "cannot start the xz decoder", -1;
  }
  else {
    return *msg = "this build of the addon has no decoder of that kind", -1;
  }
  d->open = 1;
  return 0;
}

/* Frees what the library holds (the thread, if any, must be stopped first). */
void decoder_release(decoder *d) {
  if (!d->open) return;
  d->open = 0;
  if (d->kind == KIND_ZSTD) zstd.free(d->zds);
  else if (d->kind == KIND_GZIP) gzip_close(d);
  else xz.end(&d->strm);
}

/* One library call; returns 0, or -1 with j->error set. */
static int step(batch *j, int *end) {
  decoder *d = j->d;
  *end = 0;
  if (d->kind == KIND_GZIP) return gzip_step(j, end);
  if (d->kind == KIND_ZSTD) {
    zstd_in zin = {j->in, j->in_len, j->in_pos};
    zstd_out zout = {j->out, j->out_len, j->out_pos};
    size_t r = zstd.decompress(d->zds, &zout, &zin);
    if (zstd.is_error(r)) {
      j->error_code = "EDATA";
      j->error = zstd.error_name(r);
      return -1;
    }
    *end = r == 0;
    j->in_pos = zin.pos;
    j->out_pos = zout.pos;
    return 0;
  }
  xz_stream *s = &d->strm;
  s->next_in = j->in + j->in_pos;
  s->avail_in = j->in_len - j->in_pos;
  s->next_out = j->out + j->out_pos;
  s->avail_out = j->out_len - j->out_pos;
  xz_ret r = xz.code(s, j->finish ? XZ_FINISH : XZ_RUN);
  j->in_pos = j->in_len - s->avail_in;
  j->out_pos = j->out_len - s->avail_out;
  switch (r) {
    case XZ_OK: return 0;
    case XZ_STREAM_END: *end = 1; return 0;
    case XZ_BUF_ERROR:
      /* No progress is possible: with XZ_FINISH that means the input stops early. */
      if (!j->finish) return 0;
      j->error_code = "ETRUNC";
      j->error = "compressed data is truncated";
      return -1;
    case XZ_MEM_ERROR:
    case XZ_MEMLIMIT_ERROR: j->error_code = "ENOMEM"; j->error = "liblzma ran out of memory"; return -1;
    case XZ_FORMAT_ERROR: j->error_code = "EDATA"; j->error = "not in the .xz format"; return -1;
    case XZ_OPTIONS_ERROR: j->error_code = "EDATA"; j->error = "unsupported compression options"; return -1;
    case XZ_DATA_ERROR: j->error_code = "EDATA"; j->error = "compressed data is corrupt"; return -1;
    default: j->error_code = "EDATA"; j->error = "liblzma failed"; return -1;
  }
}

static int all_zero(const uint8_t *p, size_t n) {
  /* OR whole 256-byte blocks (the compiler vectorises this), stop at the first non-zero one. */
  while (n >= 256) {
    uint64_t acc = 0, w[32];
    memcpy(w, p, sizeof w);
    for (int i = 0; i < 32; i++) acc |= w[i];
    if (acc != 0) return 0;
    p += 256;
    n -= 256;
  }
  while (n > 0) {
    if (*p++ != 0) return 0;
    n--;
  }
  return 1;
}

void decode_batch(batch *j) {
  decoder *d = j->d;
  size_t out_len = j->out_len;
  /* Decode a piece at a time and scan it while it is still in the cache. */
  for (size_t piece_end = j->piece < out_len ? j->piece : out_len;;) {
    size_t in0 = j->in_pos, out0 = j->out_pos;
    int end;
    j->out_len = piece_end;
    int failed = step(j, &end);
    j->out_len = out_len;
    if (failed) return;
    int progress = j->in_pos != in0 || j->out_pos != out0;
    if (progress) {
      j->progress = 1;
      d->last_end = end;
    }
    int stop = (j->finish && end) || !progress || (j->in_pos == j->in_len && !j->finish);
    if (j->finish && end) j->ended = 1; /* everything is out; xz must not be called again */
    if (j->out_pos == piece_end || stop) {
      size_t at = (piece_end - 1) / j->piece * j->piece; /* where this piece starts */
      if (j->out_pos > at) j->zero[at / j->piece] = (uint8_t)all_zero(j->out + at, j->out_pos - at);
      if (at == 0 && j->out_pos > 0 && j->zero[0] && j->skipped + j->out_pos <= j->skip_limit) {
        j->skipped += j->out_pos; /* leading zeros: counted, and the piece is decoded over again */
        j->out_pos = 0;
      }
    }
    if (stop || j->out_pos == out_len) break;
    if (j->out_pos == piece_end) piece_end = piece_end + j->piece < out_len ? piece_end + j->piece : out_len;
  }
}

