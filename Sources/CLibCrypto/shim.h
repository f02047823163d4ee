// The EVP digest API (SHA-256 of uploads while they are written) and the one-shot HMAC
// (SigV4 request signing).
#include <openssl/evp.h>
#include <openssl/hmac.h>
