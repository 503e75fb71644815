// Always-on assertions for our own invariants.
//
// A broken invariant is a bug in Synod, never an operating error: SYNOD_CHECK logs the
// failed condition with its file and line and aborts. Operating errors (bad input, disk,
// network) travel as Status instead (see status.h). One fact per check.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SYNOD_CHECK(cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: SYNOD_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
