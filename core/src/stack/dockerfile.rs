//! The Dockerfile parser: FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, CMD,
//! ENTRYPOINT, EXPOSE, LABEL, VOLUME; shell and JSON forms; `\` continuations;
//! comments. Errors name the line.

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

/// One instruction, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub line: usize,
}
