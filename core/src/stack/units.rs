//! Units of the stack file: sizes (`64MiB`, `1.5GB`), CPUs (`0.5`), durations (`2s`).
