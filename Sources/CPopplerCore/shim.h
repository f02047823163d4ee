// poppler's core library (Debian libpoppler-private-dev): only its include path and link flags
// reach CPopplerText, which compiles against it in C++; Swift imports nothing from here.
