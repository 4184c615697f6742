#ifndef CMALLOCTUNING_H
#define CMALLOCTUNING_H
// Sets glibc malloc's top pad for one-shot commands before any thread starts (tuning.c).

/// The top pad one-shot commands get: 64 MiB, the size of one glibc heap.
#define PATTERN_MALLOC_TOP_PAD (64 << 20)

/// 1 when the command in argv[1..<argc] runs once and exits (every command but `controller`;
/// options before the command are skipped, `--color` with its value), else 0.
int pattern_malloc_pads_heaps(int argc, const char *const *argv);

/// 1 when the constructor set the top pad for this process, else 0.
int pattern_malloc_top_pad_set(void);

#endif
