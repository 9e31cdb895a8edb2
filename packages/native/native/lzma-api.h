/*
 * The part of liblzma's stable ABI (liblzma.so.5) the xz decoder uses,
 * declared here so that the addon always has xz, whether or not lzma.h is
 * installed where it is built: the library itself is opened with dlopen at
 * first use (decoders.c). Layouts as in xz-utils 5.4's lzma/base.h and
 * lzma/container.h; test/lzma-api.test.ts compiles lzma-api-check.c against
 * the real header where there is one and compares sizes and offsets.
 */
#ifndef BMAPKIT_LZMA_API_H
#define BMAPKIT_LZMA_API_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
  XZ_OK = 0,
  XZ_STREAM_END = 1,
  XZ_MEM_ERROR = 5,
  XZ_MEMLIMIT_ERROR = 6,
  XZ_FORMAT_ERROR = 7,
  XZ_OPTIONS_ERROR = 8,
  XZ_DATA_ERROR = 9,
  XZ_BUF_ERROR = 10,
} xz_ret;

typedef enum { XZ_RUN = 0, XZ_FINISH = 3 } xz_action;

#define XZ_CONCATENATED UINT32_C(0x08)

typedef struct {
  const uint8_t *next_in;
  size_t avail_in;
  uint64_t total_in;
  uint8_t *next_out;
  size_t avail_out;
  uint64_t total_out;
  const void *allocator;
  void *internal;
  void *reserved_ptr[4];
  uint64_t seek_pos;
  uint64_t reserved_int2;
  size_t reserved_int3;
  size_t reserved_int4;
  int reserved_enum1;
  int reserved_enum2;
} xz_stream;

typedef struct {
  uint32_t flags;
  uint32_t threads;
  uint64_t block_size;
  uint32_t timeout;
  uint32_t preset;
  const void *filters;
  int check;
  int reserved_enum[3];
  uint32_t reserved_int[4];
  uint64_t memlimit_threading; /* 5.4+ (lzma_stream_decoder_mt) */
  uint64_t memlimit_stop;
  uint64_t reserved_int7;
  uint64_t reserved_int8;
  void *reserved_ptr[4];
} xz_mt;
#endif
