/* Note types of Linux core files that older <elf.h> lack; the one
 * definition both the core reader and the core writer use. */
#ifndef SS_TARGET_CORENOTES_H
#define SS_TARGET_CORENOTES_H

#include <elf.h>

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif

#endif
