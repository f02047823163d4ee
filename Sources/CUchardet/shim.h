// uchardet (Debian's libuchardet, the encoding detector of Mozilla's universalchardet): which
// legacy encoding a text file that is not UTF-8 is in. No macros or variadics to wrap.
#include <uchardet.h>
