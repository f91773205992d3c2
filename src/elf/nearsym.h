/* Naming an address inside an ELF object for a person: the symbol that
 * contains it, or the nearest one below it, as "name+0xoff". */
#ifndef SS_ELF_NEARSYM_H
#define SS_ELF_NEARSYM_H

#include <stddef.h>
#include <stdint.h>

#include "elf/elffile.h"

/* Look in .symtab and .dynsym for link-time address vaddr; without a
 * symbol in the same section below it, name the section instead
 * (".data.rel.ro+0x10").  Returns 0 with buf filled, or -1. */
int elf_nearest_symbol(struct elf_file *f, uint64_t vaddr, char *buf,
		       size_t len);

#endif
