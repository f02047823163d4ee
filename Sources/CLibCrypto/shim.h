// Only the EVP digest API (SHA-256 of uploads while they are written).
#include <openssl/evp.h>
