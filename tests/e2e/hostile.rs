//! Hostile images through the real binary and library.
