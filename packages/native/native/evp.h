/* The part of OpenSSL's EVP interface bmapkit uses, from the OpenSSL inside
 * Node, found with dlsym at first use (digest.c): no headers, no link-time
 * dependency; a Node without those symbols just makes load_evp() fail. */
#ifndef BMAPKIT_EVP_H
#define BMAPKIT_EVP_H
#include <node_api.h>
#include <stddef.h>

#define EVP_MAX_MD_SIZE 64
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;
struct evp_api {
  int tried, ok;
  const EVP_MD *(*get_digestbyname)(const char *);
  EVP_MD_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_MD_CTX *);
  int (*init)(EVP_MD_CTX *, const EVP_MD *, void *);
  int (*update)(EVP_MD_CTX *, const void *, size_t);
  int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
};
extern struct evp_api evp;
int load_evp(void);
/* The digest named by a JS string ("sha256"), or NULL (unknown, or no OpenSSL). */
const EVP_MD *digest_named(napi_env env, napi_value name);
/* Lowercase hex of n bytes into out (2n+1 chars). */
void to_hex(const unsigned char *md, unsigned int n, char *out);
#endif
