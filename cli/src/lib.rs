//! The `quai` command line as a library: [`run`] parses arguments, calls quai-core and
//! writes to the [`Io`] it is given, so that tests run it in-process and compare output.

pub mod args;
pub mod colour;
pub mod planfile;
pub mod progress;
pub mod stack_file;
pub mod table;
pub mod template;
