/* FIEMAP without N-API (extents.c): used by the addon's fiemap() and by fuzz/fiemap-fuzz.c. */
#ifndef BMAPKIT_EXTENTS_H
#define BMAPKIT_EXTENTS_H
#include <stdint.h>

/*
 * Up to `max` extents of fd overlapping [start, start + length) as
 * [logical, length, flags] triples in *out (malloc'd; the caller frees it),
 * their number in *count. Returns 0, or an errno. `max` 0 asks for none
 * (the kernel would only count them): *count is 0.
 */
int fiemap_extents(int fd, uint64_t start, uint64_t length, uint32_t max, int sync, double **out, uint32_t *count);
#endif
