#ifndef CYAML_H
#define CYAML_H
// Thin shim over the system libyaml (Debian: libyaml-dev, pkg-config yaml-0.1).
// Swift reads yaml_event_t's unions directly; the helpers below only exist where a
// C macro or an awkward signature would otherwise leak into Swift.
#include <yaml.h>
#include <stddef.h>

/// Initializes `parser` to read `size` bytes at `input` (not copied: the caller keeps them alive).
int cyaml_parser_open(yaml_parser_t *parser, const unsigned char *input, size_t size);

/// libyaml's version string, for diagnostics ("0.2.5").
const char *cyaml_version(void);
#endif
