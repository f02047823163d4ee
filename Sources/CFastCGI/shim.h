// libfcgi has no pkg-config file with Cflags; its headers live in /usr/include.
#include <fcgiapp.h>
