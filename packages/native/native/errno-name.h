/* The errno's name ("EIO"), as Node's error codes (bmapkit.c). */
#ifndef BMAPKIT_ERRNO_NAME_H
#define BMAPKIT_ERRNO_NAME_H
const char *errno_name(int e);
#endif
