#include "CYAML.h"

int cyaml_parser_open(yaml_parser_t *parser, const unsigned char *input, size_t size) {
    if (!yaml_parser_initialize(parser)) return 0;
    yaml_parser_set_input_string(parser, input, size);
    yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING);
    return 1;
}

const char *cyaml_version(void) { return yaml_get_version_string(); }
