/* Small portability helpers shared by every file. */
#ifndef SOCKCTL_COMPAT_H
#define SOCKCTL_COMPAT_H

/* Marks a deliberate fall-through between switch labels (gcc accepts a
 * comment, clang wants the attribute). */
#if defined(__GNUC__) && __GNUC__ >= 7 || defined(__clang__)
#define FALLTHROUGH __attribute__((fallthrough))
#else
#define FALLTHROUGH ((void)0)
#endif

#endif
