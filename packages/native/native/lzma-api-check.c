/* Compiled only by test/lzma-api.test.ts where lzma.h exists: lzma-api.h must lay out its structs and values exactly as liblzma does. */
#include <lzma.h>
#include "lzma-api.h"
#define SAME(a, b) _Static_assert((long)(a) == (long)(b), #a " != " #b)
#define FIELD(T, U, f, g) SAME(offsetof(T, f), offsetof(U, g)); SAME(sizeof(((T *)0)->f), sizeof(((U *)0)->g))
SAME(sizeof(xz_stream), sizeof(lzma_stream));
FIELD(xz_stream, lzma_stream, next_in, next_in);
FIELD(xz_stream, lzma_stream, avail_in, avail_in);
FIELD(xz_stream, lzma_stream, total_in, total_in);
FIELD(xz_stream, lzma_stream, next_out, next_out);
FIELD(xz_stream, lzma_stream, avail_out, avail_out);
FIELD(xz_stream, lzma_stream, total_out, total_out);
FIELD(xz_stream, lzma_stream, allocator, allocator);
FIELD(xz_stream, lzma_stream, internal, internal);
FIELD(xz_stream, lzma_stream, seek_pos, seek_pos);
FIELD(xz_stream, lzma_stream, reserved_enum2, reserved_enum2);
SAME(sizeof(xz_mt), sizeof(lzma_mt));
FIELD(xz_mt, lzma_mt, flags, flags);
FIELD(xz_mt, lzma_mt, threads, threads);
FIELD(xz_mt, lzma_mt, block_size, block_size);
FIELD(xz_mt, lzma_mt, timeout, timeout);
FIELD(xz_mt, lzma_mt, preset, preset);
FIELD(xz_mt, lzma_mt, filters, filters);
FIELD(xz_mt, lzma_mt, check, check);
FIELD(xz_mt, lzma_mt, memlimit_threading, memlimit_threading);
FIELD(xz_mt, lzma_mt, memlimit_stop, memlimit_stop);
FIELD(xz_mt, lzma_mt, reserved_ptr[3], reserved_ptr4);
SAME(XZ_OK, LZMA_OK);
SAME(XZ_STREAM_END, LZMA_STREAM_END);
SAME(XZ_MEM_ERROR, LZMA_MEM_ERROR);
SAME(XZ_MEMLIMIT_ERROR, LZMA_MEMLIMIT_ERROR);
SAME(XZ_FORMAT_ERROR, LZMA_FORMAT_ERROR);
SAME(XZ_OPTIONS_ERROR, LZMA_OPTIONS_ERROR);
SAME(XZ_DATA_ERROR, LZMA_DATA_ERROR);
SAME(XZ_BUF_ERROR, LZMA_BUF_ERROR);
SAME(XZ_RUN, LZMA_RUN);
SAME(XZ_FINISH, LZMA_FINISH);
SAME(XZ_CONCATENATED, LZMA_CONCATENATED);
int main(void) { return 0; }
