/* Shared by decoders.c (opening, closing, decoding a batch), gzip-decoder.c and decoder-thread.c (the thread that runs the batches); no N-API in it (decoders-napi.h has that). */
#ifndef BMAPKIT_DECODERS_INTERNAL_H
#define BMAPKIT_DECODERS_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "lzma-api.h"

enum kind { KIND_ZSTD, KIND_XZ, KIND_GZIP };
typedef struct decoder_thread decoder_thread;

typedef struct {
  enum kind kind;
  void *zds;
  xz_stream strm;
  int open;
  int last_end;
  void *gz; /* gzip: the z_stream (gzip-decoder.c) */
  int gz_ended; /* gzip: a member ended; padding or the next member follows */
  decoder_thread *thread; /* decoderStart's thread, while it runs */
} decoder;

/* One batch: decode from in[in_pos..] into out[out_pos..out_len). */
typedef struct {
  decoder *d;
  uint8_t *in, *out, *zero;
  size_t in_len, in_pos, out_len, out_pos, piece, skip_limit, skipped;
  int finish, ended, progress;
  const char *error_code, *error;
} batch;

/*
 * Decodes a piece at a time until the output is full, the input is used up,
 * or (finish) the data ends; marks zero[i] for each all-zero piece; while
 * the first piece is zeros and skip_limit allows, counts it in `skipped`
 * and decodes over it again. On failure sets error_code and error.
 */
void decode_batch(batch *b);

/* gzip-decoder.c: 0, -1 when zlib cannot be found, -2 out of memory. */
int gzip_open(decoder *d);
void gzip_close(decoder *d);
/* One inflate call, as step() in decoders.c; returns 0, or -1 with b->error set. */
int gzip_step(batch *b, int *end);

/* decoders.c: set up (0, or -1 with *code and *msg) and free a decoder's library state. */
int decoder_init(decoder *d, const char *kind, unsigned threads, const char **code, const char **msg);
void decoder_release(decoder *d);
#endif
