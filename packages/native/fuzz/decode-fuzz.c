/*
 * libFuzzer harness for the in-process decoders (native/decoders.c,
 * native/gzip-decoder.c), built with AddressSanitizer by tools/fuzz.mjs.
 * Input: [kind byte][feed byte][compressed data]. The kind byte picks zstd,
 * xz or gzip; the feed byte the size of the pieces the data is fed in
 * (a pipe's odd reads), each piece in a buffer of its own exact size, so
 * that reading a byte past it is caught. The output goes into batches as
 * the decoding thread makes them, with zero-piece marking and skipping.
 * Decoded output is capped, so that a small input that expands to
 * gigabytes does not stall the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../native/decoders-internal.h"

#define BATCH (64u << 10)
#define PIECE (4u << 10)
#define OUTPUT_CAP (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  static const char *const kinds[] = {"zstd", "xz", "gzip"};
  const char *kind = kinds[data[0] % 3];
  size_t feed = 1 + (size_t)data[1] * 37;
  data += 2;
  size -= 2;
  decoder d;
  memset(&d, 0, sizeof d);
  const char *code, *msg;
  if (decoder_init(&d, kind, 1, &code, &msg) != 0) return 0; /* the library is not there */
  uint8_t *out = malloc(BATCH);
  uint8_t zero[BATCH / PIECE];
  size_t total = 0, at = 0;
  uint8_t *piece = NULL;
  size_t piece_len = 0, piece_pos = 0;
  for (int rounds = 0; rounds < 1 << 20 && total < OUTPUT_CAP; rounds++) {
    if (piece_pos == piece_len && at < size) {
      free(piece);
      piece_len = size - at < feed ? size - at : feed;
      piece = malloc(piece_len);
      memcpy(piece, data + at, piece_len);
      at += piece_len;
      piece_pos = 0;
    }
    int last = at == size;
    memset(zero, 0, sizeof zero);
    batch b = {.d = &d, .in = piece, .in_len = piece_len, .in_pos = piece_pos, .out = out, .out_len = BATCH,
               .piece = PIECE, .zero = zero, .finish = last && piece_pos == piece_len, .skip_limit = 1u << 20};
    static uint8_t nothing[1];
    if (b.in == NULL) b.in = nothing;
    decode_batch(&b);
    piece_pos = b.in_pos;
    total += b.out_pos + b.skipped;
    /* what the thread does with a batch: read its bytes (ASan checks they were written) */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < b.out_pos; i += 512) sink ^= out[i];
    (void)sink;
    if (b.error != NULL || b.ended) break;
    if (!b.progress && last && piece_pos == piece_len) break;
  }
  free(piece);
  free(out);
  decoder_release(&d);
  return 0;
}
